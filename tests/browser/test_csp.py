"""The Content-Security-Policy holds and breaks nothing: the main pages, as an
Owner, a Member and someone signed out, are answered with the policy, and
chromium reports no violation of it (an inline script, style or handler, an
eval by htmx) while they load and while htmx swaps their regions."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PAGES = {
    "owner@example.test": ["/", "/accounts", "/accounts/{profile}", "/notifications", "/settings/personal",
                           "/settings/members", "/settings/brands", "/settings/access", "/settings/integrations",
                           "/settings/organization"],
    "member@example.test": ["/", "/accounts", "/settings/personal"],
    None: ["/login", "/reset"],
}


class Violations:
    """What chromium says of the policy in the console, and script errors."""

    def __init__(self, page):
        self.found = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: {error} {error.stack}"))
        self.page = page

    def console(self, message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.found.append(f"{self.page.url}: {message.text}")


def visit(page, path):
    response = page.goto(path)
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("email", list(PAGES), ids=["owner", "member", "signed out"])
def test_no_page_breaks_the_content_security_policy(page, agency, email):
    violations = Violations(page)
    if email:
        sign_in(page, email)
    for path in PAGES[email]:
        visit(page, path.format(profile=agency["profiles"][0].id))
    if email:
        # htmx at work under the policy: the filters of Manage Accounts, the header's dropdown.
        visit(page, "/accounts")
        page.get_by_label("Name or handle").fill("bluebell")
        expect(page).to_have_url(re.compile(r"q=bluebell"))
        expect(page.locator("tbody tr")).not_to_have_count(8)
        page.get_by_role("button", name=re.compile(r"^Expired Tokens")).click()
        page.wait_for_load_state("networkidle")
    assert violations.found == [], "\n".join(violations.found)
