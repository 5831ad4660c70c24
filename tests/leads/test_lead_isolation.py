"""Another organization's leads, comments and attachments are 404 on every route."""

import pytest

from leads.models import Lead
from tests.factories import CommentFactory, LeadFactory
from tests.leads.factories import AttachmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_org):
    lead = LeadFactory(org=other_org, title="theirs")
    return {
        "lead": lead,
        "comment": CommentFactory(org=other_org, lead=lead),
        "attachment": AttachmentFactory(org=other_org, lead=lead),
    }


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/api/leads/{lead}/", None),
        ("put", "/api/leads/{lead}/", {"title": "mine now"}),
        ("patch", "/api/leads/{lead}/", {"title": "mine now"}),
        ("delete", "/api/leads/{lead}/", None),
        ("post", "/api/leads/{lead}/", {"comment": "hello"}),
        ("post", "/api/leads/{lead}/convert/", None),
        ("put", "/api/leads/comment/{comment}/", {"comment": "x"}),
        ("patch", "/api/leads/comment/{comment}/", {"comment": "x"}),
        ("delete", "/api/leads/comment/{comment}/", None),
        ("get", "/api/leads/attachment/{attachment}/", None),
        ("delete", "/api/leads/attachment/{attachment}/", None),
    ],
)
def test_foreign_objects_are_404(admin_client, foreign, method, path, payload):
    url = path.format(**{name: obj.pk for name, obj in foreign.items()})
    response = getattr(admin_client, method)(url, payload, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Lead.objects.unscoped().get(pk=foreign["lead"].pk).title == "theirs"
