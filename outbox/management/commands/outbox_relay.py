"""The relay: publishes the outbox's pending messages and runs the periodic upkeep
(RELAY_PERIODIC: healing stuck import jobs, removing expired files and messages).

One long-running process per deployment is enough; more are safe (rows are locked and
skipped). SIGTERM/SIGINT stop it between two rounds."""

import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection
from django.utils.module_loading import import_string

from outbox.services import outbox_relay_once

logger = logging.getLogger("outbox.relay")


class Command(BaseCommand):
    help = "Publish pending outbox messages and run the periodic upkeep, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round, then exit.")

    def handle(self, *args, once=False, **options):
        self.stopping = False
        if not once:
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        periodic = [
            (import_string(path), float(seconds))
            for path, seconds in settings.RELAY_PERIODIC.items()
        ]
        last_run = [float("-inf")] * len(periodic)
        failing = False
        while not self.stopping:
            try:
                outbox_relay_once()
                now = time.monotonic()
                for index, (job, every) in enumerate(periodic):
                    if once or now - last_run[index] >= every:
                        job()
                        last_run[index] = now
                if failing:
                    logger.info("Database reachable again; relay resumed.")
                failing = False
            except DatabaseError as error:
                # One line per outage, not one traceback per round.
                if not failing:
                    logger.warning("Database unavailable (%s); relay retrying.", error)
                failing = True
                connection.close()
            close_old_connections()
            if once:
                break
            time.sleep(settings.OUTBOX_RELAY_INTERVAL_SECONDS)

    def _stop(self, signum, frame):
        self.stopping = True
