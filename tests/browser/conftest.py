"""Browser journeys: the app served on loopback by werkzeug in a thread, on
SQLite, driven by Debian's chromium through Playwright's sync API."""
import os
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from portal.db import utcnow
from portal.models import CanRenew, CredentialState, InvalidReason, NativeRole
from tests import factories as f
from tests.serving import served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 20_000
# htmx has loaded what the page loads on arrival (the header's dropdown and bell, the warning after sign-in).
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
SETTLE_MS = 3 * WAIT_MS  # a machine running the suite in parallel can take long


@pytest.fixture
def database(sqlite_database):
    """Browser journeys run on SQLite only (overrides the parametrized database)."""
    return sqlite_database


def whole_responses(app):
    """`app`, answering with bodies read whole (and closed) before they are
    sent. Werkzeug's development server does not close a response whose
    browser left while it was sent (a page closed as an icon loads), which
    leaves its file open until some later test's garbage collection."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 and a free port; its base URL."""
    with served(whole_responses(app)) as base_url:
        yield base_url


@pytest.fixture
def sandbox_samples(app, live_server):
    """The served app as its own public address (with the sandbox on: its
    networks too), and the sandbox's sample people and accounts."""
    app.config.update(BASE_URL=live_server, SANDBOX_BASE_URL=live_server)
    with httpx2.Client(base_url=live_server, trust_env=False) as client:
        assert client.post("/sandbox/admin/api/samples", json={}).status_code == 200


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; "
                    "`make test` installs it).")
    from playwright.sync_api import expect, sync_playwright

    # Waits long enough for a machine busy with other work: they only lengthen a failure.
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, email, password=f.PASSWORD):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    # After sign-in a dialog may warn of tokens at risk (htmx loads it, and it opens as it arrives):
    # these journeys start once it is closed.
    page.wait_for_function(SETTLED, timeout=SETTLE_MS)
    warning = page.locator("dialog.login-warning[open]")
    if warning.count():
        page.keyboard.press("Escape")
        warning.wait_for(state="detached")


@pytest.fixture
def agency(session):
    """An agency like a real one: three brands, people of each kind, and
    profiles in every token state."""
    now = utcnow()
    specs = [
        ("facebook", "Northwind Café", "@northwindcafe", ["cafe"], dict(expires_in=timedelta(days=-2))),
        ("instagram_business", "Harbor Fitness", "@harborfit", ["fitness"],
         dict(status=CredentialState.INVALID, invalid_reason=InvalidReason.PASSWORD_CHANGED,
              invalidated_at=now - timedelta(days=1))),
        ("linkedin_company", "Bluebell Books", "bluebell-books", ["books"], dict(expires_in=timedelta(days=3, hours=2))),
        ("youtube", "Harbor Fitness TV", "@harbortv", ["fitness"], dict(expires_in=timedelta(days=6, hours=2))),
        ("x", "Northwind Café", "@northwind", ["cafe"], dict(expires_in=None, last_check_ok=True)),
        ("threads", "Bluebell Books", "@bluebell", ["books"], dict(expires_in=timedelta(days=40))),
        ("google_business", "Northwind Café Downtown", "", ["cafe", "books"],
         dict(expires_in=timedelta(days=150), data_access_expires_at=now + timedelta(days=80))),
        ("pinterest", "Bluebell Books", "@bluebellpins", ["books"], dict(expires_in=timedelta(days=300))),
    ]
    made = f.agency(
        session,
        people={"owner": {"role": "owner", "name": "Olivia Hart"},
                "manager": {"role": "manager", "name": "Marcus Lee"},
                "member": {"role": "member", "name": "Mia Santos"}},
        brands={"cafe": "Northwind Café", "fitness": "Harbor Fitness", "books": "Bluebell Books"},
        profiles={n: {"network": network, "name": name, "handle": handle, "brands": brands,
                      "credential": {**credential, "granted_by": "owner"}}
                  for n, (network, name, handle, brands, credential) in enumerate(specs)},
        rights=[("member", 0, "editor"), ("member", 2, "viewer"), ("member", 5, "viewer")],
    )
    profiles = list(made.profiles.values())
    owner, manager, member = made.people["owner"], made.people["manager"], made.people["member"]
    session.add(NativeRole(profile_id=profiles[0].id, user_id=owner.id, can_renew=CanRenew.YES, role="Admin",
                           observed_at=now - timedelta(days=12)))
    session.add(NativeRole(profile_id=profiles[0].id, user_id=member.id, can_renew=CanRenew.NO, role="Analyst",
                           observed_at=now - timedelta(days=4)))
    session.add(NativeRole(profile_id=profiles[0].id, user_id=manager.id, can_renew=CanRenew.UNKNOWN, role="",
                           observed_at=now - timedelta(days=40)))
    session.commit()
    return {"org": made.org, "profiles": profiles, "brands": tuple(made.brands.values())}
