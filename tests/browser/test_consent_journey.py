"""Renewing through the sandbox network in a real browser: the consent page
of the network, back to the same filtered page, the row green, the badge one
less; and a silent renewal that never leaves the page."""
import re
from datetime import timedelta

import httpx2
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from portal.crypto import seal
from portal.db import utcnow
from portal.models import Credential
from portal.networks.base import moment
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import with_sandbox

pytestmark = pytest.mark.browser
OWNER = "owner@example.test"


@pytest.fixture
def app_config(app_config, tmp_path):
    return with_sandbox(app_config, tmp_path)


@pytest.fixture
def network(app, live_server):
    """The sandbox network of the served app, for the test to set up accounts."""
    app.config.update(BASE_URL=live_server, SANDBOX_BASE_URL=live_server)
    with httpx2.Client(base_url=live_server, trust_env=False) as client:
        def grant(network_key, external_id, **extra):
            response = client.post("/sandbox/admin/api/grants", json={
                "network": network_key,
                "account": {"external_id": external_id, "name": "Client account", "handle": ""},
                "person": {"email": OWNER, "name": "Olivia Hart"},
                "roles": [{"email": OWNER, "role": "ADMIN", "can_renew": True}],
                **extra,
            })
            assert response.status_code == 201, response.text
            return response.json()

        yield grant


def badge(count):
    return re.compile(rf"^Expired Tokens {count}$")


def test_renew_an_expired_profile_through_the_networks_consent(page, agency, network):
    facebook = agency["profiles"][0]  # expired two days ago: only a person can renew it
    network("facebook", facebook.external_id)
    sign_in(page, OWNER)
    page.goto("/accounts?status=expired")
    expect(page.get_by_role("button", name=badge(4))).to_be_visible()

    row = page.locator(f"#profile-row-{facebook.id}")
    row.get_by_role("button", name=re.compile("^Renew Token")).first.click()

    expect(page.get_by_role("heading", name=re.compile("connect to your Facebook account"))).to_be_visible()
    page.get_by_role("radio", name=re.compile(OWNER)).check()
    screenshot(page, "sandbox-consent")
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(r"/accounts\?status=expired$"))  # the same filtered page
    expect(page.get_by_role("status").filter(has_text="Renewed")).to_be_visible()
    expect(page.get_by_role("button", name=badge(3))).to_be_visible()
    page.goto("/accounts")
    expect(page.locator(f"#profile-row-{facebook.id} .pill")).to_have_text(re.compile("Valid|No expiration date"))
    screenshot(page, "renewed-through-consent")


def test_a_silent_renewal_turns_the_row_green_without_leaving_the_page(page, agency, network, app):
    pinterest = agency["profiles"][7]
    issued = network("pinterest", pinterest.external_id)
    with Session(app.extensions["keepalive.engine"]) as session, app.app_context():
        credential = session.exec(select(Credential).where(Credential.profile_id == pinterest.id)).one()
        credential.sealed_access_token = seal(issued["access_token"])
        credential.sealed_refresh_token = seal(issued["refresh_token"])
        credential.expires_at = moment(issued["expires_at"])
        credential.refresh_expires_at = utcnow() + timedelta(days=2, hours=2)  # at risk, renewable silently
        session.add(credential)
        session.commit()
    sign_in(page, OWNER)
    page.goto("/accounts?network=pinterest")
    expect(page.get_by_role("button", name=badge(5))).to_be_visible()
    row = page.locator(f"#profile-row-{pinterest.id}")
    expect(row.locator(".pill")).to_have_text("2 days left")
    row.get_by_role("button", name=re.compile("^Renew Token")).first.click()
    expect(row.locator(".pill")).to_have_text("Valid")
    expect(page).to_have_url(re.compile(r"/accounts\?network=pinterest$"))
    expect(page.get_by_role("button", name=badge(4))).to_be_visible()


def test_a_system_user_token_from_business_manager_ends_the_expiry(page, agency, network):
    facebook = agency["profiles"][0]  # expired two days ago
    network("facebook", facebook.external_id)
    page.goto("/sandbox/admin")  # Business Manager, as the sandbox plays it
    page.get_by_role("button", name="Generate a token for Client account").click()
    token = page.locator("#system-user-token").inner_text()

    sign_in(page, OWNER)
    page.goto(f"/accounts/{facebook.id}")
    expect(page.get_by_role("button", name=badge(4))).to_be_visible()
    page.get_by_label("The system user's token").fill(token)
    page.get_by_role("button", name="Use this token").click()

    expect(page.get_by_role("status").filter(has_text="which does not expire")).to_be_visible()
    expect(page.locator(".profile-head .pill")).to_have_text(re.compile("No expiration date"))
    expect(page.get_by_role("button", name=badge(3))).to_be_visible()
    expect(page.get_by_label("The system user's token")).to_have_value("")
    screenshot(page, "system-user-token")
