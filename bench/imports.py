"""Bulk lead import against PostgreSQL COPY of the same file into the same table.

`python -m bench imports`. Needs PostgreSQL: DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bench_imports; the database is created and migrated
here). BENCH_IMPORT_ROWS (default 1,000,000) sizes the CSV, BENCH_IMPORT_XLSX_ROWS
(default 100,000) the workbook, BENCH_IMPORT_RUNS (default 1) how many runs the medians
are taken over. Each import runs in a fresh Python process, like a worker, so its peak
memory (VmHWM) is the import's own.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.database import ensure_postgres_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_imports"
HEADER = [
    "First Name",
    "Last Name",
    "E-mail",
    "Phone",
    "Company",
    "Title",
    "Status",
    "Source",
    "City",
    "State",
    "Zip",
    "Country",
    "Amount",
    "Tags",
    "Description",
]
# Where COPY puts each file column (the tags cell has no column of its own: COPY cannot
# write a many-to-many, so it lands in `street` to keep the byte volume the same). Column
# defaults supply what the import also writes: id, organization, creator, timestamps.
COPY_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "account_name",
    "title",
    "status",
    "source",
    "city",
    "state",
    "postcode",
    "country",
    "opportunity_amount",
    "street",
    "description",
]
_FIRST = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Zoë", "José", "Anaïs", "Bjørn", "Mei"]
_LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Müller", "García", "Ødegaard"]
_STATUSES = ["assigned", "In Process", "recycled", "closed", ""]
_SOURCES = ["Website Form", "cold call", "Referral", "Trade Show", "Partner portal"]
_CITIES = [("Dallas", "TX"), ("Seattle", "WA"), ("Boston", "MA"), ("Denver", "CO")]


def _rows(count: int, seed: int = 7):
    """Realistic rows: ~1% duplicate e-mails, ~1% invalid rows, varied phone formats."""
    rng = random.Random(seed)
    for n in range(count):
        city, state = _CITIES[n % len(_CITIES)]
        roll = rng.random()
        email = f"lead{n}@example{n % 97}.com"
        last = _LAST[n % len(_LAST)]
        status = _STATUSES[n % len(_STATUSES)]
        if roll < 0.01 and n:
            email = f"LEAD{n - 1}@example{(n - 1) % 97}.com"  # duplicate, other case
        elif roll < 0.015:
            email = "not-an-email"
        elif roll < 0.02:
            status = "won"
        phone = f"(415) 555-{n % 10000:04d}" if n % 3 == 0 else f"+44 20 7946 {n % 10000:04d}"
        yield [
            _FIRST[n % len(_FIRST)],
            last,
            email,
            phone,
            f"Company {n % 5000}",
            f"Inquiry {n}",
            status,
            _SOURCES[n % len(_SOURCES)],
            city,
            state,
            f"{75000 + n % 999}",
            "USA",
            f"{(n % 1000) * 100}.50" if n % 4 else "",
            "vip,trade show" if n % 10 == 0 else "",
            "Interested in the product demo",
        ]


def write_csv(path: Path, count: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(_rows(count))


def write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in _rows(count):
        sheet.append(row)
    workbook.save(path)
    _add_dimension(path, f"A1:{chr(ord('A') + len(HEADER) - 1)}{count + 1}")


def _add_dimension(path: Path, ref: str) -> None:
    """openpyxl's write-only mode omits <dimension>, which Excel always writes; without it
    openpyxl's reader scans the whole sheet once more just to look for it."""
    import zipfile

    patched = path.with_suffix(".tmp")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(
                    b"</sheetPr>", f'</sheetPr><dimension ref="{ref}"/>'.encode(), 1
                )
            out.writestr(member, data)
    patched.replace(path)


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()


def _reset_leads() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE leads_lead, leads_lead_tags, leads_lead_assigned_to, "
            "lead_imports_importissue, lead_imports_importjob CASCADE"
        )


def measure_copy(path: Path, org_id, user_id) -> tuple[float, float]:
    """COPY the file into leads_lead (defaults supply id, org and timestamps), including the
    foreign-key checks a commit would run, then undo."""
    from django.db import connection, transaction

    columns = ", ".join(COPY_COLUMNS)
    text_columns = ", ".join(c for c in COPY_COLUMNS if c != "opportunity_amount")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE leads_lead ALTER COLUMN id SET DEFAULT gen_random_uuid(), "
                "ALTER COLUMN org_id SET DEFAULT %s::uuid, "
                "ALTER COLUMN created_by_id SET DEFAULT %s::uuid, "
                "ALTER COLUMN created_on SET DEFAULT now(), "
                "ALTER COLUMN updated_on SET DEFAULT now(), "
                "ALTER COLUMN email_normalized SET DEFAULT '', "
                "ALTER COLUMN website SET DEFAULT '', "
                "ALTER COLUMN address_line SET DEFAULT ''",
                [str(org_id), str(user_id)],
            )
            # One statement for the whole file: longer than a request may run.
            cursor.execute("SET LOCAL statement_timeout = 0")
            started = time.perf_counter()
            with open(path, encoding="utf-8") as handle:
                cursor.cursor.copy_expert(
                    f"COPY leads_lead ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"FORCE_NOT_NULL ({text_columns}))",
                    handle,
                )
            rows_only = time.perf_counter() - started
            # The foreign keys are deferred to commit: run those checks now, inside the timed
            # window, so the reference is a complete load (the import pays them too).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            complete = time.perf_counter() - started
        transaction.set_rollback(True)
    return complete, rows_only


def _child(code: str) -> dict:
    """Run `code` in a fresh interpreter (like a worker process); it prints one JSON line."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=3600,
        env=os.environ.copy(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


# A process's own peak memory. Not ru_maxrss: Linux carries it over an exec, so a child of
# this (large) bench process would report the bench's own size as its peak.
_PEAK_CODE = """
import resource
def peak_kb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_IMPORT_CODE = (
    _PEAK_CODE
    + """
import json, os, time
import django
django.setup()
from leads.imports.services import import_job_run
started = time.perf_counter()
job = import_job_run(job_id={job_id!r})
elapsed = time.perf_counter() - started
times = os.times()
cpu = times.user + times.system + times.children_user + times.children_system
print(json.dumps({{"seconds": elapsed, "peak_kb": peak_kb(), "cpu_seconds": cpu,
  "status": job.status, "imported": job.imported_count, "failed": job.failed_count,
  "duplicates": job.duplicate_count, "rows": job.rows_done, "reason": job.failure_reason}}))
"""
)

_READ_XLSX_CODE = (
    _PEAK_CODE
    + """
import json, time
from openpyxl import load_workbook
started = time.perf_counter()
workbook = load_workbook({path!r}, read_only=True, data_only=True)
rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
workbook.close()
print(json.dumps({{"seconds": time.perf_counter() - started, "rows": rows,
  "peak_kb": peak_kb()}}))
"""
)


def run_import(path: Path, org, user, kind: str) -> dict:
    from django.core.files import File

    from leads.imports.models import ImportJob

    _reset_leads()
    job = ImportJob(org=org, created_by=user, file_name=path.name, file_kind=kind)
    with open(path, "rb") as handle:
        job.file.save(path.name, File(handle), save=False)
    job.save()
    result = _child(_IMPORT_CODE.format(job_id=str(job.pk)))
    if result["status"] != "success":
        raise RuntimeError(f"import failed: {result}")
    return result


def main() -> None:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))
    xlsx_rows = int(os.environ.get("BENCH_IMPORT_XLSX_ROWS", "100000"))
    runs = max(1, int(os.environ.get("BENCH_IMPORT_RUNS", "1")))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        database_url = DEFAULT_DATABASE_URL
    workdir = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    ensure_postgres_database(database_url)
    _setup_django(database_url)
    from django.core.management import call_command

    from common.models import Membership, Organization, Role, User

    call_command("migrate", verbosity=0, interactive=False)
    org = Organization.objects.create(name="Bench imports")
    user = User.objects.create_user(f"bench-{org.pk}@example.com", "bench-password")
    Membership.objects.create(org=org, user=user, role=Role.ADMIN)
    try:
        csv_path = workdir / "leads.csv"
        write_csv(csv_path, rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"CSV: {rows} rows, {size_mb:.1f} MB, {runs} run(s) each", flush=True)
        copy_times, copy_rows_only, import_results = [], [], []
        for _ in range(runs):
            _reset_leads()
            complete, rows_only = measure_copy(csv_path, org.pk, user.pk)
            copy_times.append(complete)
            copy_rows_only.append(rows_only)
            import_results.append(run_import(csv_path, org, user, "csv"))
        copy_s = statistics.median(copy_times)
        rows_only_s = statistics.median(copy_rows_only)
        import_s = statistics.median(r["seconds"] for r in import_results)
        peak_mb = max(r["peak_kb"] for r in import_results) / 1024
        last = import_results[-1]
        print(f"  COPY into leads_lead:  {copy_s:8.2f} s  ({rows / copy_s:,.0f} rows/s)")
        print(f"    of which the rows alone, before the deferred FK checks: {rows_only_s:.2f} s")
        print(f"  import (end to end):   {import_s:8.2f} s  ({rows / import_s:,.0f} rows/s)")
        total = last["imported"] + last["failed"] + last["duplicates"]
        print(
            f"  imported {last['imported']}, failed {last['failed']}, "
            f"duplicates {last['duplicates']} (sum {total}, rows {rows})"
        )
        print(f"  throughput ratio import/COPY: {copy_s / import_s:.3f} (target >= 0.2)")
        print(f"    against the rows-only COPY time: {rows_only_s / import_s:.3f}")
        print(f"  worker peak memory: {peak_mb:.0f} MB (target < 300)")

        xlsx_path = workdir / "leads.xlsx"
        write_xlsx(xlsx_path, xlsx_rows)
        reads, xlsx_results = [], []
        for _ in range(runs):
            reads.append(_child(_READ_XLSX_CODE.format(path=str(xlsx_path))))
            xlsx_results.append(run_import(xlsx_path, org, user, "xlsx"))
        read_s = statistics.median(r["seconds"] for r in reads)
        xlsx_s = statistics.median(r["seconds"] for r in xlsx_results)
        cpu_s = statistics.median(r["cpu_seconds"] for r in xlsx_results)
        print(f"XLSX: {xlsx_rows} rows")
        print(f"  openpyxl read alone:   {read_s:8.2f} s")
        print(f"  import (end to end):   {xlsx_s:8.2f} s")
        print(f"  time ratio import/read: {xlsx_s / read_s:.2f} (target <= 1.5)")
        # The reader runs in its own process: its share of the CPU is on a second core.
        print(f"  import CPU time, worker + reader process: {cpu_s:.2f} s")
        worker_mb = max(r["peak_kb"] for r in xlsx_results) / 1024
        reader_mb = max(r["peak_kb"] for r in reads) / 1024
        print(f"  worker peak memory: {worker_mb:.0f} MB (target < 300)")
        print(f"  reader peak memory (openpyxl read alone, as in its process): {reader_mb:.0f} MB")
    finally:
        _reset_leads()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
