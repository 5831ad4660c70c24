"""Hostile or wrong files: refused with a reason, never a crash or a stuck job."""

import io
import zipfile

import pytest

from leads.imports.models import ImportJob
from leads.models import Lead
from tests.imports.conftest import csv_bytes, upload, upload_file, xlsx_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


@pytest.mark.parametrize(
    ("content", "name"),
    [(PNG, "leads.csv"), (PDF, "leads.csv"), (b"", "leads.csv"), (b"PK\x03\x04junk", "a.xlsx")],
    ids=["png-renamed", "pdf-renamed", "empty", "broken-zip"],
)
def test_not_a_spreadsheet_is_a_400_and_nothing_is_stored(admin_client, org, content, name):
    response = upload_file(admin_client, content, name)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "leads_file" in body["fields"]
    assert not ImportJob.objects.for_org(org).exists()


def test_file_over_the_size_limit_is_413(admin_client, org, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    content = csv_bytes([["first_name", "last_name"]] + [["Ada", "Lovelace"]] * 200)

    response = upload_file(admin_client, content)

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not ImportJob.objects.for_org(org).exists()


def test_missing_file_field_is_400(admin_client):
    response = admin_client.post("/api/leads/upload/", {}, format="multipart")
    assert response.status_code == 400
    assert "leads_file" in response.json()["fields"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_xlsx_is_refused_before_parsing(admin_client, org):
    # 64 MB of one byte compresses ~1000:1: a small file that would inflate absurdly.
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"0" * (64 << 20)})
    assert len(bomb) < 200_000

    response = upload_file(admin_client, bomb, "leads.xlsx")

    assert response.status_code == 400
    assert "compressed" in response.json()["fields"]["leads_file"][0]
    assert not ImportJob.objects.for_org(org).exists()


def test_xlsx_over_the_inflated_size_limit_is_refused(admin_client, settings):
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 10_000
    content = xlsx_bytes([["first_name", "last_name"]] + [["Ada", "Lovelace"]] * 500)

    response = upload_file(admin_client, content, "leads.xlsx")

    assert response.status_code == 400
    assert "inflates" in response.json()["fields"]["leads_file"][0]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>first_name</t></is></c>
<c r="B1" t="inlineStr"><is><t>last_name</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c>
<c r="B2" t="inlineStr"><is><t>x</t></is></c></row>
</sheetData></worksheet>"""


def _with_part(xlsx: bytes, part: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            out.writestr(member, data if member.filename == part else source.read(member))
    return buffer.getvalue()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_billion_laughs_xlsx_is_refused(admin_client, org, part):
    valid = xlsx_bytes([["first_name", "last_name"], ["Ada", "Lovelace"]])
    hostile = _with_part(valid, part, BILLION_LAUGHS)

    response = upload_file(admin_client, hostile, "leads.xlsx")

    assert response.status_code in (201, 202)
    job = admin_client.get(f"/api/leads/upload/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["errors"][0]["field"] == "leads_file" and job["errors"][0]["row"] is None
    assert "XML entities" in job["errors"][0]["message"]
    assert Lead.objects.for_org(org).count() == 0


def test_sixteen_thousand_columns_fail_the_job_with_a_reason(admin_client, org):
    header = ["first_name", "last_name"] + [f"c{n}" for n in range(16_000)]
    content = csv_bytes([header, ["Ada", "Lovelace"] + ["x"] * 16_000])

    job = upload(admin_client, content)

    assert job["status"] == "failed"
    assert "columns" in job["errors"][0]["message"]
    assert Lead.objects.for_org(org).count() == 0


def test_sixteen_thousand_columns_xlsx_fail_the_job(admin_client, org):
    content = xlsx_bytes([["first_name", "last_name"] + [f"c{n}" for n in range(16_000)]])

    job = upload(admin_client, content, name="wide.xlsx")

    assert job["status"] == "failed" and "columns" in job["errors"][0]["message"]


def test_ten_megabyte_cell_fails_the_job_with_a_reason(admin_client, org):
    content = csv_bytes(
        [["first_name", "last_name", "description"], ["Ada", "L", "x" * (10 << 20)]]
    )

    job = upload(admin_client, content)

    assert job["status"] == "failed"
    assert "longer than" in job["errors"][0]["message"]
    assert Lead.objects.for_org(org).count() == 0


def test_too_many_rows_fail_the_whole_file_before_writing(admin_client, org, settings):
    settings.IMPORT_MAX_ROWS = 3
    content = csv_bytes([["first_name", "last_name"]] + [["A", str(n)] for n in range(5)])

    job = upload(admin_client, content)

    assert job["status"] == "failed" and "more than 3" in job["errors"][0]["message"]
    assert (job["imported_count"], job["failed_count"], job["duplicate_count"]) == (0, 0, 0)
    assert Lead.objects.for_org(org).count() == 0


def test_missing_required_columns_fail_the_file(admin_client, org):
    job = upload(admin_client, csv_bytes([["company", "email"], ["Acme", "a@example.com"]]))

    assert job["status"] == "failed"
    assert "first_name" in job["errors"][0]["message"]


def test_header_only_file_succeeds_with_zero_rows(admin_client):
    job = upload(admin_client, csv_bytes([["first_name", "last_name"]]))

    assert job["status"] == "success"
    assert job["progress"] == {"rows_processed": 0, "total_rows": 0, "percent": 100.0}


def test_overlong_values_fail_the_row_not_the_chunk(admin_client, org):
    rows = [["first_name", "last_name"], ["A" * 300, "B"], ["Ada", "Lovelace"]]

    job = upload(admin_client, csv_bytes(rows))

    assert (job["imported_count"], job["failed_count"]) == (1, 1)
    assert job["errors"][0]["field"] == "first_name"


def test_nul_bytes_deep_in_a_csv_are_dropped_not_fatal(admin_client, org):
    filler = [["Filler", str(n)] for n in range(8000)]  # past the 64 KB sniffed at upload
    content = csv_bytes([["first_name", "last_name"], *filler, ["Ada\x00", "Love\x00lace"]])

    job = upload(admin_client, content)

    assert job["status"] == "success" and job["imported_count"] == 8001
    assert Lead.objects.for_org(org).filter(first_name="Ada", last_name="Lovelace").exists()
