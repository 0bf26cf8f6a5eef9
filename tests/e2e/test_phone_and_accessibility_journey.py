"""Every main page at desktop (1366 px) and phone (390 px) width, for an admin, a reseller
and a staff user (issue 22): no page-level horizontal scroll, the navigation in a menu on
phones, and axe-core finding no serious or critical accessibility violation. Each page's
screenshot is saved in tests/e2e/screenshots/ (look at the 390 px ones)."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.services.calls import CallReport, report_call
from credit.services.recharge import add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.services.tokens import create_token
from tests.conftest import PASSWORD
from tests.e2e.conftest import SCREENSHOTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}
AXE = Axe()


@pytest.fixture
def business(cast, extension_a, extension_b):
    admin = Actor(user=cast["admin"])
    rows = [NewCallerID(f"+4072100{i:04d}", credit=Decimal(i % 7)) for i in range(9)]
    rows.append(NewCallerID("+40721009999", unlimited=True))
    callerids = add_callerids(actor=admin, extension=extension_a, rows=rows).callerids
    add_callerids(actor=admin, extension=extension_b, rows=[NewCallerID("+40731000001")])
    add_credit(actor=admin, callerid=callerids[1], amount=Decimal("12.5"), order_number="ORD-1")
    add_credit(actor=admin, callerid=callerids[2], amount=Decimal("-1"), order_number="ORD-2")
    token = create_token(actor=SYSTEM, name="pbx", reseller=None).token
    now = timezone.now()
    for n in range(40):
        report = CallReport(
            call_id=uuid.uuid4().hex,
            extension=extension_a.number,
            callerid_id=callerids[n % 9].pk if n % 5 else None,
            caller_id="+40722000000",
            destination="+4031000000",
            started_at=now - dt.timedelta(days=n % 25, hours=n % 3),
            duration_seconds=60 + n * 7,
            cost=Decimal("0.35") * (n % 4 + 1),
        )
        report_call(token=token, report=report, actor=Actor(token=token))
    return {"extension": extension_a, "callerid": callerids[1]}


def pages_for(role: str, business) -> list[tuple[str, str]]:
    extension, callerid = business["extension"], business["callerid"]
    common = [
        ("home", reverse("home")),
        ("extensions", reverse("callback:extension_list")),
        ("callerids", reverse("callerids:list", args=[extension.pk])),
        ("credit", reverse("credit:callerid_credit", args=[callerid.pk])),
        ("cost-report", reverse("credit:cost_report", args=[extension.pk])),
        ("low-credit", reverse("credit:credit_watch") + "?state=empty"),
        ("organizations", reverse("tenancy:organization_list")),
    ]
    if role == "admin":
        common += [
            ("resellers", reverse("tenancy:reseller_list")),
            ("users", reverse("tenancy:user_list")),
            ("tokens", reverse("tenancy:token_list")),
            ("audit", reverse("tenancy:audit_list")),
            ("license", reverse("callerids:license")),
            ("charging", reverse("credit:charging")),
        ]
    if role == "reseller_a":
        common += [
            ("add-callerids", reverse("callerids:add", args=[extension.pk])),
            ("import", reverse("callerids:import", args=[extension.pk])),
        ]
    common.append(("not-found", "/no/such/page/"))
    return common


def check_page(page, name: str, shot: str) -> list[str]:
    """Overflow and axe findings of the page as it is now; saves its screenshot."""
    problems = []
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        problems.append(f"{name}: the page is {widths[0]} px wide in a {widths[1]} px window")
    results = AXE.run(page)
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [node["target"] for node in violation["nodes"]][:5]
            problems.append(f"{name}: {violation['impact']} {violation['id']}: {targets}")
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
    return problems


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(
    ("role", "username"), [("admin", "admin"), ("reseller_a", "alice"), ("staff_a", "sam")]
)
def test_the_main_pages_fit_the_screen_and_pass_axe(page, cast, business, role, username, width):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, username, PASSWORD)
    problems = check_page(page, "home after login", f"a11y-{role}-{width}-00-home")
    expect(page.get_by_role("heading", name="Panel")).to_be_visible()

    navigation = page.get_by_role("navigation", name="Main navigation")
    toggle = navigation.get_by_role("button", name="Toggle navigation")
    if width == "phone":
        # The navigation is a menu behind its button, and opens on a tap.
        expect(toggle).to_be_visible()
        expect(navigation.get_by_role("link", name="Callback extensions")).to_be_hidden()
        toggle.click()
        expect(navigation.get_by_role("link", name="Callback extensions")).to_be_visible()
        problems += check_page(page, "menu open", f"a11y-{role}-{width}-01-menu-open")
        toggle.click()
        expect(navigation.get_by_role("link", name="Callback extensions")).to_be_hidden()
    else:
        expect(toggle).to_be_hidden()
        expect(navigation.get_by_role("link", name="Callback extensions")).to_be_visible()

    for index, (name, url) in enumerate(pages_for(role, business), start=2):
        response = page.goto(url)
        assert response.status == (404 if name == "not-found" else 200), (name, response.status)
        expect(page.locator("h1")).to_be_visible()
        problems += check_page(page, name, f"a11y-{role}-{width}-{index:02d}-{name}")

    assert not problems, "\n".join(problems)


def test_the_skip_link_is_the_first_stop_and_focus_is_visible(page, cast, business):
    log_in(page, "alice", PASSWORD)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.screenshot(path=str(SCREENSHOTS / "a11y-skip-link.png"))


def test_the_callerids_page_explains_s_c_and_b_in_visible_text(page, cast, business):
    log_in(page, "alice", PASSWORD)
    page.goto(reverse("callerids:list", args=[business["extension"].pk]))
    legend = page.get_by_test_id("column-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text(re.compile(r"S\s+status"))
    expect(legend).to_contain_text(re.compile(r"C\s+cost report"))
    expect(legend).to_contain_text(re.compile(r"B\s+balance"))
