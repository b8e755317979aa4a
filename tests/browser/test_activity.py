"""Settings → Activity in a real browser, on a desktop and a 390 px phone, in
English and German: the filters swap the list in place and push their
address, the pages move, and nothing of the log runs off the screen."""
from datetime import timedelta

import pytest

from portal.audit import audit_in
from portal.db import utcnow
from tests.browser.conftest import ARTIFACTS, screenshot, sign_in

pytestmark = pytest.mark.browser


def fits(page, selector):
    """Every element of `selector` ends inside the viewport's width."""
    width = page.viewport_size["width"]
    rights = page.eval_on_selector_all(selector, "nodes => nodes.map(node => node.getBoundingClientRect().right)")
    assert rights and max(rights) <= width, (selector, max(rights), width)


@pytest.mark.parametrize("width,height,language", [(1366, 900, "en"), (390, 844, "en"), (390, 844, "de")])
def test_the_log_filters_and_pages_in_place_and_fits_the_screen(browser, live_server, agency, session,
                                                               width, height, language):
    org, (cafe, gym, *_) = agency["org"], agency["profiles"]
    now = utcnow()
    for n in range(60):
        audit_in(session, "token.failed", organization_id=org.id, profile=gym, created_at=now - timedelta(hours=n + 1),
                 mode="health_check", reason="app_removed")
    audit_in(session, "link.sent", organization_id=org.id, profile=cafe, created_at=now - timedelta(minutes=5),
             actor_name="Marcus Lee with a name long enough to wrap on a phone",
             recipient="someone.with.a.very.long.address@clients-of-the-agency.example")
    session.commit()
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        sign_in(page, "owner@example.test")
        page.set_extra_http_headers({"Accept-Language": language})
        page.goto("/settings/activity")
        lines = page.locator(".activity-line")
        assert lines.count() == 50
        for selector in (".activity-line", ".activity-filters .field", ".pagination", ".activity-head"):
            fits(page, selector)
        screenshot(page, f"activity-{width}-{language}")
        page.locator(".activity-head").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"activity-{width}-{language}-list.png"))

        kind = {"en": "Links to clients", "de": "Links an Kunden"}[language]
        page.locator("#activity-kind").select_option(label=kind)
        page.wait_for_url(lambda url: "kind=links" in url)
        assert lines.count() == 1
        page.go_back()
        page.wait_for_url(lambda url: "kind=" not in url)
        assert lines.count() == 50
        page.locator("a[rel=next]").click()
        page.wait_for_url(lambda url: "page=2" in url)
        assert lines.count() == 12  # 60 + the link + the sign-in
    finally:
        context.close()
