"""The language menu in a real browser: switching to French from the header's
user menu, the choice kept across reloads, a German browser greeted in
German before anyone signs in, and without JavaScript the user menu's
button leading to Personal settings, where the language is chosen and
signing out is too."""
import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import screenshot, sign_in
from tests.test_i18n import compiled_translations  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, compiled_translations):  # noqa: F811
    return {**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations)}


@pytest.fixture
def app(app):
    """Flask-Babel keeps loaded catalogues for the whole process: start and end empty."""
    from portal.extensions import babel

    with app.app_context():
        babel.domain_instance.cache.clear()
    yield app
    with app.app_context():
        babel.domain_instance.cache.clear()


def test_switch_to_french_from_the_user_menu(page, agency):
    sign_in(page, "owner@example.test")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Manage Accounts").click()
    expect(page.get_by_role("heading", name="Manage Accounts", level=1)).to_be_visible()
    # The page can be shown before its deferred scripts have run: the user menu opens once they have.
    page.wait_for_load_state()

    menu_button = page.get_by_role("button", name="Account menu for Olivia Hart")
    menu_button.click()
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("group", name="Language")).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Browser default")).to_have_attribute("aria-current", "true")
    screenshot(page, "language-menu")
    with page.expect_navigation():
        menu.get_by_role("menuitem", name="Français").click()

    # Back on the same page, now in French.
    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Gérer les comptes", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Vue d’ensemble")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Jetons expirés"))).to_be_visible()
    expect(page.get_by_role("columnheader", name="Expiration effective")).to_be_visible()
    screenshot(page, "accounts-in-french")

    # The choice is the user's: it stays after a reload, and the menu shows it.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    menu_button = page.get_by_role("button", name="Menu du compte de Olivia Hart")
    menu_button.focus()
    page.keyboard.press("Enter")
    french = page.get_by_role("menuitem", name=re.compile(r"^Français"))
    expect(french).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("menuitem", name="Langue du navigateur")).to_be_visible()

    # By keyboard, back to English.
    english = page.get_by_role("menuitem", name="English")
    for _ in range(6):
        if english.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    expect(english).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Manage Accounts", level=1)).to_be_visible()


def test_a_german_browser_sees_german_before_signing_in(browser, live_server, agency):
    context = browser.new_context(base_url=live_server, locale="de-DE")
    try:
        page = context.new_page()
        page.set_default_timeout(8000)
        page.goto("/login")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("heading", name="Bei Keepalive anmelden")).to_be_visible()
        page.get_by_label("E-Mail").fill("owner@example.test")
        page.get_by_label("Passwort", exact=True).fill(factories.PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Konten verwalten")).to_be_visible()
    finally:
        context.close()


def test_without_javascript_the_user_menu_leads_to_personal_settings_and_its_sign_out(browser, live_server, session):
    factories.agency(session, people={"owner": {"role": "owner", "name": "Olivia Hart"}})
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(8000)
        sign_in(page, "owner@example.test")
        page.get_by_role("button", name="Account menu for Olivia Hart").click()
        expect(page.get_by_role("heading", name="Personal settings", level=1)).to_be_visible()
        expect(page.get_by_role("region", name="Profile").get_by_label("Language")).to_be_visible()
        page.get_by_role("region", name="Sign out").get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        page.goto("/settings/personal")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        context.close()
