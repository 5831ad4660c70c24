"""The list's search, sort orders, cursor walk and capped counts, and the number of
queries each variant runs (a query added to any of them fails here)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import listing, selectors
from leads.models import Lead
from tests.conftest import client_for
from tests.factories import LeadFactory, TagFactory

pytestmark = pytest.mark.django_db


def _walk(client, url, limit=4, between_pages=None):
    """Every page of both lists, following next_cursor: (open ids, closed ids, pages)."""
    seen_open, seen_closed, pages = [], [], 0
    cursor = None
    while True:
        page_url = f"{url}{'&' if '?' in url else '?'}limit={limit}"
        if cursor:
            page_url += f"&cursor={cursor}"
        response = client.get(page_url)
        assert response.status_code == 200, response.json()
        body = response.json()
        seen_open += [lead["id"] for lead in body["open_leads"]]
        seen_closed += [lead["id"] for lead in body["closed_leads"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen_open, seen_closed, pages
        if between_pages:
            between_pages(pages)
        assert pages < 100


@pytest.mark.parametrize("ordering", listing.ORDERINGS)
def test_a_cursor_walk_never_repeats_or_skips_a_lead_while_others_are_inserted(
    admin_client, org, ordering
):
    same_instant = timezone.now() - datetime.timedelta(days=1)
    names = ["Ann", "Bob", "ann", "Cid", "Dee"]
    leads = [
        LeadFactory(
            org=org,
            first_name=names[n % 5],
            last_name=names[(n * 3) % 5],
            status="closed" if n % 4 == 0 else "assigned",
            opportunity_amount=None if n % 3 == 0 else n % 2 * 100,
        )
        for n in range(22)
    ]
    # Many equal sort values: only the id tie-breaker keeps the order stable.
    Lead.objects.for_org(org).update(created_on=same_instant)
    inserted = []

    def insert(page):
        inserted.append(
            LeadFactory(org=org, first_name="Bob", status="closed" if page % 2 else "assigned")
        )

    open_ids, closed_ids, pages = _walk(
        admin_client, f"/api/leads/?ordering={ordering}", between_pages=insert
    )

    assert len(open_ids) == len(set(open_ids)), "a lead was listed twice"
    assert len(closed_ids) == len(set(closed_ids)), "a lead was listed twice"
    expected_open = {str(lead.pk) for lead in leads if lead.status != "closed"}
    expected_closed = {str(lead.pk) for lead in leads if lead.status == "closed"}
    assert expected_open <= set(open_ids), "a lead that existed all along was skipped"
    assert expected_closed <= set(closed_ids)
    assert set(open_ids) | set(closed_ids) <= {str(lead.pk) for lead in leads + inserted}
    assert pages >= 5


def test_cursor_pages_follow_the_order_and_match_offset_pages(admin_client, org):
    for n in range(9):
        LeadFactory(org=org, first_name=f"Name{n:02d}")
    open_ids, _closed, _pages = _walk(admin_client, "/api/leads/?ordering=-first_name", limit=2)
    by_offset = admin_client.get("/api/leads/?ordering=-first_name&limit=100").json()
    assert open_ids == [lead["id"] for lead in by_offset["open_leads"]]
    names = [lead["first_name"] for lead in by_offset["open_leads"]]
    assert names == sorted(names, reverse=True)


def test_amount_ordering_puts_leads_without_an_amount_first_ascending(admin_client, org):
    LeadFactory(org=org, first_name="Big", opportunity_amount=900)
    LeadFactory(org=org, first_name="None", opportunity_amount=None)
    LeadFactory(org=org, first_name="Small", opportunity_amount=5)
    body = admin_client.get("/api/leads/?ordering=opportunity_amount").json()
    assert [lead["first_name"] for lead in body["open_leads"]] == ["None", "Small", "Big"]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=email",
        "ordering=-id",
        "cursor=not-a-cursor",
        "cursor=eyJvIjoiaWQifQ",
    ],
)
def test_unknown_ordering_or_cursor_is_400(admin_client, query):
    response = admin_client.get(f"/api/leads/?{query}")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "ordering, value",
    [
        ("first_name", "a\x00b"),  # PostgreSQL text holds no NUL
        ("first_name", "\ud800"),  # a lone surrogate is no text
        ("first_name", "x" * 256),  # longer than the column
        ("opportunity_amount", "1E+999999"),
        ("opportunity_amount", "1E-999999"),
        ("opportunity_amount", "123456789012345678"),  # more digits than the column
        ("created_on", "0001-01-01T00:00:00+01:00"),  # before the first instant in UTC
    ],
)
@pytest.mark.parametrize("search", ["", "&city=osl"])
def test_a_forged_cursor_position_is_400(admin_client, org, ordering, value, search):
    lead = LeadFactory(org=org, city="Oslo")
    cursor = listing.Cursor(ordering=ordering, open=[value, lead.pk], closed=None).encode()
    response = admin_client.get(f"/api/leads/?ordering={ordering}&cursor={cursor}{search}")
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("search", ["", "&city=osl"])
def test_a_cursor_time_with_any_offset_is_read_as_its_instant(admin_client, org, search):
    # PostgreSQL refuses an offset beyond 15:59; the cursor's time is sent in UTC.
    lead = LeadFactory(org=org, city="Oslo")
    position = ["2999-01-01T00:00:00-23:59", lead.pk]
    cursor = listing.Cursor(ordering="-created_on", open=position, closed=None).encode()
    response = admin_client.get(f"/api/leads/?cursor={cursor}{search}")
    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["open_leads"]] == [str(lead.pk)]


def test_cursor_with_offset_or_another_ordering_is_400(admin_client, org):
    LeadFactory.create_batch(3, org=org)
    cursor = admin_client.get("/api/leads/?limit=1").json()["next_cursor"]
    assert admin_client.get(f"/api/leads/?limit=1&cursor={cursor}&offset=2").status_code == 400
    response = admin_client.get(f"/api/leads/?limit=1&cursor={cursor}&ordering=first_name")
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_counts_beyond_the_exact_limit_are_flagged_as_lower_bounds(admin_client, org, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_EXACT_LIMIT", 5)
    LeadFactory.create_batch(7, org=org, city="Oslo")
    LeadFactory.create_batch(2, org=org, status="closed", city="Oslo")
    body = admin_client.get("/api/leads/?city=oslo").json()
    assert (body["open_leads_count"], body["closed_leads_count"]) == (5, 2)
    assert body["counts_exact"] is False
    body = admin_client.get("/api/leads/?status=closed").json()
    assert (body["closed_leads_count"], body["counts_exact"]) == (2, True)
    # Unfiltered, the counts are the kept tallies: exact at any size.
    body = admin_client.get("/api/leads/").json()
    counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
    assert counts == (7, 2, True)


def _substring_list_leads(org, user):
    """16 leads in both lists, half of them sharing one creation time, some the USER
    member's (created or assigned), some without an amount; 13 of them in Oslo."""
    same_instant = timezone.now() - datetime.timedelta(days=1)
    for n in range(16):
        lead = LeadFactory(
            org=org,
            city="Oslo" if n % 5 else "Bergen",
            first_name=["Ann", "Bob", "ann"][n % 3],
            last_name=["Lee", "Anders", "Moe"][n % 3],
            status="closed" if n % 4 == 0 else "assigned",
            opportunity_amount=None if n % 3 == 0 else n % 2 * 100,
            created_by=user if n % 2 else None,
        )
        if n % 3 == 1:
            lead.assigned_to.add(user)
        if n % 2:
            Lead.objects.for_org(org).filter(pk=lead.pk).update(created_on=same_instant)


@pytest.mark.parametrize("ordering", listing.ORDERINGS)
@pytest.mark.parametrize("search", ["city=osl", "name=an", "q=an"])
def test_a_row_checked_filter_pages_with_its_count_as_the_lists_own_query(
    org, admin_membership, user_membership, monkeypatch, ordering, search
):
    """A substring filter's pages are read with its count (one read of the matching rows)
    while the count is exact, else by the list's own query: every page, by cursor and by
    offset (one past the end too), and the counts, are those of the list's own query,
    for both roles, with exact and with capped counts."""
    _substring_list_leads(org, user_membership.user)
    url = f"/api/leads/?{search}&ordering={ordering}"
    # The city and name filters test each lead's row beyond their distinct values.
    monkeypatch.setattr(selectors, "DISTINCT_VALUES_TESTED_AT_MOST", 0)

    def everything(client):
        walked = _walk(client, url, limit=3)[:2]
        answers = []
        for page in ("&limit=4&offset=2", "&limit=4&offset=100"):
            body = client.get(url + page).json()
            answers.append([body[key] for key in ("open_leads", "closed_leads")])
            answers.append([body[key] for key in ("open_leads_count", "closed_leads_count")])
            answers.append(body["counts_exact"])
        return walked, answers

    for membership in (admin_membership, user_membership):
        client = client_for(membership)
        for exact_limit in (100, 5):
            monkeypatch.setattr(listing, "COUNT_EXACT_LIMIT", exact_limit)
            monkeypatch.setattr(selectors, "ROW_CHECKED_FILTERS", listing.ROW_CHECKED_FILTERS)
            with CaptureQueriesContext(connection) as queries:
                read_with_counts = everything(client)
            assert any("matched_0" in query["sql"] for query in queries)
            monkeypatch.setattr(selectors, "ROW_CHECKED_FILTERS", frozenset())
            with CaptureQueriesContext(connection) as queries:
                own_query = everything(client)
            assert not any("matched_0" in query["sql"] for query in queries)
            assert read_with_counts == own_query, (membership.role, exact_limit)
            (open_ids, closed_ids), answers = own_query
            assert open_ids and closed_ids
            assert answers[2] is (exact_limit == 100)


def test_a_page_read_with_its_count_survives_a_change_between_its_two_reads(
    admin_client, org, monkeypatch
):
    """The page's ids and positions are read with its count, its rows a moment later. A
    lead that leaves the list in between is not missing from a page that looks short (the
    list's own query reads it again); a lead renamed in between leaves the next page
    where the first one was read to end, so no lead between is skipped."""
    names = [f"Name{n:02d}" for n in range(9)]
    leads = [LeadFactory(org=org, first_name=name, city="Oslo") for name in names]
    read = selectors.counted_lists
    change = {}

    def read_then_change(*args, **kwargs):
        counted = read(*args, **kwargs)
        if "lead" in change:
            Lead.objects.for_org(org).filter(pk=change.pop("lead").pk).update(**change.pop("to"))
        return counted

    monkeypatch.setattr(selectors, "counted_lists", read_then_change)
    # The city filter tests each lead's row beyond its distinct values.
    monkeypatch.setattr(selectors, "DISTINCT_VALUES_TESTED_AT_MOST", 0)
    url = "/api/leads/?city=osl&ordering=first_name&limit=3"

    change.update(lead=leads[1], to={"status": "closed"})
    body = admin_client.get(url).json()
    assert [lead["first_name"] for lead in body["open_leads"]] == ["Name00", "Name02", "Name03"]
    assert body["next_cursor"] is not None

    change.update(lead=leads[6], to={"first_name": "Zed"})  # the last of the next page
    body = admin_client.get(f"{url}&cursor={body['next_cursor']}").json()
    assert [lead["first_name"] for lead in body["open_leads"]] == ["Name04", "Name05", "Zed"]
    body = admin_client.get(f"{url}&cursor={body['next_cursor']}").json()
    # From where Name06 was: Name07 and Name08 come next (Zed, now last, shows again).
    assert [lead["first_name"] for lead in body["open_leads"]] == ["Name07", "Name08", "Zed"]


def test_search_finds_name_email_phone_account_and_title(admin_client, org, other_org):
    # Names set here: a random one ("Hector") would match "cto" too.
    LeadFactory(org=org, first_name="Zelda", last_name="Z", email="z@acme.example", title="CTO")
    LeadFactory(
        org=org, first_name="G", last_name="G", account_name="Globex Corp", phone="+14155550199"
    )
    LeadFactory(org=org, first_name="Other", last_name="O")
    LeadFactory(org=other_org, first_name="Zelda", last_name="Z")

    def found(term):
        body = admin_client.get(f"/api/leads/?q={term}").json()
        return sorted(lead["first_name"] for lead in body["open_leads"])

    assert len(found("zeld")) == 1
    assert len(found("ACME.EX")) == 1
    assert len(found("globex")) == 1
    assert len(found("5550199")) == 1
    assert len(found("cto")) == 1
    assert found("no such thing") == []


def test_tag_filter_ignores_another_organizations_tags(admin_client, org, other_org):
    mine = LeadFactory(org=org)
    theirs = LeadFactory(org=other_org)
    theirs.tags.add(TagFactory(org=other_org, name="vip"))
    assert admin_client.get("/api/leads/?tags=vip").json()["open_leads"] == []
    mine.tags.add(TagFactory(org=org, name="VIP"))
    body = admin_client.get("/api/leads/?tags=vip").json()
    assert [lead["id"] for lead in body["open_leads"]] == [str(mine.pk)]


def test_sources_catalogue_lists_each_used_source_once(admin_client, org, other_org):
    LeadFactory.create_batch(3, org=org, source="Trade Fair")
    LeadFactory(org=org, source="Website Form")
    LeadFactory(org=other_org, source="Their Secret Source")
    sources = admin_client.get("/api/leads/").json()["source_list"]
    assert sources.count("Trade Fair") == 1
    assert sources.count("Website Form") == 1
    assert "Their Secret Source" not in sources


# Queries of one list request: authentication (the user with their membership), the two
# counts (capped counts, or the tallies), both pages, their assignees and tags, and the
# pickers (contacts, users, sources, tags). Pinned per variant, with leads on both pages.
BASE_QUERIES = 5
LIST_VARIANTS = {
    "": 0,
    "?status=closed": 0,
    "?source=web&status=assigned": 1,  # the organization's sources that match, read first
    "?name=ann": 1,  # the organization's first and last names that match, read first
    "?city=oslo": 1,  # and so on: its cities
    "?email=example": 0,
    "?title=lead": 1,
    "?q=ann": 0,
    "?assigned_to={user}": 0,
    "?tags=tag1": 1,  # the organization's tag ids, read first
    "?tags=tag1,tag2": 1,
    "?ordering=last_name": 0,
    "?ordering=-opportunity_amount": 0,
    "?offset=1": 0,
}


@pytest.mark.parametrize("query", LIST_VARIANTS, ids=lambda q: q or "default")
@pytest.mark.parametrize("role", ["admin", "user"])
def test_list_variant_query_count(query, role, admin_membership, user_membership, org):
    membership = admin_membership if role == "admin" else user_membership
    for n in range(6):
        lead = LeadFactory(
            org=org, first_name="Ann", status="closed" if n % 2 else "assigned", city="Oslo"
        )
        lead.assigned_to.add(membership.user)
        lead.tags.add(TagFactory(org=org, name=f"tag{n}"))
    client = client_for(membership)
    expected = BASE_QUERIES + LIST_VARIANTS[query]
    query = query.format(user=membership.user_id)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/leads/{query}")
    assert response.status_code == 200, response.json()
    assert len(queries) == expected, "\n".join(q["sql"] for q in queries)
    # The cursor's next page costs the same (or one page less once a list has ended).
    cursor = client.get(f"/api/leads/{query}{'&' if query else '?'}limit=1").json()["next_cursor"]
    if cursor and "offset" not in query:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                f"/api/leads/{query}{'&' if query else '?'}limit=1&cursor={cursor}"
            )
        assert response.status_code == 200
        assert len(queries) <= expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    "name, setting",
    [
        # A runaway query ends in the database, not only in the web worker that gave up.
        ("statement_timeout", "DATABASE_STATEMENT_TIMEOUT_MS"),
        # A process frozen mid-transaction releases its row locks (an import job's, say).
        ("idle_in_transaction_session_timeout", "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS"),
    ],
)
def test_every_connection_carries_the_time_limits(settings, name, setting):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = %s", [name])
        (value,) = cursor.fetchone()
    assert int(value) == getattr(settings, setting) > 0


@pytest.mark.postgres
def test_connections_start_no_parallel_workers_by_default(settings):
    """A page or a capped count is a few milliseconds of work: starting parallel workers
    for it cost more than it saved (DATABASE_PARALLEL_WORKERS)."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        (value,) = cursor.fetchone()
    assert value == settings.DATABASE_PARALLEL_WORKERS == "0"


def test_user_member_counts_each_visible_lead_once(user_client, org, user_membership, monkeypatch):
    # Their counts add the leads they created and the leads assigned to them that they did
    # not create: a lead that is both counts once, the cap applies to the sum, and filters
    # apply to both parts.
    user = user_membership.user
    both = LeadFactory(org=org, created_by=user, city="Oslo")
    both.assigned_to.add(user)
    LeadFactory(org=org, created_by=user, city="Bergen")
    LeadFactory(org=org, created_by=user, status="closed", city="Oslo")
    for city in ("Oslo", "Oslo", "Bergen"):
        LeadFactory(org=org, city=city).assigned_to.add(user)
    LeadFactory(org=org, city="Oslo")  # neither created by nor assigned to them
    LeadFactory(org=org, created_by=user, status="converted")
    body = user_client.get("/api/leads/").json()
    counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
    assert counts == (5, 1, True)
    assert len(body["open_leads"]) == 5
    body = user_client.get("/api/leads/?city=oslo").json()
    counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
    assert counts == (3, 1, True)
    monkeypatch.setattr(listing, "COUNT_EXACT_LIMIT", 2)
    body = user_client.get("/api/leads/?city=oslo").json()
    counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
    assert counts == (2, 1, False)
    # Unfiltered, their tallies: exact whatever the limit.
    body = user_client.get("/api/leads/").json()
    counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
    assert counts == (5, 1, True)


def test_user_member_sees_assigned_leads_without_a_creator(user_client, org, user_membership):
    # A lead whose creator was deleted (created_by NULL) stays visible to its assignees.
    lead = LeadFactory(org=org, created_by=None)
    lead.assigned_to.add(user_membership.user)
    LeadFactory(org=org, created_by=None)  # not theirs
    body = user_client.get("/api/leads/").json()
    assert [item["id"] for item in body["open_leads"]] == [str(lead.pk)]
    assert user_client.get(f"/api/leads/{lead.pk}/").status_code == 200
    body = user_client.get("/api/leads/?city=").json()
    assert body["open_leads_count"] == 1


def test_partial_trigram_indexes_name_the_lists_statuses():
    # PostgreSQL uses a partial index only when the query implies its predicate: the
    # migration's open list must be the list's (OPEN_STATUSES), every status but closed
    # and converted.
    import importlib

    from leads.choices import OPEN_STATUSES, LeadStatus

    migration = importlib.import_module(
        "leads.migrations.0007_trigram_indexes_by_organization_and_list"
    )
    named = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    assert f"status IN ({named})" == migration.OPEN
    assert f"status = '{LeadStatus.CLOSED}'" == migration.CLOSED
    others = set(LeadStatus.values) - {LeadStatus.CLOSED, LeadStatus.CONVERTED}
    assert set(OPEN_STATUSES) == others


BY_DISTINCT_VALUE = pytest.mark.parametrize(
    "tested_at_most", [500, 1], ids=["by-distinct-value", "lead-by-lead"]
)


@BY_DISTINCT_VALUE
@pytest.mark.parametrize("field", ["source", "city", "title"])
def test_part_of_filters_match_part_of_the_value_in_any_case(
    admin_client, org, other_org, monkeypatch, tested_at_most, field
):
    # Tested on the organization's distinct values, or on every lead beyond a bound: the
    # same answer either way, `%` and `_` taken literally, another organization's values
    # never matched.
    monkeypatch.setattr(selectors, "DISTINCT_VALUES_TESTED_AT_MOST", tested_at_most)
    web = LeadFactory(org=org, **{field: "Website Form"})
    LeadFactory(org=org, status="closed", **{field: "Web 100% organic"})
    LeadFactory(org=org, **{field: "Cold Call"})
    LeadFactory(org=org, **{field: "Web_shop"})
    LeadFactory(org=org, **{field: ""})
    LeadFactory(org=other_org, **{field: "Website Form"})
    LeadFactory(org=other_org, **{field: "Their Webinar"})

    def found(part, **more):
        body = admin_client.get("/api/leads/", {field: part, **more}).json()
        leads = body["open_leads"] + body["closed_leads"]
        assert body["open_leads_count"] + body["closed_leads_count"] == len(leads)
        return sorted(lead[field] for lead in leads)

    assert found("WEBSITE") == ["Website Form"]
    assert found("web") == ["Web 100% organic", "Web_shop", "Website Form"]
    assert found("100%") == ["Web 100% organic"]
    assert found("b_s") == ["Web_shop"]
    assert found("%") == ["Web 100% organic"]
    assert found("nothing") == []
    assert found("binar") == []
    body = admin_client.get("/api/leads/", {field: "form", "status": "assigned"}).json()
    assert [lead["id"] for lead in body["open_leads"]] == [str(web.pk)]


@BY_DISTINCT_VALUE
def test_name_filter_matches_first_last_or_both(
    admin_client, org, other_org, monkeypatch, tested_at_most
):
    monkeypatch.setattr(selectors, "DISTINCT_VALUES_TESTED_AT_MOST", tested_at_most)
    for first, last in [
        ("Jane", "Prospect"),
        ("Janet", "Smith"),
        ("Ann", "Janeway"),
        ("Mary Jane", "Watson"),
        ("Bob", "Prosper"),
    ]:
        LeadFactory(org=org, first_name=first, last_name=last)
    LeadFactory(org=other_org, first_name="Jane", last_name="Prospect")

    def found(part):
        body = admin_client.get("/api/leads/", {"name": part}).json()
        assert body["open_leads_count"] == len(body["open_leads"])
        return sorted(f"{lead['first_name']} {lead['last_name']}" for lead in body["open_leads"])

    assert found("jane") == ["Ann Janeway", "Jane Prospect", "Janet Smith", "Mary Jane Watson"]
    assert found("PROSP") == ["Bob Prosper", "Jane Prospect"]
    assert found("jane  prosp") == ["Jane Prospect"]
    assert found("mary jane") == ["Mary Jane Watson"]
    assert found("ane way") == []
    assert found("nobody") == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    "search, index",
    [
        ("city=oslo", "lead_org_city_status_idx"),
        ("title=renew", "lead_org_title_status_idx"),
        ("name=garc", "lead_org_last_name_status_idx"),
        ("name=ann", "lead_org_first_name_status_idx"),
    ],
)
def test_a_filter_by_distinct_values_counts_from_its_index_alone(admin_client, org, search, index):
    # The index holds everything the count reads of each lead (the value, the status): a
    # column the count needs beyond it would turn this plan into one that visits every
    # matching lead's row.
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    LeadFactory(org=org, first_name="Ann", last_name="Garcia", city="Oslo", title="Renewal")
    Lead.objects.bulk_create(
        LeadFactory.build(
            org=org, first_name=f"F{n}", last_name=f"L{n}", city=f"C{n}", title=f"T{n}"
        )
        for n in range(300)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")  # the planner knows each value is rare
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(f"/api/leads/?{search}").status_code == 200
    (counted,) = [query["sql"] for query in queries if "capped_0" in query["sql"]]
    with connection.cursor() as cursor:
        # Every plan but an index-only scan is disabled: one that reads the table only
        # wins if no index holds what the count reads (a fresh table is not vacuumed, so
        # PostgreSQL would otherwise rate both kinds of index scan alike).
        for method in ("seqscan", "bitmapscan", "indexscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("EXPLAIN " + counted.replace("%", "%%"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The open list's count (every lead here is open: the closed one may take any plan).
    open_list = plan.split("InitPlan 2")[0]
    assert f"Index Only Scan using {index} on leads_lead" in open_list, plan
    assert "Index Scan using" not in open_list.replace("Index Only Scan using", ""), plan


def test_an_organization_with_too_many_values_skips_the_distinct_scan_for_a_while(
    admin_client, org, monkeypatch
):
    # Remembered: the next city filter tests each lead at once. Only "too many" is
    # remembered, and a cache that fails costs the saving only, never the answer.
    monkeypatch.setattr(selectors, "DISTINCT_VALUES_TESTED_AT_MOST", 2)
    for city in ("Oslo", "Bergen", "Osaka"):
        LeadFactory(org=org, city=city)

    def cities(part):
        with CaptureQueriesContext(connection) as queries:
            body = admin_client.get("/api/leads/", {"city": part}).json()
        scanned = any("used_0" in query["sql"] for query in queries)
        return sorted(lead["city"] for lead in body["open_leads"]), scanned

    assert cities("os") == (["Osaka", "Oslo"], True)
    assert cities("os") == (["Osaka", "Oslo"], False)
    assert cities("berg") == (["Bergen"], False)
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get("/api/leads/", {"title": "x"}).status_code == 200
    assert any("used_0" in query["sql"] for query in queries)  # another column: scanned

    def unavailable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(selectors.cache, "get_many", unavailable)
    monkeypatch.setattr(selectors.cache, "set_many", unavailable)
    assert cities("sl") == (["Oslo"], True)
