"""Files as people really send them: encodings, delimiters, quoting, XLSX."""

import pytest

from leads.models import Lead
from tests.imports.conftest import csv_bytes, shared_strings_xlsx_bytes, upload, xlsx_bytes

HEADER = ["First Name", "Last Name", "E-mail", "Company", "Zip", "Favourite Colour"]
ROWS = [
    ["Zoë", "Müller", "zoe@example.com", "Café Crème", "75001", "Likes crêpes"],
    ["José", "García", "jose@example.com", "Niño SA", "28001", "Señor"],
]


def _names(org):
    return sorted(
        Lead.objects.for_org(org).values_list("first_name", "last_name", "account_name", "postcode")
    )


EXPECTED = sorted(
    [("Zoë", "Müller", "Café Crème", "75001"), ("José", "García", "Niño SA", "28001")]
)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(csv_bytes([HEADER, *ROWS], bom=True), id="utf8-bom-excel"),
        pytest.param(csv_bytes([HEADER, *ROWS]), id="utf8"),
        pytest.param(csv_bytes([HEADER, *ROWS], encoding="cp1252"), id="cp1252"),
        pytest.param(csv_bytes([HEADER, *ROWS], encoding="latin-1"), id="latin-1"),
        pytest.param(csv_bytes([HEADER, *ROWS], delimiter=";", bom=True), id="semicolon"),
        pytest.param(csv_bytes([HEADER, *ROWS], delimiter="\t"), id="tab"),
    ],
)
def test_csv_encodings_and_delimiters_import_every_row_intact(admin_client, org, content):
    job = upload(admin_client, content)

    assert job["status"] == "success", job
    assert (job["imported_count"], job["failed_count"], job["duplicate_count"]) == (2, 0, 0)
    assert _names(org) == EXPECTED
    assert job["unknown_columns"] == ["Favourite Colour"]


def test_quoted_fields_with_newlines_and_delimiters_stay_one_row(admin_client, org):
    content = (
        b"first_name,last_name,email,description\r\n"
        b'"Ada","Love, lace",ada@example.com,"line one\r\nline two, with comma"\r\n'
        b'Alan,Turing,alan@example.com,"He said ""hello"""\r\n'
    )

    job = upload(admin_client, content)

    assert job["imported_count"] == 2 and job["total_rows"] == 2
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    assert ada.last_name == "Love, lace"
    assert ada.description == "line one\r\nline two, with comma"
    assert Lead.objects.for_org(org).get(email="alan@example.com").description == 'He said "hello"'


def test_xlsx_written_by_openpyxl_imports_typed_cells(admin_client, org):
    content = xlsx_bytes(
        [
            ["First Name", "Last Name", "Email Address", "Zip", "Amount", "Phone"],
            ["Grace", "Hopper", "grace@example.com", 75201, 1500.5, 4155550123],
            [None, None, None, None, None, None],  # blank rows are not data rows
            ["Linus", "Torvalds", "linus@example.com", "02139", None, "+44 20 7946 0958"],
        ]
    )

    job = upload(admin_client, content, name="leads.xlsx")

    assert job["status"] == "success", job
    assert job["file_kind"] == "xlsx"
    assert job["imported_count"] == 2
    grace = Lead.objects.for_org(org).get(email="grace@example.com")
    assert grace.postcode == "75201"
    assert str(grace.opportunity_amount) == "1500.50"
    assert grace.phone == "+14155550123"
    assert Lead.objects.for_org(org).get(email="linus@example.com").phone == "+442079460958"


def test_a_bare_carriage_return_in_a_value_is_imported_as_it_is(admin_client, org):
    content = csv_bytes(
        [["First Name", "Last Name", "Email", "Description"], ["Ada", "L", "ada@x.com", "a\rb"]]
    )

    job = upload(admin_client, content)

    assert job["imported_count"] == 1, job
    assert Lead.objects.for_org(org).get(email="ada@x.com").description == "a\rb"


def test_xlsx_text_escapes_decode_once_as_excel_reads_them(admin_client, org):
    # Text cells as Excel stores them, in shared strings: a carriage return as `_x000D_`,
    # a typed `_x0041_` with its underscore escaped.
    content = shared_strings_xlsx_bytes(
        [
            ["First Name", "Last Name", "Email", "Title", "City", "Description"],
            ["Ada", "Lovelace", "ada@example.com", "_x005F_x0041_", "ax005F_b", "a_x000D_b"],
        ]
    )

    job = upload(admin_client, content, name="leads.xlsx")

    assert job["imported_count"] == 1, job
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    assert (ada.title, ada.city, ada.description) == ("_x0041_", "ax005F_b", "a\rb")


def test_header_synonyms_and_case_map_to_lead_fields(admin_client, org):
    header = [
        "FIRST_NAME",
        "surname",
        "Email",
        "Organisation",
        "Postal Code",
        "Lead Source",
        "Town",
        "Province",
        "Country",
        "Website",
        "Title",
        "Street",
        "Address",
    ]
    row = [
        "Ada",
        "Lovelace",
        "ADA@Example.com",
        "Analytical",
        "SW1",
        "cold call",
        "London",
        "Greater London",
        "UK",
        "https://ada.example",
        "Countess",
        "St James",
        "1 Square",
    ]

    job = upload(admin_client, csv_bytes([header, row]))

    assert job["imported_count"] == 1 and job["unknown_columns"] == []
    lead = Lead.objects.for_org(org).get()
    assert (lead.account_name, lead.postcode, lead.source, lead.city, lead.state) == (
        "Analytical",
        "SW1",
        "Cold Call",
        "London",
        "Greater London",
    )
    assert lead.email_normalized == "ada@example.com"
    assert (lead.website, lead.title, lead.street, lead.address_line) == (
        "https://ada.example",
        "Countess",
        "St James",
        "1 Square",
    )
