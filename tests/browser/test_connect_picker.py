"""The picker of "Connect a profile" in a real browser, at 1366 and 390 px:
"N chosen" counts the boxes as they are ticked, with the choices saved on
the other pages of a paged picker (the sandbox's 120 Sunrise Yoga Pages),
and the new brand's name is asked for only while "A new brand…" is chosen.
Without JavaScript the name field shows and the choice still connects."""
import re

import pytest
from playwright.sync_api import expect

from devkit.sandbox import samples
from tests import factories
from tests.browser.conftest import WAIT_MS, screenshot, sign_in
from tests.conftest import with_sandbox
from tests.browser.test_layout import SIZES, Walk, axe_source  # noqa: F401 (axe_source: a fixture)

pytestmark = pytest.mark.browser

OWNER = "owner@example.test"


@pytest.fixture
def app_config(app_config, tmp_path):
    return with_sandbox(app_config, tmp_path)


@pytest.fixture
def connecting_agency(sandbox_samples, session):
    """An agency with one brand, and the sandbox's sample accounts to connect."""
    return factories.agency(session, people={"owner": {"role": "owner", "email": OWNER}},
                            brands={"cafe": "Northwind Café"})


def browse(browser, live_server, size, javascript=True, bypass_csp=False):
    context = browser.new_context(base_url=live_server, viewport=SIZES[size], java_script_enabled=javascript,
                                  bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def open_picker(page):
    """Connect a profile → Facebook → the sandbox's consent as Jordan, who administers 120 Pages."""
    sign_in(page, OWNER)
    page.goto("/accounts/connect")
    page.get_by_role("button", name=re.compile("^Facebook")).click()
    page.get_by_role("radio", name=re.compile(samples.JORDAN)).check()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Choose the profiles to connect")).to_be_visible()


def studio(page, number):
    return page.get_by_label(re.compile(f"Studio {number:03d} "))


def checked_layout(browser, live_server, size, page, axe_source):
    """What is wrong with the picker `page` shows, its new brand's name open:
    sideways scrolling, or a serious axe-core violation (seen in a browser of
    the same session that lets axe-core's inline script run)."""
    context, copy = browse(browser, live_server, size, bypass_csp=True)
    try:
        context.add_cookies(page.context.cookies())
        copy.goto(page.url)
        copy.get_by_label("Add the profiles to").select_option(label="A new brand…")
        expect(copy.get_by_label("Name of the new brand")).to_be_visible()
        walk = Walk(copy, axe_source, SIZES[size], f"picker-{size}")
        walk.check("the picker")
        return walk.findings
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_count_follows_the_boxes_and_the_new_brands_name_waits_for_its_choice(
        browser, live_server, connecting_agency, axe_source, size):
    context, page = browse(browser, live_server, size)
    try:
        open_picker(page)
        chosen = page.locator("[data-chosen-words]")
        name = page.get_by_label("Name of the new brand")
        expect(chosen).to_have_text("0 chosen")
        expect(name).to_be_hidden()

        studio(page, 1).check()
        studio(page, 2).check()
        expect(chosen).to_have_text("2 chosen")  # at once: nothing was sent
        studio(page, 1).uncheck()
        expect(chosen).to_have_text("1 chosen")

        page.get_by_role("button", name="Choose all").click()
        expect(chosen).to_have_text("120 chosen")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text(re.compile("page 2 of 3"))).to_be_visible()
        for number in (51, 52, 53):
            studio(page, number).uncheck()
        expect(chosen).to_have_text("117 chosen")  # 47 ticked here, 70 saved on pages 1 and 3

        brand = page.get_by_label("Add the profiles to")
        brand.select_option(label="A new brand…")
        expect(name).to_be_visible()
        brand.select_option(label="Northwind Café")
        expect(name).to_be_hidden()
        brand.select_option(label="A new brand…")
        name.fill("Sunrise Yoga")
        screenshot(page, f"picker-{size}")
        assert not checked_layout(browser, live_server, size, page, axe_source)

        page.get_by_role("button", name="Connect selected").click()
        expect(page.get_by_role("status").filter(has_text="Connected 117 profiles")).to_be_visible()
    finally:
        context.close()


def test_without_javascript_the_name_shows_and_the_choice_connects(browser, live_server, connecting_agency):
    context, page = browse(browser, live_server, "phone", javascript=False)
    try:
        open_picker(page)
        studio(page, 7).check()
        expect(page.locator("[data-chosen-words]")).to_have_text("0 chosen")  # the saved count, until sent
        page.get_by_label("Add the profiles to").select_option(label="A new brand…")
        page.get_by_label("Name of the new brand").fill("Sunrise Yoga")
        page.get_by_role("button", name="Connect selected").click()
        expect(page.get_by_text("Connected 1 profile: Sunrise Yoga · Studio 007.")).to_be_visible()
    finally:
        context.close()
