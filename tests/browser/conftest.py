"""Browser journeys: the app served on loopback by werkzeug in a thread, on
SQLite, driven by Debian's chromium through Playwright's sync API."""
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel
from werkzeug.serving import make_server

from portal.db import make_engine, utcnow
from portal.models import CanRenew, CredentialState, InvalidReason, NativeRole
from tests import factories as f

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """Browser journeys run on SQLite only (overrides the parametrized database)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'keepalive.sqlite'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    yield {"kind": "sqlite", "url": url, "engine": engine}
    engine.dispose()


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 and a free port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(8000)
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
    # After sign-in a dialog may warn of tokens at risk: these journeys start once it is closed.
    page.wait_for_load_state("networkidle")
    warning = page.locator("dialog.login-warning[open]")
    if warning.count():
        page.keyboard.press("Escape")
        warning.wait_for(state="detached")


@pytest.fixture
def agency(app):
    """An agency like a real one: three brands, people of each kind, and
    profiles in every token state."""
    with app.app_context(), Session(app.extensions["keepalive.engine"], expire_on_commit=False) as s:
        org = f.organization(s, name="Northwind Agency")
        cafe, fitness, books = (f.brand(s, org, name) for name in ("Northwind Café", "Harbor Fitness", "Bluebell Books"))
        owner = f.member(s, org, role="owner", email="owner@example.test", name="Olivia Hart")
        manager = f.member(s, org, role="manager", email="manager@example.test", name="Marcus Lee")
        member = f.member(s, org, role="member", email="member@example.test", name="Mia Santos")
        now = utcnow()
        specs = [
            ("facebook", "Northwind Café", "@northwindcafe", [cafe], dict(expires_in=timedelta(days=-2))),
            ("instagram_business", "Harbor Fitness", "@harborfit", [fitness],
             dict(status=CredentialState.INVALID, invalid_reason=InvalidReason.PASSWORD_CHANGED,
                  invalidated_at=now - timedelta(days=1))),
            ("linkedin_company", "Bluebell Books", "bluebell-books", [books], dict(expires_in=timedelta(days=3, hours=2))),
            ("youtube", "Harbor Fitness TV", "@harbortv", [fitness], dict(expires_in=timedelta(days=6, hours=2))),
            ("x", "Northwind Café", "@northwind", [cafe], dict(expires_in=None, last_check_ok=True)),
            ("threads", "Bluebell Books", "@bluebell", [books], dict(expires_in=timedelta(days=40))),
            ("google_business", "Northwind Café Downtown", "", [cafe, books],
             dict(expires_in=timedelta(days=150), data_access_expires_at=now + timedelta(days=80))),
            ("pinterest", "Bluebell Books", "@bluebellpins", [books], dict(expires_in=timedelta(days=300))),
        ]
        profiles = []
        for network, name, handle, brands, credential in specs:
            profile = f.profile(s, org, network, name=name, handle=handle, brands=brands)
            f.credential(s, profile, granted_by_id=owner.id, **credential)
            profiles.append(profile)
        f.access(s, member, profiles[0], "editor")
        f.access(s, member, profiles[2], "viewer")
        f.access(s, member, profiles[5], "viewer")
        s.add(NativeRole(profile_id=profiles[0].id, user_id=owner.id, can_renew=CanRenew.YES, role="Admin",
                         observed_at=now - timedelta(days=12)))
        s.add(NativeRole(profile_id=profiles[0].id, user_id=member.id, can_renew=CanRenew.NO, role="Analyst",
                         observed_at=now - timedelta(days=4)))
        s.add(NativeRole(profile_id=profiles[0].id, user_id=manager.id, can_renew=CanRenew.UNKNOWN, role="",
                         observed_at=now - timedelta(days=40)))
        s.commit()
    return {"org": org, "profiles": profiles, "brands": (cafe, fitness, books)}
