import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

UPLOAD_URL = "/api/leads/upload/"


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
