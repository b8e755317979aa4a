"""Journeys through the token-health screens in a real browser: the header
dropdown and the ⋯ menus by keyboard, the filters and their URL, See all
managers, and what a Member without rights sees."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_dropdown_opens_and_moves_with_the_keyboard(page, agency):
    sign_in(page, "owner@example.test")
    button = page.get_by_role("button", name=re.compile(r"^Expired Tokens 4$"))
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#expired-tokens-panel")
    expect(panel).to_be_visible()
    names = panel.locator(".token-name")
    expect(names).to_have_count(4)
    expect(names.nth(2)).to_have_text("Bluebell Books")  # expired ones first, then by nearest expiry
    expect(panel.get_by_text("Expires in 3 days")).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile("^Renew Token"))).to_have_count(4)
    screenshot(page, "dropdown")
    page.keyboard.press("ArrowDown")
    expect(names.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(panel.get_by_role("button", name=re.compile("^Renew Token")).nth(0)).to_be_focused()
    page.keyboard.press("End")
    expect(panel.locator("a", has_text="Manage Accounts")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press(" ")
    expect(panel).to_be_visible()
    page.mouse.click(10, 500)
    expect(panel).to_be_hidden()


def test_dropdown_follows_the_brand_switcher(page, agency):
    sign_in(page, "owner@example.test")
    # The switcher's first use after sign-in only records the organization
    # (settings.switch), so the brand is chosen once that is done.
    for _ in range(2):
        with page.expect_navigation():
            page.get_by_label("Brand").select_option(label="Bluebell Books")
        if page.get_by_label("Brand").input_value() != "":
            break
    button = page.get_by_role("button", name=re.compile(r"^Expired Tokens 1$"))
    button.click()
    expect(page.locator("#expired-tokens-panel .token-name")).to_have_text(["Bluebell Books"])


def test_filter_manage_accounts_and_reload_the_url(page, agency):
    sign_in(page, "owner@example.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage Accounts").click()
    expect(page.get_by_role("heading", name="Manage Accounts", level=1)).to_be_visible()
    page.wait_for_load_state()  # its scripts run (the filters submit themselves)
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(8)
    screenshot(page, "manage-accounts")
    page.get_by_text(re.compile(r"^Expiring within 7 days")).click()
    expect(page).to_have_url(re.compile(r"/accounts\?status=expiring"))
    expect(rows).to_have_count(2)
    page.get_by_label("Network").select_option(label="YouTube")
    expect(page).to_have_url(re.compile(r"status=expiring.*network=youtube|network=youtube.*status=expiring"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbor Fitness TV")
    page.get_by_label("Network").select_option("")
    page.get_by_label("Name or handle").fill("bluebell")
    expect(page).to_have_url(re.compile(r"q=bluebell"))
    expect(rows).to_have_count(1)
    expect(page.locator("#count-expiring")).to_have_text("1")
    url = page.url
    page.reload()
    expect(page).to_have_url(url)
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Name or handle")).to_have_value("bluebell")
    expect(page.locator('input[name="status"][value="expiring"]')).to_be_checked()
    page.go_back()
    expect(page.locator("tbody tr")).not_to_have_count(1)


def test_row_menu_by_keyboard_and_see_all_managers(page, agency):
    sign_in(page, "owner@example.test")
    page.goto("/accounts")
    first = agency["profiles"][0]
    menu_button = page.get_by_role("button", name="More actions for Northwind Café").first
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    button = page.locator(f"#row-menu-button-{first.id}")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    menu = page.locator(f"#row-menu-{first.id}")
    items = menu.get_by_role("menuitem")
    expect(items).to_have_count(6)
    expect(items.nth(0)).to_be_focused()
    expect(items.nth(0)).to_have_text(re.compile("^Renew Token"))
    screenshot(page, "row-menu")
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_have_text(re.compile("^Check now"))
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(2)).to_have_text("Send renewal link")
    expect(items.nth(2)).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.nth(5)).to_have_text("Remove profile")
    expect(items.nth(5)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(items.nth(3)).to_have_text("See all managers")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Managers of Northwind Café")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("cell", name="Olivia Hart")).to_be_visible()
    expect(dialog.get_by_text("Can renew", exact=True)).to_be_attached()
    expect(dialog.get_by_text("Cannot renew", exact=True)).to_be_attached()
    expect(dialog.get_by_text("Unknown: held a token before")).to_be_attached()
    expect(dialog).to_contain_text("Full control (Admin) of the Facebook Page")
    screenshot(page, "see-all-managers")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()


def test_member_without_rights_sees_no_renew_button_but_the_reason(page, agency):
    sign_in(page, "member@example.test")
    button = page.get_by_role("button", name=re.compile(r"^Expired Tokens 2$"))
    button.click()
    panel = page.locator("#expired-tokens-panel")
    expect(panel.get_by_role("button", name=re.compile("Renew Token"))).to_have_count(0)
    refused = panel.locator(".renew-refused").first
    refused.focus()
    tooltip = panel.get_by_role("tooltip").first
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("ask an Owner or Manager")
    screenshot(page, "member-dropdown")
    page.goto("/accounts")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("button", name=re.compile("Renew Token"))).to_have_count(0)
    expect(page.get_by_role("button", name="Try renewing all")).to_have_count(0)
    screenshot(page, "member-accounts")
    # In a row's ⋯ menu, what the Member may not do is reached by the arrows and says why.
    cafe = agency["profiles"][0]
    # Named by the words "More actions for", the profile's name and its network (and handle).
    menu_button = page.get_by_role("button", name=re.compile(r"^More actions for Northwind Café Facebook"))
    menu_button.focus()
    page.keyboard.press("Enter")
    refused = page.locator(f"#row-menu-{cafe.id}").get_by_role("menuitem", name=re.compile("^Renew Token"))
    expect(refused).to_be_focused()
    expect(refused).to_have_attribute("aria-disabled", "true")
    expect(refused).to_have_accessible_name(re.compile(r"^Renew Token.*ask an Owner or Manager"))
    page.keyboard.press("ArrowDown")
    expect(refused).not_to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(refused).to_be_focused()


def test_profile_details_page(page, agency):
    sign_in(page, "owner@example.test")
    youtube = agency["profiles"][3]
    page.goto(f"/accounts/{youtube.id}")
    expect(page.get_by_role("heading", name="Harbor Fitness TV", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile("YouTube data is deleted 7 days later"))).to_be_visible()
    screenshot(page, "profile-details")
    page.goto(f"/accounts/{agency['profiles'][1].id}")
    expect(page.get_by_role("heading", name="Stopped while the token is expired")).to_be_visible()
    screenshot(page, "profile-details-expired")


def test_renewing_a_row_turns_it_green_in_place_and_updates_the_badge(page, agency, app, monkeypatch):
    from sqlmodel import Session, select

    from portal.db import utcnow
    from portal.models import Credential
    from portal.renewal import views as renewal_views
    from portal.renewal.silent import Outcome, Result
    from portal.versions import changed

    def renewed(profile_id, adapter, **kwargs):
        """A network that renews at once: the token now lasts 60 days."""
        with Session(app.extensions["keepalive.engine"]) as session:
            credential = session.exec(select(Credential).where(Credential.profile_id == profile_id,
                                                               Credential.superseded_at.is_(None))).one()
            credential.expires_at = utcnow() + timedelta(days=60)
            credential.last_refreshed_at = utcnow()
            session.add(credential)
            changed(session, profile_id=profile_id)  # as every write the pages show does (portal.versions)
            session.commit()
        return Outcome(Result.RENEWED)

    monkeypatch.setattr(renewal_views, "renew_silently", renewed)
    sign_in(page, "owner@example.test")
    page.goto("/accounts?status=expiring")
    expect(page.get_by_role("button", name=re.compile(r"^Expired Tokens 4$"))).to_be_visible()
    linkedin = agency["profiles"][2]
    row = page.locator(f"#profile-row-{linkedin.id}")
    row.get_by_role("button", name=re.compile("^Renew Token")).first.click()
    expect(row.locator(".pill")).to_have_text("Valid")
    expect(row.get_by_role("status")).to_have_text(re.compile(r"^The token of .+ is renewed\.$"))
    expect(page).to_have_url(re.compile(r"/accounts\?status=expiring$"))  # no navigation
    expect(page.get_by_role("button", name=re.compile(r"^Expired Tokens 3$"))).to_be_visible()
    expect(page.locator(f"#row-menu-button-{linkedin.id}")).to_be_focused()
    expect(page.locator("#count-expiring")).to_have_text("1")
    expect(page.locator("#count-valid")).to_have_text("4")
    expect(page.get_by_role("button", name="Try renewing all LinkedIn Page")).to_have_count(0)
    expect(page.get_by_role("button", name="Try renewing all YouTube")).to_have_count(1)
    screenshot(page, "row-renewed")


def test_try_renewing_all_shows_progress_until_the_summary(page, agency, app):
    from redis import Redis
    from rq import Queue

    sign_in(page, "owner@example.test")
    page.goto("/accounts")
    page.get_by_role("button", name="Try renewing all Facebook").click()
    progress = page.locator(".renew-progress")
    expect(progress).to_contain_text("0 of 1 tried")
    connection = Redis.from_url(app.config["REDIS_URL"])
    job = Queue(app.config["QUEUE_NAME"], connection=connection).jobs[0]
    job.meta.update(done=1, total=1, finished=True, renewed=[], needs_consent=[agency["profiles"][0].id])
    job.save_meta()
    expect(progress).to_contain_text("1 needs your consent on the network")
    expect(progress.get_by_role("button", name=re.compile("^Renew Token"))).to_have_count(1)
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"))
    screenshot(page, "renew-all-summary")
    connection.close()
