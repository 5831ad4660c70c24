"""Every row ends imported, failed (row, field, message) or duplicate; nothing is lost."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from common.models import Tag
from leads.imports.models import ImportJob
from leads.models import Lead
from tests.factories import LeadFactory, MembershipFactory, UserFactory
from tests.imports.conftest import UPLOAD_URL, csv_bytes, upload

HEADER = ["First Name", "Last Name", "Email", "Status", "Amount", "Assigned To", "Tags"]


def _errors_by_row(job):
    found = {}
    for error in job["errors"]:
        found.setdefault(error["row"], set()).add(error["field"])
    return found


def test_bad_rows_of_every_kind_fail_with_row_field_and_message(
    admin_client, admin_membership, org
):
    rows = [
        HEADER,
        [
            "Ada",
            "Lovelace",
            "ada@example.com",
            "in process",
            "$1,200.50",
            admin_membership.user.email.upper(),
            "vip, Enterprise",
        ],  # row 2 ok
        ["", "Hopper", "grace@example.com", "", "", "", ""],  # 3 first name
        ["Alan", "", "alan@example.com", "", "", "", ""],  # 4 last name
        ["Linus", "Torvalds", "not-an-email", "", "", "", ""],  # 5 e-mail
        ["Ken", "Thompson", "ken@example.com", "won", "", "", ""],  # 6 status
        ["Dennis", "Ritchie", "dmr@example.com", "converted", "", "", ""],  # 7 converted
        ["Barbara", "Liskov", "bl@example.com", "", "lots", "", ""],  # 8 amount
        ["Edsger", "Dijkstra", "ed@example.com", "", "", "nobody@example.com", ""],  # 9
        ["Frances", "Allen", "fa@example.com", "Closed", "1.200,50", "", ""],  # 10 ok
    ]

    job = upload(admin_client, csv_bytes(rows))

    assert job["status"] == "success"
    assert job["imported_count"] == 2
    assert job["failed_count"] == 7
    assert job["imported_count"] + job["failed_count"] + job["duplicate_count"] == 9
    assert _errors_by_row(job) == {
        3: {"first_name"},
        4: {"last_name"},
        5: {"email"},
        6: {"status"},
        7: {"status"},
        8: {"opportunity_amount"},
        9: {"assigned_to"},
    }
    assert all(error["message"] for error in job["errors"])
    ada = Lead.objects.for_org(org).get(email="ada@example.com")
    assert ada.status == "in process"
    assert str(ada.opportunity_amount) == "1200.50"
    assert list(ada.assigned_to.all()) == [admin_membership.user]
    assert sorted(ada.tags.values_list("name", flat=True)) == ["Enterprise", "vip"]
    assert ada.created_by == admin_membership.user
    frances = Lead.objects.for_org(org).get(email="fa@example.com")
    assert (frances.status, str(frances.opportunity_amount)) == ("closed", "1200.50")


def test_several_problems_in_one_row_count_it_once(admin_client, org):
    job = upload(admin_client, csv_bytes([HEADER, ["", "", "bad", "nope", "x", "", ""]]))

    assert job["failed_count"] == 1 and job["imported_count"] == 0
    assert _errors_by_row(job) == {
        2: {"first_name", "last_name", "email", "status", "opportunity_amount"}
    }


def test_inactive_member_or_other_org_user_is_not_an_assignee(admin_client, org, other_org):
    inactive = MembershipFactory(org=org, is_active=False).user
    outsider = MembershipFactory(org=other_org).user
    rows = [
        HEADER,
        ["A", "B", "", "", "", inactive.email, ""],
        ["C", "D", "", "", "", outsider.email, ""],
    ]

    job = upload(admin_client, csv_bytes(rows))

    assert job["failed_count"] == 2
    assert {e["field"] for e in job["errors"]} == {"assigned_to"}


def test_duplicates_within_file_and_against_org_are_skipped_and_reported(
    admin_client, org, other_org
):
    existing = LeadFactory(org=org, email="Known@Example.com")
    existing.save()  # sets email_normalized
    LeadFactory(org=other_org, email="elsewhere@example.com").save()
    rows = [
        ["first_name", "last_name", "email"],
        ["A", "One", "new@example.com"],  # 2 imported
        ["B", "Two", "NEW@example.com"],  # 3 duplicate of row 2
        ["C", "Three", "known@example.COM"],  # 4 duplicate of existing lead
        ["D", "Four", "elsewhere@example.com"],  # 5 imported: other org does not count
        ["E", "Five", ""],  # 6 no e-mail: never a duplicate
        ["F", "Six", ""],  # 7
    ]

    job = upload(admin_client, csv_bytes(rows))

    assert (job["imported_count"], job["failed_count"], job["duplicate_count"]) == (4, 0, 2)
    duplicates = {d["row"]: d for d in job["duplicates"]}
    assert set(duplicates) == {3, 4}
    assert "row 2" in duplicates[3]["message"] and duplicates[3]["existing_lead_id"] is None
    assert duplicates[4]["existing_lead_id"] == str(existing.pk)
    assert Lead.objects.for_org(org).filter(email_normalized="new@example.com").count() == 1
    assert Lead.objects.for_org(org).filter(email_normalized="known@example.com").count() == 1


def test_duplicates_across_chunks_are_caught(admin_client, org, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    rows = [["first_name", "last_name", "email"]] + [
        ["P", str(n), f"p{n % 3}@example.com"] for n in range(7)
    ]

    job = upload(admin_client, csv_bytes(rows))

    assert (job["imported_count"], job["duplicate_count"]) == (3, 4)
    assert Lead.objects.for_org(org).count() == 3


def test_dry_run_reports_everything_and_writes_nothing(admin_client, org):
    rows = [
        ["first_name", "last_name", "email", "tags"],
        ["A", "One", "a@example.com", "brand-new-tag"],
        ["B", "Two", "A@example.com", ""],
        ["", "Three", "c@example.com", ""],
    ]

    job = upload(admin_client, csv_bytes(rows), dry_run="true")

    assert job["dry_run"] is True and job["status"] == "success"
    assert (job["imported_count"], job["failed_count"], job["duplicate_count"]) == (1, 1, 1)
    assert Lead.objects.for_org(org).count() == 0
    assert not Tag.objects.for_org(org).exists()


def test_dry_run_as_query_parameter(admin_client, org):
    content = csv_bytes([["first_name", "last_name"], ["A", "B"]])

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            f"{UPLOAD_URL}?dry_run=true",
            {"leads_file": SimpleUploadedFile("a.csv", content)},
            format="multipart",
        )
    assert response.status_code in (201, 202)
    assert ImportJob.objects.for_org(org).get().dry_run is True
    assert Lead.objects.for_org(org).count() == 0


def test_error_csv_has_original_rows_and_reasons(admin_client, org):
    rows = [
        ["First Name", "Last Name", "Email", "Favourite Colour"],
        ["Ada", "Lovelace", "ada@example.com", "green"],
        ["", "Hopper", "not-an-email", "blue, really"],
        ["Zoë", "", "zoe@example.com", "rouge"],
    ]
    job = upload(admin_client, csv_bytes(rows))

    response = admin_client.get(job["errors_csv_url"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["First Name", "Last Name", "Email", "Favourite Colour", "import_error"]
    assert [line[:4] for line in lines[1:]] == [
        ["", "Hopper", "not-an-email", "blue, really"],
        ["Zoë", "", "zoe@example.com", "rouge"],
    ]
    assert "first_name" in lines[1][4] and "email" in lines[1][4]
    assert "last_name" in lines[2][4]


def test_fixed_error_csv_can_be_uploaded_again(admin_client, org):
    job = upload(admin_client, csv_bytes([["first_name", "last_name"], ["", "Hopper"]]))
    text = b"".join(admin_client.get(job["errors_csv_url"]).streaming_content).decode("utf-8-sig")
    fixed = text.replace(",Hopper,", "Grace,Hopper,")

    again = upload(admin_client, fixed.encode("utf-8-sig"))

    assert again["imported_count"] == 1 and again["unknown_columns"] == ["import_error"]


def test_errors_in_json_are_bounded_with_a_note(admin_client, org, settings):
    settings.IMPORT_ERRORS_IN_RESPONSE = 3
    rows = [["first_name", "last_name"]] + [["", str(n)] for n in range(5)]

    job = upload(admin_client, csv_bytes(rows))

    assert job["failed_count"] == 5
    assert len(job["errors"]) == 3 and job["errors_truncated"] is True
    assert "errors_csv_url" in job["errors_note"]


def test_phone_is_normalised_and_never_fails_a_row(admin_client, org):
    rows = [
        ["first_name", "last_name", "phone"],
        ["A", "B", "(415) 555-0123"],
        ["C", "D", "call me maybe"],
    ]
    job = upload(admin_client, csv_bytes(rows))

    assert job["imported_count"] == 2
    phones = set(Lead.objects.for_org(org).values_list("phone", flat=True))
    assert phones == {"+14155550123", "call me maybe"}


def test_leads_without_assignee_go_through_assignment_rules_once_per_chunk(
    admin_client, org, settings, monkeypatch
):
    settings.IMPORT_CHUNK_ROWS = 2
    rep = MembershipFactory(org=org).user
    calls = []

    def rules(*, org, leads, fallback=None):
        calls.append([facts.source for facts in leads])
        return [[rep] for _ in leads]

    monkeypatch.setattr("leads.imports.write.assignees_for_new_leads", rules)
    rows = (
        [["first_name", "last_name", "source", "assigned_to"]]
        + [["A", str(n), "Referral", ""] for n in range(5)]
        + [["B", "explicit", "Referral", UserFactory().email]]
    )

    job = upload(admin_client, csv_bytes(rows))

    assert job["imported_count"] == 5 and job["failed_count"] == 1
    assert calls == [["Referral"] * 2, ["Referral"] * 2, ["Referral"]]
    assert all(list(lead.assigned_to.all()) == [rep] for lead in Lead.objects.for_org(org))
