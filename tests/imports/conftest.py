import csv
import io
import zipfile
from xml.sax.saxutils import escape

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

UPLOAD_URL = "/api/leads/upload/"


#: Pieces of text that files, spreadsheets and COPY each treat specially: line breaks of
#: any kind, quotes, separators, COPY's NULL marker, control characters, formula triggers,
#: letters that change length in another case, emoji, invisible spaces.
ODD_PIECES = ["\r", "\n", "\r\n", "\t", "\x0b", "\x1f", "\x7f", "\u2028", "\u0085", '"',
              "'", ",", ";", "\\", "\\N", "=", "+", "-", "@", "é", "ß", "İ", "😀", "\u200b",
              " "]  # fmt: skip


def odd_text(rng) -> str:
    """A few of ODD_PIECES with letters between them, drawn from `rng` (random.Random)."""
    return "".join(rng.choice(ODD_PIECES) + rng.choice("ab") for _ in range(rng.randrange(1, 5)))


def csv_bytes(rows, *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def shared_strings_xlsx_bytes(rows: list[list[str]]) -> bytes:
    """A minimal workbook whose text cells point into xl/sharedStrings.xml, as Excel
    writes them (openpyxl writes inline strings). The strings are stored as given."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    kinds = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    content = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings = list(dict.fromkeys(value for row in rows for value in row))
    sheet_rows = "".join(
        f'<row r="{number}">'
        + "".join(
            f'<c r="{chr(65 + column)}{number}" t="s"><v>{strings.index(value)}</v></c>'
            for column, value in enumerate(row)
        )
        + "</row>"
        for number, row in enumerate(rows, start=1)
    )
    shared = "".join(f'<si><t xml:space="preserve">{escape(value)}</t></si>' for value in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{content}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{content}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{content}.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{kinds}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{kinds}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{kinds}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{kinds}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{sheet_rows}</sheetData></worksheet>'
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">{shared}</sst>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
    return buffer.getvalue()


def upload_file(client, content: bytes, name="leads.csv", **data):
    """POST the file and run the queued task (the test's transaction never commits)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            UPLOAD_URL,
            {"leads_file": SimpleUploadedFile(name, content), **data},
            format="multipart",
        )
    return response


def upload(client, content: bytes, name="leads.csv", **data) -> dict:
    response = upload_file(client, content, name, **data)
    assert response.status_code in (201, 202), response.content
    job = client.get(f"{UPLOAD_URL}{response.json()['id']}/")
    assert job.status_code == 200
    return job.json()
