"""The long lists of the settings in a real browser: a brand's profiles
searched as one types, a page at a time, switched in place."""
import pytest

from portal.models import BrandProfile
from tests import factories as f
from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_a_brand_list_searches_pages_and_switches_in_place(page, agency, session):
    cafe = agency["brands"][0]
    clients = [f.profile(session, agency["org"], "instagram_business", name=f"Client {n:02d}", handle=f"@client{n:02d}")
               for n in range(60)]
    sign_in(page, "owner@example.test")
    page.goto(f"/settings/brands/{cafe.id}")
    rows = page.locator("#brand-profiles tbody tr")
    assert rows.count() == 50
    assert page.get_by_text("1–50 of 68 · page 1 of 2").is_visible()

    page.get_by_label("Name or handle").fill("client 1")  # Client 10…19, as one types
    page.wait_for_url(lambda url: "q=client%201" in url)
    assert rows.count() == 10 and page.get_by_text("10 profiles").is_visible()
    page.get_by_label("Show").select_option("out")
    page.wait_for_url(lambda url: "show=out" in url)
    switch = page.get_by_role("switch", name="Client 12 in Northwind Café")
    switch.click()
    page.get_by_role("switch", name="Client 12 in Northwind Café", checked=True).wait_for()
    screenshot(page, "brand-profiles")
    session.rollback()  # a new snapshot: the server wrote since
    assert session.get(BrandProfile, (cafe.id, clients[12].id)) is not None

    page.get_by_label("Name or handle").fill("")
    page.wait_for_url(lambda url: "q=client" not in url)
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(lambda url: "page=2" in url)
    assert page.get_by_text("51–", exact=False).is_visible()
    page.go_back()
    page.wait_for_url(lambda url: "page=2" not in url)
    assert rows.count() == 50
