"""Lead list, search, export and write benchmark at 10k, 100k and 1M leads:
`python -m bench lists` (PostgreSQL only).

Seeds three organizations of realistic leads (names, e-mails, phones, cities, sources,
statuses, one assignee and up to two tags each) straight into PostgreSQL with COPY (the
indexes are dropped for the load and rebuilt after it), serves the API with gunicorn (two
workers, persistent connections), and times each request from one sequential client:
p50 and p95 of BENCH_LISTS_SAMPLES samples, the queries the request runs (counted
in-process on the same data), and the 1M/10k ratio of the medians. Then exports the
largest organization as CSV (against PostgreSQL's own COPY of the same rows and columns,
with the web worker's peak memory) and, unless BENCH_LISTS_XLSX=0, as XLSX.

Environment: BENCH_LISTS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
crm_scale_bench; created here, dropped at the end unless BENCH_LISTS_KEEP=1, which also
reuses an already seeded database), BENCH_LISTS_SIZES (default 10000,100000,1000000),
BENCH_LISTS_SAMPLES (default 30), BENCH_LISTS_PARTS (default requests,export),
BENCH_LISTS_REQUESTS (comma-separated parts of request labels: only those requests are
timed; default all), BENCH_LISTS_SEED_ONLY=1 (seed, then stop). Every loop is bounded.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from bench.database import ensure_postgres_database
from bench.server import gunicorn

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_LISTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_scale_bench"
)
SIZES = [int(n) for n in os.environ.get("BENCH_LISTS_SIZES", "10000,100000,1000000").split(",")]
SAMPLES = int(os.environ.get("BENCH_LISTS_SAMPLES", "30"))
KEEP = os.environ.get("BENCH_LISTS_KEEP") == "1"
XLSX = os.environ.get("BENCH_LISTS_XLSX", "1") != "0"
ONLY = [part for part in os.environ.get("BENCH_LISTS_REQUESTS", "").split(",") if part]
USERS_PER_ORG = 25
TAGS_PER_ORG = 40

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Ana",
    "Li",
    "Wei",
    "Olga",
    "Ahmed",
    "Fatima",
    "Jose",
    "Maria",
    "Kenji",
    "Yuki",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
]
CITIES = [
    f"{name}{suffix}"
    for name in [
        "Spring",
        "Oak",
        "River",
        "Lake",
        "Hill",
        "Green",
        "Fair",
        "Glen",
        "Maple",
        "Cedar",
        "Pine",
        "Rose",
        "Stone",
        "Brook",
        "Ash",
    ]
    for suffix in (
        "field",
        "ville",
        "ton",
        " City",
        "wood",
        "port",
        "burg",
        "dale",
        " Falls",
        " Heights",
        "view",
        "ford",
        " Park",
        "mont",
    )
]
SOURCES = [
    "Website Form",
    "Cold Call",
    "Referral",
    "Trade Show",
    "Email Campaign",
    "Partner",
    "LinkedIn Ads",
    "Google Ads",
    "Webinar",
    "Conference 2025",
    "Newsletter",
    "Inbound Chat",
]
STATUSES = (
    ["assigned"] * 45
    + ["in process"] * 20
    + ["recycled"] * 5
    + ["closed"] * 20
    + ["converted"] * 10
)
TITLES = [
    "Enterprise inquiry",
    "Demo request",
    "Pricing question",
    "Renewal",
    "Partnership",
    "Support upgrade",
    "Trial follow-up",
    "RFP",
]
COMPANIES = [
    f"{a} {b}"
    for a in [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Stark",
        "Wayne",
        "Wonka",
        "Tyrell",
        "Cyberdyne",
        "Soylent",
        "Vandelay",
    ]
    for b in ("Corp", "Inc", "Labs", "Group", "Systems", "Partners")
]


def _env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_URL": DATABASE_URL,
        "DATABASE_CONN_MAX_AGE": "60",
        "JWT_ACCESS_MINUTES": "600",
        "CAPTURE_RATE_LIMIT_PER_KEY": "0",
        "CAPTURE_RATE_LIMIT_PER_ADDRESS": "0",
        "FAST_PASSWORD_HASHING": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


# --- seeding -------------------------------------------------------------------------


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _seed_org(cursor, size: int, rng: random.Random) -> dict:
    now = datetime.now(UTC)
    org_id = uuid.uuid4()
    cursor.execute(
        "INSERT INTO common_organization (id, name, default_phone_region, created_on) "
        "VALUES (%s, %s, 'US', now())",
        [str(org_id), f"Bench {size}"],
    )
    users = [uuid.uuid4() for _ in range(USERS_PER_ORG)]
    _copy(
        cursor,
        "common_user",
        [
            "id",
            "password",
            "is_superuser",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "date_joined",
        ],
        [
            (
                u,
                "!",
                "f",
                f"{u.hex[:12]}@bench.example",
                rng.choice(FIRST),
                rng.choice(LAST),
                "t",
                "f",
                now,
            )
            for u in users
        ],
    )
    _copy(
        cursor,
        "common_membership",
        ["id", "org_id", "user_id", "role", "is_active", "created_on"],
        [
            (uuid.uuid4(), org_id, u, "ADMIN" if i == 0 else "USER", "t", now)
            for i, u in enumerate(users)
        ],
    )
    tags = [uuid.uuid4() for _ in range(TAGS_PER_ORG)]
    _copy(
        cursor,
        "common_tag",
        ["id", "org_id", "name"],
        [(t, org_id, f"tag-{i:02d}") for i, t in enumerate(tags)],
    )
    batch = 100_000
    for start in range(0, size, batch):
        leads, assigned, tagged = [], [], []
        for n in range(start, min(size, start + batch)):
            lead = uuid.UUID(int=rng.getrandbits(128) | (4 << 76))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{n}@{rng.choice(COMPANIES).split()[0].lower()}.example"
            status = rng.choice(STATUSES)
            created = now - timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
            amount = None if rng.random() < 0.3 else rng.randrange(500, 200_000)
            leads.append(
                (
                    lead,
                    org_id,
                    "",
                    "",
                    rng.choice(CITIES),
                    "",
                    "",
                    "US",
                    rng.choice(TITLES),
                    first,
                    last,
                    email,
                    email.lower(),
                    f"+1415{rng.randrange(10**7):07d}",
                    status,
                    rng.choice(SOURCES),
                    rng.choice(COMPANIES),
                    "",
                    "",
                    amount,
                    created,
                    created,
                    created if status == "converted" else None,
                    rng.choice(users),
                )
            )
            assigned.append((lead, rng.choice(users)))
            for tag in rng.sample(tags, rng.choice((0, 1, 1, 2))):
                tagged.append((lead, tag))
        _copy(
            cursor,
            "leads_lead",
            [
                "id",
                "org_id",
                "address_line",
                "street",
                "city",
                "state",
                "postcode",
                "country",
                "title",
                "first_name",
                "last_name",
                "email",
                "email_normalized",
                "phone",
                "status",
                "source",
                "account_name",
                "website",
                "description",
                "opportunity_amount",
                "created_on",
                "updated_on",
                "converted_at",
                "created_by_id",
            ],
            leads,
        )
        _copy(cursor, "leads_lead_assigned_to", ["lead_id", "user_id"], assigned)
        _copy(cursor, "leads_lead_tags", ["lead_id", "tag_id"], tagged)
    return {"org": str(org_id), "admin": str(users[0]), "user": str(users[1]), "size": size}


def seed() -> list[dict]:
    import psycopg2

    connection = psycopg2.connect(DATABASE_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0; SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT name FROM common_organization WHERE name LIKE 'Bench %%'")
        if cursor.fetchall():
            raise RuntimeError("already seeded")
        tables = ("leads_lead", "leads_lead_assigned_to", "leads_lead_tags")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        rng = random.Random(14)
        orgs, started = [], time.perf_counter()
        cursor.execute("BEGIN")
        for size in SIZES:
            orgs.append(_seed_org(cursor, size, rng))
        cursor.execute("COMMIT")
        loaded = time.perf_counter() - started
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("VACUUM ANALYZE")
        print(
            f"seeded {sum(SIZES):,} leads with COPY in {loaded:.0f} s, indexes rebuilt and "
            f"analysed in {time.perf_counter() - started - loaded:.0f} s",
            flush=True,
        )
    connection.close()
    return orgs


def seeded_orgs() -> list[dict]:
    import psycopg2

    connection = psycopg2.connect(DATABASE_URL)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.name, m.user_id, m.role FROM common_organization o "
            "JOIN common_membership m ON m.org_id = o.id WHERE o.name LIKE 'Bench %%'"
        )
        found: dict = {}
        for org_id, name, user_id, role in cursor.fetchall():
            entry = found.setdefault(
                str(org_id), {"org": str(org_id), "size": int(name.split()[1])}
            )
            if role == "ADMIN":
                entry["admin"] = str(user_id)
            elif "user" not in entry or str(user_id) < entry["user"]:
                entry["user"] = str(user_id)
    connection.close()
    return sorted(found.values(), key=lambda entry: entry["size"])


# --- measuring -----------------------------------------------------------------------


class Client:
    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)

    def send(self, method, path, headers, body=None, sink=None):
        data = json.dumps(body).encode() if body is not None else None
        self.connection.request(
            method, path, body=data, headers={"Content-Type": "application/json", **headers}
        )
        response = self.connection.getresponse()
        if sink is None:
            payload = response.read()
        else:
            payload, size = b"", 0
            while chunk := response.read(1 << 16):
                size += len(chunk)
            sink.append(size)
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload and sink is None else None


def _tokens(orgs) -> None:
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    from capture.keys import api_key_create
    from common.models import Organization, User

    for entry in orgs:
        for role in ("admin", "user"):
            entry[f"{role}_token"] = str(AccessToken.for_user(User.objects.get(pk=entry[role])))
        org = Organization.objects.get(pk=entry["org"])
        _key, entry["apikey"] = api_key_create(
            org=org, by=None, name="bench", default_tags=["website"]
        )


def _requests(entry, client, headers):
    """(label, method, path, body, role) of every measured request of one organization."""
    size = entry["size"]
    deep = min(size // 2, 500_000)
    shallow = min(5000, size // 4)
    cursor_page = client.send("GET", f"/api/leads/?offset={deep}&limit=10", headers["admin"])[
        "next_cursor"
    ]
    lead = client.send("GET", "/api/leads/?limit=1", headers["admin"])["open_leads"][0]["id"]
    user_id = entry["user"]
    return [
        ("default list", "GET", "/api/leads/", None, "admin"),
        ("status + source", "GET", "/api/leads/?status=assigned&source=referral", None, "admin"),
        ("name filter", "GET", "/api/leads/?name=garcia", None, "admin"),
        ("city filter", "GET", "/api/leads/?city=maplevill", None, "admin"),
        ("title filter", "GET", "/api/leads/?title=renew", None, "admin"),
        ("e-mail filter", "GET", "/api/leads/?email=jessica.lee", None, "admin"),
        ("tag filter", "GET", "/api/leads/?tags=tag-07", None, "admin"),
        ("assigned_to filter", "GET", f"/api/leads/?assigned_to={user_id}", None, "admin"),
        ("search q", "GET", "/api/leads/?q=hooli%20lab", None, "admin"),
        ("ordering last_name", "GET", "/api/leads/?ordering=last_name", None, "admin"),
        ("ordering -amount", "GET", "/api/leads/?ordering=-opportunity_amount", None, "admin"),
        ("offset size/4 (<= 5,000)", "GET", f"/api/leads/?offset={shallow}", None, "admin"),
        ("offset size/2 (<= 500,000)", "GET", f"/api/leads/?offset={deep}", None, "admin"),
        ("cursor at size/2", "GET", f"/api/leads/?cursor={cursor_page}", None, "admin"),
        ("USER member's list", "GET", "/api/leads/", None, "user"),
        ("USER member's search", "GET", "/api/leads/?q=smith", None, "user"),
        ("detail", "GET", f"/api/leads/{lead}/", None, "admin"),
        (
            "create",
            "POST",
            "/api/leads/",
            {
                "first_name": "Bench",
                "last_name": "Create",
                "email": "bench@create.example",
                "tags": ["tag-01", "new-tag"],
                "assigned_to": [user_id],
            },
            "admin",
        ),
        (
            "PATCH",
            "PATCH",
            f"/api/leads/{lead}/",
            {"status": "in process", "city": "Oslo"},
            "admin",
        ),
        (
            "capture",
            "POST",
            f"/api/leads/create-from-site/?apikey={entry['apikey']}",
            {"first_name": "Site", "last_name": "Visitor", "email": "visitor@site.example"},
            None,
        ),
    ]


def _count_queries(method, path, body, token, org):
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient()
    headers = {"HTTP_ORGANIZATION_ID": org}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    # The request's own statements: an assignment e-mail is published for a worker, not run
    # here (in-process, its worker's queries would count as the request's).
    with (
        mock.patch("outbox.services._send", lambda message: None),
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.generic(
            method, path, json.dumps(body) if body else "", "application/json", **headers
        )
    assert response.status_code < 400, (path, response.status_code, response.content[:300])
    return len(
        [q for q in queries if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    )


def _measure(orgs, port) -> dict:
    client = Client(port)
    results: dict = {}
    for entry in orgs:
        headers = {
            "admin": {
                "Authorization": f"Bearer {entry['admin_token']}",
                "organization-id": entry["org"],
            },
            "user": {
                "Authorization": f"Bearer {entry['user_token']}",
                "organization-id": entry["org"],
            },
            None: {},
        }
        for label, method, path, body, role in _requests(entry, client, headers):
            if ONLY and not any(part in label for part in ONLY):
                continue
            for _ in range(3):  # warm-up
                client.send(method, path, headers[role], body)
            times = []
            for n in range(SAMPLES):
                payload = (
                    dict(body, email=f"b{n}-{time.monotonic_ns()}@x.example")
                    if body and "email" in body
                    else body
                )
                started = time.perf_counter()
                client.send(method, path, headers[role], payload)
                times.append((time.perf_counter() - started) * 1000)
            token = entry.get(f"{role}_token") if role else None
            queries = _count_queries(method, path, body, token, entry["org"])
            times.sort()
            results.setdefault(label.split(" at ")[0] if "cursor" in label else label, {})[
                entry["size"]
            ] = (
                statistics.median(times),
                times[max(0, int(len(times) * 0.95) - 1)],
                queries,
            )
            print(
                f"  {entry['size']:>9,} {label}: p50 {statistics.median(times):.1f} ms", flush=True
            )
    return results


def _print_table(results) -> None:
    sizes = [entry for entry in SIZES]
    head = " | ".join(f"{size:,} p50 / p95" for size in sizes)
    print(f"\n| request | {head} | queries | {sizes[-1]:,}/{sizes[0]:,} |")
    print("|---" * (len(sizes) + 3) + "|")
    for label, by_size in results.items():
        cells = [
            f"{by_size[s][0]:.1f} / {by_size[s][1]:.1f} ms" if s in by_size else "-" for s in sizes
        ]
        queries = sorted({value[2] for value in by_size.values()})
        ratio = by_size[sizes[-1]][0] / by_size[sizes[0]][0] if len(by_size) == len(sizes) else 0
        print(f"| {label} | {' | '.join(cells)} | {'/'.join(map(str, queries))} | {ratio:.2f} |")


def _peak_rss_kb(pids) -> int:
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        except OSError:
            pass
    return max(peaks or [0])


def _export(orgs, port, server_pid) -> None:
    import psycopg2

    entry = orgs[-1]
    headers = {"Authorization": f"Bearer {entry['admin_token']}", "organization-id": entry["org"]}
    workers = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(server_pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    # PostgreSQL's own COPY of the same rows and columns (the tags and assignees joined per
    # lead as the export does), read by a client that discards it.
    sql = f"""
        COPY (SELECT l.first_name, l.last_name, l.title, l.email, l.phone, l.status, l.source,
              l.account_name, l.website, l.description, l.opportunity_amount, l.address_line,
              l.street, l.city, l.state, l.postcode, l.country,
              (SELECT string_agg(t.name, ', ' ORDER BY t.name) FROM leads_lead_tags lt
                 JOIN common_tag t ON t.id = lt.tag_id WHERE lt.lead_id = l.id),
              (SELECT string_agg(u.email, ', ' ORDER BY u.email) FROM leads_lead_assigned_to la
                 JOIN common_user u ON u.id = la.user_id WHERE la.lead_id = l.id),
              l.created_on, l.id
            FROM leads_lead l WHERE l.org_id = '{entry["org"]}' AND l.status <> 'converted'
            ORDER BY l.created_on DESC, l.id DESC) TO STDOUT WITH CSV HEADER"""

    class Null(io.RawIOBase):
        size = 0

        def write(self, data):
            self.size += len(data)
            return len(data)

    connection = psycopg2.connect(DATABASE_URL)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        sink = Null()
        started = time.perf_counter()
        cursor.copy_expert(sql, sink)
        copy_seconds = time.perf_counter() - started
    connection.close()
    print(f"\nPostgreSQL COPY of the same rows: {copy_seconds:.1f} s, {sink.size / 1e6:.0f} MB")
    client = Client(port)
    before = _peak_rss_kb(workers)
    for kind in ("csv", "xlsx") if XLSX else ("csv",):
        sizes: list = []
        started = time.perf_counter()
        client.send("GET", f"/api/leads/export/?format={kind}", headers, sink=sizes)
        seconds = time.perf_counter() - started
        print(
            f"export {kind}: {seconds:.1f} s ({seconds / copy_seconds:.1f}x COPY), "
            f"{sizes[0] / 1e6:.0f} MB, web worker peak RSS {_peak_rss_kb(workers) / 1024:.0f} MB "
            f"(before the exports {before / 1024:.0f} MB)",
            flush=True,
        )


def main() -> None:
    if not DATABASE_URL.startswith("postgres"):
        print("bench.lists needs PostgreSQL (BENCH_LISTS_DATABASE_URL); skipped")
        return
    env = _env()
    os.environ.update(env)
    if not KEEP:
        _drop_database()
    ensure_postgres_database(DATABASE_URL)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    orgs = seeded_orgs() if KEEP else []
    if [entry["size"] for entry in orgs] != SIZES:
        orgs = seed() and seeded_orgs()
    if os.environ.get("BENCH_LISTS_SEED_ONLY") == "1":
        return
    _tokens(orgs)
    try:
        with gunicorn(env=env, workers=2, options=("--timeout", "600")) as (port, server):
            load = os.getloadavg()
            print(f"load average before measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            # BENCH_LISTS_PARTS=export skips the requests (for a second look at the exports).
            parts = os.environ.get("BENCH_LISTS_PARTS", "requests,export").split(",")
            if "requests" in parts:
                _print_table(_measure(orgs, port))
            if "export" in parts:
                _export(orgs, port, server.pid)
            load = os.getloadavg()
            print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        if not KEEP:
            from django.db import connections

            connections.close_all()
            _drop_database()


def _drop_database() -> None:
    import psycopg2
    from psycopg2 import sql

    name = DATABASE_URL.rsplit("/", 1)[1].split("?")[0]
    admin = psycopg2.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    admin.close()
