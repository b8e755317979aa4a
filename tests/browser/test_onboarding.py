"""An agency starts from an empty database, in a real browser: sign-up and
its emailed confirmation, Facebook Pages of the sandbox network connected
into a new brand through the picker, a client invited who connects an
Instagram account through the emailed link, a profile removed; and an
agency made with `create-agency`, whose Owner sets a password through the
printed link."""
import re

import pytest
from playwright.sync_api import expect

from devkit.sandbox import samples
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import with_sandbox
from tests.conftest import run_jobs

pytestmark = pytest.mark.browser

PASSWORD = "a passphrase of my own"


@pytest.fixture
def app_config(app_config, tmp_path):
    return with_sandbox(app_config, tmp_path)


@pytest.fixture
def world(sandbox_samples, smtp_server):
    """The served app as its own public address, the sandbox's sample accounts, and the mail it sends."""
    return smtp_server


def emailed_path(app, mail, pattern):
    """Send what is queued; the path of the last email's link that matches `pattern`."""
    run_jobs(app)
    text = mail[-1].get_body(("plain",)).get_content()
    return re.search(rf"http://127\.0\.0\.1:\d+({pattern}[A-Za-z0-9_\-]+)", text).group(1)


def test_a_new_agency_signs_up_connects_invites_and_removes(page, browser, live_server, app, world):
    mail = world
    # Sign up, and confirm through the emailed link.
    page.goto("/login")
    page.get_by_role("link", name="Create your agency").click()
    page.get_by_label("Agency name").fill("Riverside Media")
    page.get_by_label("Your name").fill("Rae Rivers")
    page.get_by_label("Email").fill("rae@riverside-media.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create agency").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_path(app, mail, "/signup/confirm/"))
    page.get_by_role("button", name="Confirm and create the agency").click()

    # A fresh agency is led to connect its first profile.
    expect(page.get_by_role("heading", name="No social profiles yet")).to_be_visible()
    expect(page.locator(".switcher-org")).to_have_text("Riverside Media")
    screenshot(page, "onboarding-empty-overview")
    page.locator("#no-profiles-yet").get_by_role("link", name="Connect a profile").click()

    # Facebook, the sandbox's consent as Alex, then the picker into a new brand.
    page.get_by_role("button", name=re.compile("^Facebook")).click()
    expect(page.get_by_role("heading", name=re.compile("connect to your Facebook account"))).to_be_visible()
    page.get_by_role("radio", name=re.compile(samples.ALEX)).check()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Choose the profiles to connect")).to_be_visible()
    page.get_by_label(re.compile("Riverside Bakery @riversidebakery")).check()
    page.get_by_label(re.compile("Riverside Bakery Catering")).check()
    page.get_by_label("Add the profiles to").select_option(label="A new brand…")
    page.get_by_label("Name of the new brand").fill("Riverside")
    screenshot(page, "onboarding-picker")
    page.get_by_role("button", name="Connect selected").click()

    expect(page.get_by_role("status").filter(has_text="Connected 2 profiles")).to_be_visible()
    results = page.locator("#accounts-results")
    expect(results.get_by_role("link", name="Riverside Bakery", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name="Riverside Bakery Catering")).to_be_visible()
    expect(results.get_by_text("Riverside", exact=True).first).to_be_visible()  # the brand
    screenshot(page, "onboarding-connected")

    # Invite a client to connect their Instagram account.
    page.goto("/accounts/connect")
    page.get_by_role("link", name="Invite a client to connect").first.click()
    page.get_by_label("Instagram", exact=True).check()
    page.get_by_label("Client's email address").fill("alex@riverside.example")
    page.get_by_label("Message (optional)").fill("Alex, this keeps your Instagram posts going.")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status").filter(has_text="is on its way to alex@riverside.example")).to_be_visible()
    expect(page.get_by_text("Pending")).to_be_visible()
    invitation = emailed_path(app, mail, "/connect/")
    assert mail[-1]["Reply-To"] == "rae@riverside-media.test"

    client = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    try:
        them = client.new_page()
        them.goto(invitation)
        expect(them.get_by_role("heading", name="Riverside Media asks you to connect your social accounts")) \
            .to_be_visible()
        expect(them.get_by_text("Alex, this keeps your Instagram posts going.")).to_be_visible()
        them.get_by_role("button", name=re.compile("Connect Instagram")).click()
        them.locator(f"input[value='{samples.ALEX}|sample-ig-301']").check()
        them.get_by_role("button", name="Allow").click()
        expect(them.get_by_role("heading", name="Choose the profiles to share")).to_be_visible()
        them.get_by_label(re.compile("Riverside Bakery @riverside.bakery")).check()
        them.get_by_role("button", name="Share the selected profiles").click()
        expect(them.get_by_role("heading", name="Thank you")).to_be_visible()
        expect(them.get_by_text("Riverside Media can now keep your profiles on Instagram connected.")).to_be_visible()
        screenshot(them, "onboarding-client-thanks")
    finally:
        client.close()

    # The agency sees the client's profile and a notice in the bell.
    page.goto("/accounts")
    expect(page.locator("#accounts-results").get_by_text("@riverside.bakery")).to_be_visible()
    page.locator("#notification-bell button[aria-controls]").click()
    expect(page.locator("#notification-panel")).to_contain_text("Connected by the client through an invitation")
    page.keyboard.press("Escape")

    # Remove a profile from its ⋯ menu.
    catering = page.locator("tr", has=page.get_by_role("link", name="Riverside Bakery Catering"))
    catering.locator(".row-menu button.menu-button").click()
    page.get_by_role("menuitem", name="Remove profile").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Its tokens are deleted from Keepalive")
    screenshot(page, "onboarding-remove-dialog")
    dialog.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_role("status").filter(has_text="Riverside Bakery Catering (Facebook) is removed")) \
        .to_be_visible()
    expect(page.locator("#accounts-results").get_by_role("link", name="Riverside Bakery Catering")).to_have_count(0)
    expect(page.locator("#count-all")).to_have_text("2")


def test_create_agency_prints_a_link_where_the_owner_sets_a_password(page, app, live_server):
    app.config.update(BASE_URL=live_server)
    result = app.test_cli_runner().invoke(args=["create-agency", "Bluebird Media", "--owner",
                                                "sam@bluebird.test", "--owner-name", "Sam Bird"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://127\.0\.0\.1:\d+(/reset/[A-Za-z0-9_\-]+)", result.output).group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Save the password and sign in").click()
    expect(page.get_by_role("status").filter(has_text="Your password is set")).to_be_visible()
    expect(page.locator(".switcher-org")).to_have_text("Bluebird Media")
    expect(page.get_by_role("heading", name="No social profiles yet")).to_be_visible()

    page.goto("about:blank")  # nothing of the page left to reload itself signed out
    page.context.clear_cookies()
    sign_in(page, "sam@bluebird.test", PASSWORD)
    expect(page.locator(".switcher-org")).to_have_text("Bluebird Media")
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("already used"))).to_be_visible()
