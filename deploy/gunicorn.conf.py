"""gunicorn settings for production (the Dockerfile and docker-compose.yml use this file).

Threaded workers (gthread), a few requests at a time each: they are only safe behind a
buffering proxy (deploy/nginx), which reads a request whole before passing it on and takes
the answer at once, so a slow client never holds a thread. Command-line flags override
anything here (`gunicorn -c deploy/gunicorn.conf.py --workers 5`), as does GUNICORN_CMD_ARGS.
"""

wsgi_app = "crm.wsgi:application"
bind = "0.0.0.0:8000"
# Not sync workers: a sync worker cannot tell the arbiter it is alive while it answers, so
# a response that streams for longer than `timeout` (a large export: a minute or more for
# a million leads) would be killed half-way, the client left with a truncated file.
worker_class = "gthread"
threads = 4
# Two per core is the usual start for a database-bound app; raise with --workers.
workers = 3
# A worker process whose main loop stops answering for this many seconds (hung, not busy:
# its threads serve requests) is killed and replaced. Runaway SQL is ended by the
# database's statement timeout (DATABASE_STATEMENT_TIMEOUT_MS).
timeout = 30
# On SIGTERM, workers finish the request in hand for up to this long before being killed;
# docker-compose.yml's stop_grace_period leaves room for it.
graceful_timeout = 25
# Workers are not replaced after a number of requests (max_requests): a worker being
# replaced gives the responses it is streaming `graceful_timeout` to end, then is killed,
# and an export still streaming reaches its client as a 200 with a truncated file.
accesslog = "-"
# The proxy's own log has the client's address; this one shows what the app answered.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# gunicorn's runtime control socket (gunicornc) is not used; without it, several servers on
# one machine (tests, CI) do not compete for the same socket path in the home directory.
control_socket_disable = True
