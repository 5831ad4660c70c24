import pytest
from rest_framework.test import APIClient

from capture.models import ApiKey
from leads.models import Lead
from tests.capture.factories import ApiKeyFactory
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SITE = "/api/leads/create-from-site/"
PERSON = {
    "first_name": "John",
    "last_name": "Prospect",
    "email": "John@Prospect.com",
    "phone": "+1 415 555 2671",
    "account_name": "Prospect Company",
    "title": "Interested in Product Demo",
}


@pytest.fixture
def api_key(org):
    member = MembershipFactory(org=org)
    api_key = ApiKeyFactory(
        org=org,
        default_tags=["website", "Inbound"],
        allowed_origins=["https://www.example.com"],
    )
    api_key.default_assigned_to.set([member.user])
    api_key.member = member
    return api_key


def test_json_submission_creates_a_lead_in_the_keys_organization(api_key, org):
    response = APIClient().post(f"{SITE}?apikey={api_key.secret}", PERSON, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.for_org(org).get(pk=body["id"])
    assert (lead.first_name, lead.email, lead.phone) == (
        "John",
        "John@Prospect.com",
        "+14155552671",
    )
    assert lead.source == "Website Form"
    assert lead.created_by is None
    # Assigned, but the public answer does not name the sales team's members.
    assert [u.pk for u in lead.assigned_to.all()] == [api_key.member.user_id]
    assert body["assigned_to"] == []
    assert sorted(body["tags"]) == ["Inbound", "website"]
    assert body["status"] == "assigned"


def test_key_in_header_and_form_encoded_body(api_key, org):
    response = APIClient().post(SITE, PERSON, HTTP_X_API_KEY=api_key.secret, format="multipart")
    assert response.status_code == 415
    response = APIClient().generic(
        "POST",
        SITE,
        "first_name=Jo&last_name=Form&email=jo%40example.com&source=Trade+Show",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_API_KEY=api_key.secret,
    )
    assert response.status_code == 201, response.json()
    lead = Lead.objects.for_org(org).get(last_name="Form")
    assert lead.source == "Trade Show"


def test_form_post_redirects_to_thank_you_url_on_allowed_origin(api_key, org):
    form = "first_name=Jo&last_name=Thanks&thank_you_url=https%3A%2F%2Fwww.example.com%2Fthanks"
    response = APIClient().generic(
        "POST",
        f"{SITE}?apikey={api_key.secret}",
        form,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks"
    assert Lead.objects.for_org(org).filter(last_name="Thanks").exists()

    elsewhere = "first_name=Jo&last_name=Evil&thank_you_url=https%3A%2F%2Fevil.example%2F"
    response = APIClient().generic(
        "POST",
        f"{SITE}?apikey={api_key.secret}",
        elsewhere,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "thank_you_url" in response.json()["fields"]
    assert not Lead.objects.for_org(org).filter(last_name="Evil").exists()


def test_keys_own_thank_you_url_is_used_for_form_posts_only(api_key):
    api_key.thank_you_url = "https://www.example.com/merci"
    api_key.save()
    form = APIClient().generic(
        "POST",
        f"{SITE}?apikey={api_key.secret}",
        "first_name=A&last_name=B",
        content_type="application/x-www-form-urlencoded",
    )
    assert (form.status_code, form["Location"]) == (303, "https://www.example.com/merci")
    as_json = APIClient().post(
        f"{SITE}?apikey={api_key.secret}", {"first_name": "C", "last_name": "D"}
    )
    assert as_json.status_code == 201


def test_only_public_fields_are_taken(api_key, org, other_org):
    intruder = MembershipFactory(org=org)
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        {
            **PERSON,
            "status": "closed",
            "assigned_to": [str(intruder.user_id)],
            "org": str(other_org.pk),
            "tags": ["vip"],
            "opportunity_amount": "1000000",
            "id": "00000000-0000-0000-0000-000000000001",
            "unknown": "x",
        },
        format="json",
    )
    assert response.status_code == 201
    lead = Lead.objects.for_org(org).get(pk=response.json()["id"])
    assert lead.status == "assigned"
    assert list(lead.assigned_to.all()) == [api_key.member.user]
    assert lead.opportunity_amount is None
    assert "vip" not in [tag.name for tag in lead.tags.all()]
    assert str(lead.pk) != "00000000-0000-0000-0000-000000000001"


def test_organization_header_is_ignored_and_nothing_lands_elsewhere(api_key, org, other_org):
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        PERSON,
        format="json",
        HTTP_ORGANIZATION_ID=str(other_org.pk),
    )
    assert response.status_code == 201
    assert Lead.objects.for_org(org).count() == 1
    assert Lead.objects.for_org(other_org).count() == 0


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong", "malformed", "revoked", "foreign-format", "huge"],
)
def test_every_bad_key_gets_the_same_answer(api_key, org, how):
    revoked = ApiKeyFactory(org=org)
    ApiKey.objects.for_org(org).filter(pk=revoked.pk).update(revoked_on="2020-01-01T00:00Z")
    keys = {
        "missing": None,
        "wrong": "lk_" + "A" * 43,
        "malformed": "nonsense",
        "revoked": revoked.secret,
        "foreign-format": "Bearer " + api_key.secret,
        "huge": "lk_" + "x" * 5000,
    }
    key = keys[how]
    url = SITE if key is None else f"{SITE}?apikey={key}"
    response = APIClient().post(url, PERSON, format="json", HTTP_ORGANIZATION_ID=str(org.pk))
    assert response.status_code == 401
    assert response.json() == {
        "code": "api_key_invalid",
        "detail": "A valid API key is required.",
        "fields": {},
    }
    assert Lead.objects.for_org(org).count() == 0


def test_validation_errors_use_the_common_body(api_key):
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        {"first_name": "", "email": "not-an-email", "phone": {"x": 1}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"first_name", "last_name", "email", "phone"} <= set(body["fields"])
    not_an_object = APIClient().post(
        f"{SITE}?apikey={api_key.secret}", "[1, 2]", content_type="application/json"
    )
    assert not_an_object.status_code == 400
    broken = APIClient().post(
        f"{SITE}?apikey={api_key.secret}", "{", content_type="application/json"
    )
    assert broken.status_code == 400


def test_browser_origin_must_be_on_the_keys_allow_list(api_key, org):
    refused = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        PERSON,
        format="json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused
    allowed = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        PERSON,
        format="json",
        HTTP_ORIGIN="https://www.example.com",
    )
    assert allowed.status_code == 201
    assert allowed["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert Lead.objects.for_org(org).count() == 1
