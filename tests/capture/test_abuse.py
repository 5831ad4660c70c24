import pytest
from django.forms.models import model_to_dict
from django.test import override_settings
from rest_framework.test import APIClient

from capture.models import IdempotencyRecord, SpamSubmission
from leads.models import Comment, Lead
from tests.capture.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

SITE = "/api/leads/create-from-site/"


def person(n=0, **extra):
    return {"first_name": "Visitor", "last_name": f"No{n}", "email": f"v{n}@example.com", **extra}


@override_settings(CAPTURE_RATE_LIMIT_PER_KEY=3, CAPTURE_RATE_LIMIT_PER_ADDRESS=1000)
def test_per_key_limit_answers_429_with_retry_after(org):
    api_key = ApiKeyFactory(org=org)
    other_key = ApiKeyFactory(org=org)
    client = APIClient()
    codes = [
        client.post(f"{SITE}?apikey={api_key.secret}", person(n), format="json").status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    response = client.post(f"{SITE}?apikey={api_key.secret}", person(9), format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"
    assert set(response.json()) == {"code", "detail", "fields"}
    # Another key from the same address is not affected.
    assert (
        client.post(f"{SITE}?apikey={other_key.secret}", person(10), format="json").status_code
        == 201
    )
    assert Lead.objects.for_org(org).count() == 4


@override_settings(CAPTURE_RATE_LIMIT_PER_KEY=1000, CAPTURE_RATE_LIMIT_PER_ADDRESS=2)
def test_per_address_limit_counts_bad_keys_too(org):
    api_key = ApiKeyFactory(org=org)
    client = APIClient()
    assert client.post(f"{SITE}?apikey=lk_guess1", person(), format="json").status_code == 401
    assert client.post(f"{SITE}?apikey=lk_guess2", person(), format="json").status_code == 401
    blocked = client.post(f"{SITE}?apikey={api_key.secret}", person(), format="json")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    other_address = APIClient(REMOTE_ADDR="10.0.0.7")
    assert (
        other_address.post(f"{SITE}?apikey={api_key.secret}", person(), format="json").status_code
        == 201
    )


@override_settings(CAPTURE_RATE_LIMIT_PER_KEY=1000, CAPTURE_RATE_LIMIT_PER_ADDRESS=1)
def test_forwarded_for_is_ignored_without_trusted_proxies(org):
    api_key = ApiKeyFactory(org=org)
    first = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        person(1),
        format="json",
        HTTP_X_FORWARDED_FOR="1.1.1.1",
    )
    spoofed = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        person(2),
        format="json",
        HTTP_X_FORWARDED_FOR="2.2.2.2",
    )
    assert (first.status_code, spoofed.status_code) == (201, 429)


@override_settings(
    CAPTURE_RATE_LIMIT_PER_KEY=1000,
    CAPTURE_RATE_LIMIT_PER_ADDRESS=1,
    CAPTURE_TRUSTED_PROXY_COUNT=1,
)
def test_behind_one_proxy_the_rightmost_forwarded_address_is_the_client(org):
    api_key = ApiKeyFactory(org=org)

    def post(forwarded, n):
        return (
            APIClient()
            .post(
                f"{SITE}?apikey={api_key.secret}",
                person(n),
                format="json",
                HTTP_X_FORWARDED_FOR=forwarded,
                REMOTE_ADDR="10.0.0.1",
            )
            .status_code
        )

    assert post("9.9.9.9, 203.0.113.5", 1) == 201
    # The client cannot escape by prepending fake hops: the proxy's entry still counts.
    assert post("8.8.8.8, 203.0.113.5", 2) == 429
    assert post("203.0.113.6", 3) == 201


def test_filled_honeypot_looks_like_success_but_is_kept_as_spam(org, admin_client):
    api_key = ApiKeyFactory(org=org)
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        person(1, website_url="http://cheap-pills.example"),
        format="json",
        HTTP_USER_AGENT="spambot/1.0",
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "Visitor"
    assert Lead.objects.for_org(org).count() == 0
    spam = SpamSubmission.objects.for_org(org).get()
    assert spam.payload["website_url"] == "http://cheap-pills.example"
    assert spam.user_agent == "spambot/1.0"

    listed = admin_client.get("/api/spam-submissions/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(spam.pk)]
    assert listed.json()["results"][0]["reason"] == "honeypot"


def test_honeypot_with_lone_surrogates_in_json_is_kept_not_a_500(org):
    # A JSON body may carry "\ud800", which no text column or JSON answer can hold.
    api_key = ApiKeyFactory(org=org)
    body = '{"first_name": "B\\ud800ot", "last_name": "x", "website_url": "\\udfff", "\\ud800": 1}'
    response = APIClient().generic(
        "POST", f"{SITE}?apikey={api_key.secret}", body, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "Bot"
    assert SpamSubmission.objects.for_org(org).get().payload["first_name"] == "Bot"


def test_honeypot_form_post_redirects_like_a_real_one(org):
    api_key = ApiKeyFactory(org=org, thank_you_url="https://www.example.com/thanks")
    response = APIClient().generic(
        "POST",
        f"{SITE}?apikey={api_key.secret}",
        "first_name=Bot&last_name=Bot&website_url=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response["Location"]) == (303, "https://www.example.com/thanks")
    assert Lead.objects.for_org(org).count() == 0
    assert SpamSubmission.objects.for_org(org).count() == 1


def test_idempotent_retry_creates_nothing_and_answers_with_the_original_lead_id(org):
    api_key = ApiKeyFactory(org=org)
    client = APIClient()
    url = f"{SITE}?apikey={api_key.secret}"
    first = client.post(url, person(1), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post(url, person(1), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["last_name"] == "No1"
    assert Lead.objects.for_org(org).count() == 1
    different = client.post(url, person(3), format="json", HTTP_IDEMPOTENCY_KEY="abc-2")
    assert different.status_code == 201
    assert Lead.objects.for_org(org).count() == 2


def test_idempotency_keys_are_per_api_key(org, other_org):
    mine, theirs = ApiKeyFactory(org=org), ApiKeyFactory(org=other_org)
    a = APIClient().post(
        f"{SITE}?apikey={mine.secret}", person(1), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    b = APIClient().post(
        f"{SITE}?apikey={theirs.secret}", person(2), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert (
        Lead.objects.for_org(other_org).get().pk
        == IdempotencyRecord.objects.for_org(other_org).get().lead_id
    )


def test_too_long_idempotency_key_is_a_400(org):
    api_key = ApiKeyFactory(org=org)
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}", person(), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400


def test_same_email_within_window_is_recorded_on_the_open_lead_which_stays_unchanged(org):
    api_key = ApiKeyFactory(org=org, default_tags=["web"])
    url = f"{SITE}?apikey={api_key.secret}"
    first = APIClient().post(url, person(1), format="json")
    stored = Lead.objects.for_org(org).get()
    before = model_to_dict(stored)
    tags_before = set(stored.tags.values_list("name", flat=True))
    repeat = APIClient().post(
        url,
        {
            "first_name": "Other",
            "last_name": "Name",
            "email": " V1@Example.COM ",
            "phone": "+14155552671",
            "description": "Please call me",
        },
        format="json",
    )
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json()["id"] != first.json()["id"]
    lead = Lead.objects.for_org(org).get()  # still one lead
    assert model_to_dict(lead) == before
    assert set(lead.tags.values_list("name", flat=True)) == tags_before
    comment = Comment.objects.for_org(org).get(lead=lead)
    assert "Submitted again" in comment.comment
    assert "+14155552671" in comment.comment and "Please call me" in comment.comment


def test_a_matching_submission_answers_exactly_like_a_new_one(org, admin_client):
    """The key sits in public web pages: posting someone's e-mail address must tell nothing
    about the lead the sales team holds for it, not even that it exists."""
    created = admin_client.post(
        "/api/leads/",
        {
            "first_name": "Secret",
            "last_name": "Customer",
            "email": "victim@example.com",
            "phone": "+14155552671",
            "description": "Budget 2M, decision in May",
            "city": "Dallas",
            "tags": ["vip"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    api_key = ApiKeyFactory(org=org)
    url = f"{SITE}?apikey={api_key.secret}"

    def probe(email, **headers):
        data = {"first_name": "Eve", "last_name": "Probe", "email": email}
        return APIClient().post(url, data, format="json", **headers)

    known, unknown = probe("victim@example.com"), probe("nobody1@example.com")

    assert known.status_code == unknown.status_code == 201
    masked = []
    for answer, email in ((known, "victim@example.com"), (unknown, "nobody1@example.com")):
        body = dict(answer.json())  # json() is cached on the response: copy before editing
        for volatile in ("id", "created_on"):
            body.pop(volatile)
        body["email"] = body["email"].replace(email, "<email>")
        masked.append((body, sorted(k for k in answer.headers if k != "Content-Length")))
    assert masked[0] == masked[1]
    assert known.json()["id"] != created.json()["id"]
    for stored in ("Secret", "Customer", "+14155552671", "Budget 2M", "Dallas", "vip"):
        assert stored not in known.content.decode()
    # The stored lead is commented, not changed.
    assert Comment.objects.for_org(org).filter(lead_id=created.json()["id"]).count() == 1

    # A replay with an Idempotency-Key answers the first answer's id, not the stored lead's.
    first = probe("victim@example.com", HTTP_IDEMPOTENCY_KEY="probe-1")
    replay = probe("victim@example.com", HTTP_IDEMPOTENCY_KEY="probe-1")
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"] != created.json()["id"]
    for stored in ("Secret", "Customer", "+14155552671", "Budget 2M", "Dallas", "vip"):
        assert stored not in str(replay.json())


@override_settings(CAPTURE_DUPLICATE_WINDOW_MINUTES=0)
def test_duplicate_linking_can_be_turned_off(org):
    api_key = ApiKeyFactory(org=org)
    url = f"{SITE}?apikey={api_key.secret}"
    assert APIClient().post(url, person(1), format="json").status_code == 201
    assert APIClient().post(url, person(1), format="json").status_code == 201
    assert Lead.objects.for_org(org).count() == 2


def test_closed_leads_and_other_organizations_are_not_linked(org, other_org):
    api_key = ApiKeyFactory(org=org)
    theirs = ApiKeyFactory(org=other_org)
    url = f"{SITE}?apikey={api_key.secret}"
    first = APIClient().post(url, person(1), format="json").json()
    Lead.objects.for_org(org).filter(pk=first["id"]).update(status="closed")
    assert APIClient().post(url, person(1), format="json").status_code == 201
    assert (
        APIClient().post(f"{SITE}?apikey={theirs.secret}", person(1), format="json").status_code
        == 201
    )
    assert Lead.objects.for_org(org).count() == 2
    assert Lead.objects.for_org(other_org).count() == 1


def test_hostile_bytes_never_cause_a_server_error(org):
    api_key = ApiKeyFactory(org=org)
    url = f"{SITE}?apikey={api_key.secret}"
    spam = APIClient().post(
        url,
        {"first_name": "A\x00", "last_name": "B", "website_url": "x\x00y", "k\x00": "v\x00"},
        format="json",
        HTTP_USER_AGENT="bot\x00",
        HTTP_ORIGIN="https://www.example.com",
    )
    assert spam.status_code == 201
    assert SpamSubmission.objects.for_org(org).get().payload["website_url"] == "xy"
    nul_in_name = APIClient().post(url, {"first_name": "A\x00", "last_name": "B"}, format="json")
    assert nul_in_name.status_code == 400
    bad_idempotency = APIClient().post(url, person(), format="json", HTTP_IDEMPOTENCY_KEY="a\x00b")
    assert bad_idempotency.status_code == 400
    for origin in ["http://[::1", "http://host:99999", "javascript:alert(1)", "null"]:
        response = APIClient().post(url, person(), format="json", HTTP_ORIGIN=origin)
        assert response.status_code == 403, origin


def test_plain_form_double_submit_with_hidden_idempotency_field_creates_one_lead(org):
    api_key = ApiKeyFactory(org=org)
    form = "first_name=Double&last_name=Click&email=dc%40example.com&idempotency_key=tok-7"
    answers = [
        APIClient().generic(
            "POST",
            f"{SITE}?apikey={api_key.secret}",
            form.replace("dc%40", f"dc{n}%40"),
            content_type="application/x-www-form-urlencoded",
        )
        for n in range(2)
    ]
    assert [answer.status_code for answer in answers] == [201, 200]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Lead.objects.for_org(org).count() == 1
