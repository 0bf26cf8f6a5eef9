"""The audit log page: administrators only, searchable by actor, action, object and dates."""

import datetime
import re
import zoneinfo
from html import unescape as html_unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tenancy.audit import Actor, record
from tenancy.models import AuditEvent
from tenancy.views import audit as audit_views
from tenancy.views.tenancy import PER_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(cast, reseller_a, org_a):
    alice = Actor(user=cast["reseller_a"], address="203.0.113.5")
    admin = Actor(user=cast["admin"])
    first = record(actor=alice, action="organization.update", obj=org_a, reseller=reseller_a)
    second = record(actor=admin, action="reseller.update", obj=reseller_a)
    old = record(actor=admin, action="license.update", object_repr="License")
    AuditEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    return first, second, old


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


def test_it_lists_who_did_what_from_where(client_for, events):
    page = client_for("admin").get(reverse("tenancy:audit_list")).content.decode()
    assert "organization.update" in page and "203.0.113.5" in page and "alice" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"actor": "ali"}, "organization.update", "reseller.update"),
        ({"action": "reseller"}, "reseller.update", "organization.update"),
        ({"object": "Org A1"}, "organization.update", "reseller.update"),
        ({"object": "tenancy.reseller"}, "reseller.update", "organization.update"),
    ],
)
def test_it_searches_by_actor_action_and_object(client_for, events, query, shown, hidden):
    page = client_for("admin").get(reverse("tenancy:audit_list"), query).content.decode()
    assert shown in page and hidden not in page


def test_it_filters_by_date_range(client_for, events):
    today = timezone.localdate()
    client = client_for("admin")
    recent = client.get(
        reverse("tenancy:audit_list"), {"date_from": today - datetime.timedelta(days=1)}
    ).content.decode()
    assert "license.update" not in recent and "reseller.update" in recent
    old = client.get(
        reverse("tenancy:audit_list"), {"date_to": today - datetime.timedelta(days=30)}
    ).content.decode()
    assert "license.update" in old and "reseller.update" not in old


def test_a_bad_date_is_a_form_error_not_a_500(client_for, events):
    response = client_for("admin").get(reverse("tenancy:audit_list"), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def _actions(html: str) -> list[str]:
    return re.findall(r"test\.event(\d+)", html)


def _link(html: str, label: str) -> str | None:
    """The href of a pager link, or None when the link is disabled."""
    match = re.search(
        r'<li class="page-item( disabled)?"><a class="page-link" href="([^"]*)"[^>]*>'
        + re.escape(label),
        html,
    )
    assert match, label
    return None if match.group(1) else html_unescape(match.group(2))


def only_the_tests_events():
    """These tests read the whole log page by page: they start from a log holding none of
    the set-up's events (the cast's and reseller A's, written by tests.factories through the
    services). Deleting audit rows is something only a test does."""
    AuditEvent.objects.all().delete()


@pytest.fixture
def sixty(cast):
    """60 events, event00 the oldest; 20 of them share one timestamp (ties on created_at)."""
    only_the_tests_events()
    admin = Actor(user=cast["admin"])
    events = [
        record(actor=admin, action=f"test.event{i:02d}", object_repr=f"thing {i}")
        for i in range(60)
    ]
    base = timezone.now() - datetime.timedelta(hours=1)
    for i, event in enumerate(events):
        when = base + datetime.timedelta(seconds=min(i, 20) if i < 40 else i)
        AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
    return events


def test_it_pages_by_key_through_every_boundary(client_for, sixty, django_assert_max_num_queries):
    client = client_for("admin")
    url = reverse("tenancy:audit_list")
    with django_assert_max_num_queries(8):
        first = client.get(url).content.decode()
    assert _actions(first) == [f"{i:02d}" for i in range(59, 34, -1)]
    assert _link(first, "Previous") is None and _link(first, "&laquo; First") is None
    second = client.get(url + _link(first, "Next")).content.decode()
    # Events 20..39 share one timestamp: the id breaks the tie, none lost or repeated.
    assert _actions(second) == [f"{i:02d}" for i in range(34, 9, -1)]
    third = client.get(url + _link(second, "Next")).content.decode()
    assert _actions(third) == [f"{i:02d}" for i in range(9, -1, -1)]
    assert _link(third, "Next") is None and _link(third, "Last &raquo;") is None
    back = client.get(url + _link(third, "Previous")).content.decode()
    assert _actions(back) == _actions(second)
    again = client.get(url + _link(back, "Previous")).content.decode()
    assert _actions(again) == _actions(first)
    assert _link(again, "Previous") is None  # back at the newest: nothing newer
    with django_assert_max_num_queries(8):
        last = client.get(url + _link(first, "Last &raquo;")).content.decode()
    assert _actions(last) == [f"{i:02d}" for i in range(24, -1, -1)]  # the oldest 25
    assert _link(last, "Next") is None
    assert _actions(client.get(url + _link(last, "Previous")).content.decode()) == [
        f"{i:02d}" for i in range(49, 24, -1)
    ]


def test_oldest_first_pages_the_other_way(client_for, sixty):
    client = client_for("admin")
    url = reverse("tenancy:audit_list")
    first = client.get(url, {"sort": "created_at"}).content.decode()
    assert _actions(first) == [f"{i:02d}" for i in range(25)]
    second = client.get(url + _link(first, "Next")).content.decode()
    assert _actions(second) == [f"{i:02d}" for i in range(25, 50)]
    last = client.get(url + _link(first, "Last &raquo;")).content.decode()
    assert _actions(last) == [f"{i:02d}" for i in range(35, 60)]
    assert _actions(client.get(url + _link(second, "Previous")).content.decode()) == _actions(first)


def test_exactly_one_page_has_no_pager(client_for, cast):
    only_the_tests_events()
    admin = Actor(user=cast["admin"])
    for i in range(PER_PAGE):
        record(actor=admin, action=f"test.event{i:02d}")
    html = client_for("admin").get(reverse("tenancy:audit_list")).content.decode()
    assert len(_actions(html)) == PER_PAGE and 'aria-label="Audit log pages"' not in html
    record(actor=admin, action="test.event99")
    html = client_for("admin").get(reverse("tenancy:audit_list")).content.decode()
    assert len(_actions(html)) == PER_PAGE and _link(html, "Next") is not None


def test_paging_keeps_the_search_and_a_bad_key_shows_the_first_page(client_for, sixty):
    client = client_for("admin")
    url = reverse("tenancy:audit_list")
    first = client.get(url, {"action": "event"}).content.decode()
    assert "action=event" in _link(first, "Next")
    assert _actions(client.get(url, {"after": "nonsense"}).content.decode()) == _actions(first)
    # The export buttons of a later page export the search, not the page's position.
    second = client.get(url + _link(first, "Next")).content.decode()
    exports = re.findall(r'href="(/exports/audit\.[^"]*)"', second)
    assert exports and all("action=event" in h and "after" not in h for h in exports)


def test_the_count_is_bounded(client_for, sixty, monkeypatch):
    client = client_for("admin")
    total = AuditEvent.objects.count()
    assert total >= 60
    assert f"{total} events," in client.get(reverse("tenancy:audit_list")).content.decode()
    monkeypatch.setattr(audit_views, "COUNT_CAP", 30)
    assert "More than 30 events" in client.get(reverse("tenancy:audit_list")).content.decode()


def test_date_filters_are_whole_days_in_the_server_time_zone(client_for, cast, settings):
    settings.TIME_ZONE = "Europe/Bucharest"
    admin = Actor(user=cast["admin"])
    zone = zoneinfo.ZoneInfo("Europe/Bucharest")
    moments = {
        "test.event01": datetime.datetime(2026, 3, 9, 23, 59, 59, tzinfo=zone),
        "test.event02": datetime.datetime(2026, 3, 10, 0, 0, 0, tzinfo=zone),
        "test.event03": datetime.datetime(2026, 3, 10, 23, 59, 59, 999999, tzinfo=zone),
        "test.event04": datetime.datetime(2026, 3, 11, 0, 0, 0, tzinfo=zone),
    }
    for action, when in moments.items():
        event = record(actor=admin, action=action)
        AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
    html = (
        client_for("admin")
        .get(reverse("tenancy:audit_list"), {"date_from": "2026-03-10", "date_to": "2026-03-10"})
        .content.decode()
    )
    assert sorted(_actions(html)) == ["02", "03"]


def test_cursor_round_trips_exactly():
    when = datetime.datetime(2026, 12, 6, 21, 30, 15, 123457, tzinfo=datetime.UTC)
    event = AuditEvent(pk=42, created_at=when)
    assert audit_views.parse_cursor(audit_views.cursor_of(event)) == (when, 42)
    assert audit_views.parse_cursor("1_") is None and audit_views.parse_cursor(None) is None


def test_it_shows_each_changed_field_as_before_and_after_with_the_raw_values_a_click_away(
    client_for, cast, reseller_a
):
    only_the_tests_events()
    admin = Actor(user=cast["admin"])
    record(
        actor=admin,
        action="reseller.update",
        obj=reseller_a,
        before={"name": "Reseller A", "active": True, "max_active_callerids": 10},
        after={"name": "Reseller A", "active": False, "max_active_callerids": 25, "note": "x"},
    )
    page = client_for("admin").get(reverse("tenancy:audit_list")).content.decode()
    assert '<span class="field">active</span>: <del>yes</del> → <ins>no</ins>' in page
    assert '<span class="field">max_active_callerids</span>: <del>10</del> → <ins>25</ins>' in page
    assert '<span class="field">note</span>: <ins>x</ins>' in page
    assert '<span class="field">name</span>' not in page  # unchanged: not listed
    raw = page.split("<summary>Raw values</summary>", 1)[1].split("</details>", 1)[0]
    assert "&quot;name&quot;: &quot;Reseller A&quot;" in raw  # the whole values, escaped


def test_changes_lists_only_fields_that_differ_and_marks_created_and_removed_ones():
    from tenancy.tables.tenancy import changes

    assert changes({"a": 1, "b": "x"}, {"a": 2, "b": "x", "c": None}) == [
        ("a", "1", "2"),
        ("c", None, "—"),
    ]
    assert changes({"gone": "y"}, None) == [("gone", "y", None)]
    assert changes(None, None) == []
    long = "z" * 100
    assert changes({}, {"t": long})[0][2] == "z" * 59 + "…"
