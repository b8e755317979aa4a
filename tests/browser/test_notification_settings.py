"""Personal settings → Token expiration, set by profile in a real browser:
a change to a profile's switches chooses "Set by profile", and Next saves
the page before it shows the next one."""
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal.models import NotificationPreference, SocialProfile
from tests import factories as f
from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    """A server with mobile notifications set up: their switches can be ticked."""
    return {**app_config, "VAPID_PUBLIC_KEY": "BPublicKeyOfThisServer", "VAPID_PRIVATE_KEY": "private"}


def test_set_by_profile_across_pages(page, agency, session):
    for n in range(50):
        f.profile(session, agency["org"], "facebook", name=f"Client {n:02d}", handle=f"@client{n:02d}")
    first = session.exec(select(SocialProfile).where(SocialProfile.name == "Client 00")).one()
    sign_in(page, "owner@example.test")
    page.goto("/settings/personal#notifications")
    page.get_by_text("Set by profile", exact=True).last.click()  # the summary opens the list
    assert page.get_by_label("Set by profile").is_checked() is False
    page.get_by_label("Mobile notifications for Client 00").check()
    assert page.get_by_label("Set by profile").is_checked()  # chosen by the change itself
    screenshot(page, "notification-settings-by-profile")

    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/settings/personal?notify_page=2#notify-by-profile")
    assert page.get_by_text("Notification settings saved.").is_visible()
    assert page.get_by_text("51–58 of 58 · page 2 of 2").is_visible()
    session.rollback()  # a new snapshot: the server wrote since
    own = session.exec(select(NotificationPreference).where(NotificationPreference.profile_id == first.id)).one()
    assert (own.email, own.push) == (True, True)

    page.get_by_label("Name or handle").fill("client 0")
    page.keyboard.press("Enter")  # searches (the form's first button), and saves nothing new
    page.wait_for_url("**/settings/personal?notify_q=client+0#notify-by-profile")
    assert page.locator("#notify-by-profile tbody tr").count() == 10
    assert page.get_by_text("Notification settings saved.").count() == 0


# A browser whose push service is no known one: its PushManager hands out an
# endpoint elsewhere (the real one needs Google's keys and the network).
FOREIGN_PUSH_SERVICE = """
Notification.requestPermission = () => Promise.resolve("granted");
PushManager.prototype.getSubscription = () => Promise.resolve(null);
PushManager.prototype.subscribe = () => Promise.resolve({
  endpoint: "https://push.example.test/1",
  toJSON() { return {endpoint: this.endpoint, keys: {p256dh: "B" + "A".repeat(86), auth: "A".repeat(22)}}; },
  unsubscribe: () => Promise.resolve(true),
});
"""


def test_a_browser_on_an_unknown_push_service_is_told_why(page, agency, session):
    page.add_init_script(FOREIGN_PUSH_SERVICE)
    sign_in(page, "owner@example.test")
    page.goto("/settings/personal#notifications")
    page.get_by_role("button", name="Subscribe this browser", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="push service")).to_have_text(
        "This browser's push service is not one Keepalive sends notifications to.")
    assert page.get_by_role("button", name="Subscribe this browser", exact=True).is_visible()
