"""Every page at 1366 px and at 390 px wide, in English and in German: no page
scrolls sideways, the header's dropdown, the bell and every dialog stay inside
the screen, and axe-core (the npm package, injected into each page; `make test`
installs it with `npm ci`) finds no serious or critical violation. One test per
width and language walks them all, as an Owner, a Member and someone signed out,
and reports every finding at once, each page with one kept as a screenshot in
test-artifacts/."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal.db import utcnow
from portal.links import service as links
from portal.links.rules import Purpose
from portal.models import ConnectInvitation, Invitation, Membership, Notification, User, WebhookEndpoint
from portal.url_secrets import new_secret
from tests import factories as f
from tests.browser.conftest import SETTLE_MS, SETTLED, WAIT_MS, screenshot

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"en": "en-US", "de": "de-DE"}

# What overflows sideways: the page itself, or any region that scrolls sideways inside it.
OVERFLOW = """() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const root = document.documentElement;
  const found = [];
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [...document.body.querySelectorAll('*')].filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width && box.right > root.clientWidth + 1 && !el.closest('[hidden], dialog:not([open])');
    }).slice(0, 3).map(name);
    found.push(`the page is ${root.scrollWidth}px wide (${wide.join(', ')})`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1
        && !['SELECT', 'TEXTAREA', 'INPUT'].includes(el.tagName)) {
      found.push(`${name(el)} scrolls sideways (${el.scrollWidth}px in ${el.clientWidth}px)`);
    }
  }
  return found;
}"""

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) =>
    `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
}"""


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` at the top of the checkout (`make test` does).")
    return AXE.read_text()


@pytest.fixture
def walk(agency, session):
    """What the walk visits besides the agency's profiles: notices in the bell,
    a webhook, an invitation, a member's and a client's renewal links."""
    org, profiles = agency["org"], agency["profiles"]
    owner, member = (session.exec(select(User).where(User.email == email)).one()
                     for email in ("owner@example.test", "member@example.test"))
    now = utcnow()
    for n, (profile, kind, days) in enumerate([(profiles[1], "invalid", 0), (profiles[0], "expired", 0),
                                               (profiles[2], "expiring", 7), (profiles[3], "expiring", 7)]):
        session.add(Notification(key=f"walk-{n}", user_id=owner.id, organization_id=org.id, profile_id=profile.id,
                                 kind=kind, threshold_days=days, expires_at=now + timedelta(days=days),
                                 created_at=now - timedelta(hours=n), read_at=now if n == 3 else None))
    webhook = WebhookEndpoint(organization_id=org.id, url="https://hooks.example.com/keepalive/token-events",
                              sealed_secret="sealed", events="token.expiring,token.expired")
    session.add(webhook)
    invitation_secret, secret_hash = new_secret()
    session.add(Invitation(organization_id=org.id, email="new.person@example.test", role="member",
                           secret_hash=secret_hash, expires_at=now + timedelta(hours=72)))
    connect_secret, connect_hash = new_secret()
    session.add(ConnectInvitation(organization_id=org.id, email="client@example.test", networks="instagram,facebook",
                                  message="Please connect the café's accounts.", secret_hash=connect_hash,
                                  invited_by_id=owner.id, expires_at=now + timedelta(days=7)))
    member_link, _ = links.issue(session, profiles[0], owner.email, Purpose.MEMBER, now=now)
    client_link, _ = links.issue(session, profiles[1], "client@example.test", Purpose.CLIENT,
                                 created_by_id=owner.id, now=now)
    session.commit()
    member_membership = session.exec(select(Membership).where(Membership.user_id == member.id)).one()
    return {"profiles": [p.id for p in profiles], "brand": agency["brands"][0].id, "webhook": webhook.id,
            "member": member_membership.id, "invitation": invitation_secret,
            "member_link": member_link, "client_link": client_link, "connect": connect_secret}


class Walk:
    """Visits pages and keeps what is wrong on each."""

    def __init__(self, page, axe, size, name):
        """`axe`: the source of axe-core, or None to check the layout only."""
        self.page, self.axe, self.size, self.name, self.findings = page, axe, size, name, []

    def visit(self, url, expect_status=200):
        response = self.page.goto(url)
        if response.status != expect_status:
            self.findings.append(f"{url}: answered {response.status}, not {expect_status}")
        self.page.wait_for_function(SETTLED, timeout=SETTLE_MS)
        self.check(url)

    def check(self, label):
        """No sideways scrolling and no serious violation; a page with findings is kept as a screenshot."""
        found = len(self.findings)
        for problem in self.page.evaluate(OVERFLOW):
            self.findings.append(f"{label}: {problem}")
        if self.axe:
            if not self.page.evaluate("typeof axe !== 'undefined'"):
                self.page.add_script_tag(content=self.axe)
            for violation in self.page.evaluate(AXE_RUN):
                self.findings.append(f"{label}: {violation}")
        if len(self.findings) > found:
            screenshot(self.page, f"{self.name}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}")

    def inside(self, label, locator):
        """`locator` is shown and wholly inside the viewport."""
        if not locator.count() or not locator.first.is_visible():
            self.findings.append(f"{label}: not shown")
            return
        box = locator.first.bounding_box()
        width, height = self.size["width"], self.size["height"]
        if box["x"] < -0.5 or box["y"] < -0.5 or box["x"] + box["width"] > width + 0.5 \
                or box["y"] + box["height"] > height + 0.5:
            self.findings.append(f"{label}: outside the {width}×{height} viewport "
                                 f"(x {box['x']:.0f}, y {box['y']:.0f}, {box['width']:.0f}×{box['height']:.0f})")

    def sign_in(self, email):
        self.page.goto("/login")
        self.page.locator("#email").fill(email)
        self.page.locator("#password").fill(f.PASSWORD)
        self.page.locator("form button[type=submit]").click()
        self.page.wait_for_url(lambda url: "/login" not in url)
        self.page.wait_for_function(SETTLED, timeout=SETTLE_MS)

    def sign_out(self):
        self.page.context.clear_cookies()


def open_disclosure(walk, slot, label):
    """The dropdown or menu in `slot` opened (its items loaded): inside the screen, and checked."""
    button = walk.page.locator(f"{slot} button[aria-controls], {slot} button.menu-button").first
    button.click()
    panel = walk.page.locator(f"#{button.get_attribute('aria-controls')}")
    expect(panel.locator("a, button, [role=menuitem]").first).to_be_visible()
    walk.page.wait_for_function(SETTLED, timeout=SETTLE_MS)
    walk.inside(label, panel)
    walk.check(label)
    walk.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def check_dialog(walk, label):
    """The open dialog inside the screen, its Close button at its top, and checked."""
    dialog = walk.page.locator("dialog[open]")
    walk.inside(label, dialog)
    close = dialog.locator(".dialog-head button")
    walk.inside(f"{label}, Close", close)
    walk.check(label)
    walk.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_and_passes_axe(browser, live_server, walk, axe_source, size, language):
    context = browser.new_context(base_url=live_server, viewport=SIZES[size], locale=LANGUAGES[language],
                                  bypass_csp=True)  # axe-core is injected as an inline script
    if language == "en":
        # Into every page as it starts: sent to the browser once, not once per page checked.
        context.add_init_script(axe_source)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    # axe-core's rules read the markup, which is the same in both languages: the English walks run them.
    visit = Walk(page, axe_source if language == "en" else None, SIZES[size], f"layout-{size}-{language}")
    profiles = walk["profiles"]
    try:
        # Signed out.
        for url in ["/login", "/reset", "/reset/sent", "/signup", "/signup/sent", f"/invitations/{walk['invitation']}",
                    f"/renew/client/{walk['client_link']}", f"/connect/{walk['connect']}"]:
            visit.visit(url)
        visit.visit("/connect/thanks", expect_status=404)
        visit.visit("/renew/client/not-a-link", expect_status=404)

        # An Owner: the warning after sign-in first, then every page.
        visit.sign_in("owner@example.test")
        expect(page.locator("dialog.login-warning[open]")).to_be_visible()
        check_dialog(visit, "the warning after sign-in")
        visit.check("/ (after sign-in)")
        open_disclosure(visit, "#expired-tokens", "the Expired Tokens dropdown")
        open_disclosure(visit, "#notification-bell", "the bell")
        open_disclosure(visit, ".user-menu", "the account menu")
        visit.visit("/accounts")
        open_disclosure(visit, f"#profile-row-{profiles[0]} .row-menu", "a row's ⋯ menu")
        for url in ["/accounts?status=expiring", *(f"/accounts/{profiles[n]}" for n in (0, 1, 4, 6)),
                    f"/accounts/{profiles[0]}/managers", f"/accounts/{profiles[0]}/send-link",
                    "/accounts/expired-tokens", "/accounts/connect", "/accounts/connect/invite",
                    "/accounts/connect/invitations", f"/accounts/{profiles[0]}/remove", "/notifications",
                    "/settings/members", f"/settings/members/{walk['member']}/remove",
                    "/settings/access", f"/settings/access/{walk['member']}",
                    "/settings/brands", f"/settings/brands/{walk['brand']}",
                    f"/settings/brands/{walk['brand']}/delete", "/settings/organization",
                    "/settings/integrations", f"/settings/integrations/webhooks/{walk['webhook']}",
                    "/settings/api-keys", "/settings/activity", "/settings/personal", "/api/docs",
                    f"/renew/link/{walk['member_link']}"]:
            visit.visit(url)
        page.goto(f"/accounts/{profiles[0]}")
        page.locator(f"a[hx-get='/accounts/{profiles[0]}/managers']").click()
        expect(page.locator("dialog.managers-dialog[open]")).to_be_visible()
        check_dialog(visit, "See all managers")
        page.goto("/accounts")
        page.locator(f"#profile-row-{profiles[0]} .row-menu button.menu-button").click()
        page.locator(f"#row-menu-{profiles[0]} a[href^='/accounts/{profiles[0]}/remove']").click()
        expect(page.locator("dialog.remove-dialog[open]")).to_be_visible()
        check_dialog(visit, "Remove profile")
        visit.visit("/no-such-page", expect_status=404)
        visit.visit(f"/accounts/{profiles[0] + 1000}", expect_status=404)
        visit.visit("/logout", expect_status=405)
        visit.sign_out()

        # A Member: what they may not do, said on the pages they see.
        visit.sign_in("member@example.test")
        if page.locator("dialog.login-warning[open]").count():
            check_dialog(visit, "the Member's warning after sign-in")
        for url in ["/", "/accounts", f"/accounts/{profiles[0]}", f"/accounts/{profiles[2]}", "/settings/personal"]:
            visit.visit(url)
        visit.visit("/settings/members", expect_status=403)
    finally:
        context.close()
    assert visit.findings == [], "\n".join(visit.findings)
