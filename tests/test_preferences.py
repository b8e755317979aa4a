"""Personal settings → Notifications → Token expiration, saved as
NotificationPreference rows of the current organization."""
import re

import pytest
from sqlmodel import func, select

from portal.models import AuditEvent, NotificationPreference
from tests import factories

FORM = "/settings/personal/notifications"


@pytest.fixture
def app_config(app_config):
    """A server with mobile notifications set up (the test that leaves them out says so)."""
    return {**app_config, "VAPID_PUBLIC_KEY": "BPublicKeyOfThisServer", "VAPID_PRIVATE_KEY": "private"}


def setup(session):
    org = factories.organization(session, name="Northwind")
    owner = factories.member(session, org, role="owner", email="owner@example.test")
    page = factories.profile(session, org, name="Northwind Café")
    shop = factories.profile(session, org, name="Northwind Shop")
    return org, owner, page, shop


def prefs(session):
    session.commit()  # a fresh snapshot: the requests wrote from their own sessions
    session.expire_all()
    return {p.profile_id: (p.email, p.push, p.login_warning)
            for p in session.exec(select(NotificationPreference)).all()}


def test_all_profiles(app, client, auth, session):
    org, owner, page, shop = setup(session)
    auth.login(owner.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert "Token expiration" in html and "Show me tokens at risk every time I log in" in html

    response = auth.post("/settings/personal/notifications", {"push": "y", "scope": "all"})

    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/personal#notifications")
    assert prefs(session) == {None: (False, True, False)}


def test_set_by_profile_and_back(app, client, auth, session):
    org, owner, page, shop = setup(session)
    auth.login(owner.email)
    auth.post(FORM, {"email": "y", "login_warning": "y", "scope": "profile", "profile": [str(page.id), str(shop.id)],
                     f"email-{page.id}": "y", f"push-{shop.id}": "y"})
    # The Café's choice is that of all profiles: it follows them, with no row of its own.
    assert prefs(session) == {None: (True, False, True), shop.id: (False, True, True)}
    html = client.get("/settings/personal").get_data(as_text=True)
    assert 'value="profile" checked' in html
    assert re.search(rf'id="notify-profile-{shop.id}".*?Set for this profile', html, re.S)
    assert not re.search(rf'id="notify-profile-{page.id}"[^\n]*Set for this profile', html)

    auth.post(FORM, {"email": "y", "scope": "all"})
    assert prefs(session) == {None: (True, False, False)}


def test_a_profile_not_on_the_page_keeps_its_own_choice(app, client, auth, session):
    org, owner, page, shop = setup(session)
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, email=True, push=False))
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=shop.id, email=False, push=True))
    session.commit()
    auth.login(owner.email)
    # Only the Café is posted (the Shop is on another page or filtered out), with a choice of its own.
    auth.post(FORM, {"email": "y", "login_warning": "y", "scope": "profile", "profile": str(page.id),
                     f"push-{page.id}": "y", "go": "save"})
    assert prefs(session) == {None: (True, False, True), page.id: (False, True, True), shop.id: (False, True, True)}


def audit_count(session):
    session.commit()
    return session.exec(select(func.count()).select_from(AuditEvent)
                      .where(AuditEvent.action == "user.settings_changed")).one()


def many_profiles(session, org, count):
    return [factories.profile(session, org, name=f"Client {n:03d}", handle=f"@client{n:03d}") for n in range(count)]


def test_set_by_profile_lists_fifty_at_a_time_and_searches(app, client, auth, session):
    org, owner, page, shop = setup(session)
    profiles = many_profiles(session, org, 60)  # with the Café and the Shop, 62, by name: Client 000…059, Northwind…
    auth.login(owner.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert html.count('name="profile"') == 50
    assert "1–50 of 62 · page 1 of 2" in html and 'name="go" value="page-2"' in html
    assert f'id="notify-profile-{profiles[0].id}"' in html and f'id="notify-profile-{shop.id}"' not in html
    assert 'id="notify-q"' in html

    # Next saves the page's choices first, then shows page 2.
    response = auth.post(FORM, {"email": "y", "scope": "profile", "profile": str(profiles[0].id),
                                "notify_page": "1", "go": "page-2"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings/personal?notify_page=2#notify-by-profile")
    assert prefs(session) == {None: (True, False, False), profiles[0].id: (False, False, True)}
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Notification settings saved." in html
    assert html.count('name="profile"') == 12 and "51–62 of 62 · page 2 of 2" in html
    assert f'id="notify-profile-{shop.id}"' in html and 'name="go" value="page-1"' in html

    # Moving without a change writes nothing and says nothing.
    events = audit_count(session)
    response = auth.post(FORM, {"email": "y", "scope": "profile", "profile": str(profiles[0].id),
                                "notify_q": "northwind", "go": "search"})
    assert response.headers["Location"].endswith("/settings/personal?notify_q=northwind#notify-by-profile")
    assert audit_count(session) == events
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Notification settings saved." not in html
    assert html.count('name="profile"') == 2 and 'value="northwind"' in html

    html = client.get("/settings/personal?notify_q=%40client05").get_data(as_text=True)
    assert html.count('name="profile"') == 10
    html = client.get("/settings/personal?notify_q=nobody").get_data(as_text=True)
    assert "No profile you may renew matches “nobody”." in html


def test_manage_notifications_opens_at_the_page_of_the_profile(app, client, auth, session):
    org, owner, page, shop = setup(session)
    many_profiles(session, org, 60)
    auth.login(owner.email)
    html = client.get(f"/settings/personal?profile={shop.id}").get_data(as_text=True)
    assert f'<tr id="notify-profile-{shop.id}" class="highlight" aria-current="true">' in html
    assert "page 2 of 2" in html and '<details class="by-profile" id="notify-by-profile" open>' in html


def test_only_the_profiles_one_may_renew_are_listed(app, client, auth, session):
    org, owner, page, shop = setup(session)
    admin = factories.member(session, org, email="admin@example.test", can_manage_profiles=True)
    factories.access(session, admin, shop, level="admin")
    factories.access(session, admin, page, level="editor")
    viewer = factories.member(session, org, email="viewer@example.test")
    factories.access(session, viewer, shop, level="admin")  # Admin on the profile, but no right to manage profiles
    session.commit()

    auth.login(admin.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert f'id="notify-profile-{shop.id}"' in html and f'id="notify-profile-{page.id}"' not in html
    response = auth.post(FORM, {"scope": "profile", "profile": str(page.id)})
    assert response.status_code == 400
    assert "That profile is not one you are notified about." in response.get_data(as_text=True)

    auth.login(viewer.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert "There is no profile you may renew in this organization." in html


def test_bad_input_is_400_with_a_message(app, client, auth, session):
    org, owner, page, shop = setup(session)
    other = factories.profile(session, factories.organization(session), name="Elsewhere")
    auth.login(owner.email)
    cases = [
        ({"scope": "sometimes"}, "Choose “All profiles” or “Set by profile”."),
        ({"scope": "profile", "profile": str(other.id)}, "That profile is not one you are notified about."),
        ({"scope": "profile", "profile": "x"}, "That profile is not one you are notified about."),
        ({"scope": "all", "email": "maybe"}, "A switch of the notification settings has a value it cannot have."),
        ({"scope": "all", "go": "elsewhere"}, "That button is not part of this form."),
        ({"scope": "all", "go": "page-x"}, "That button is not part of this form."),
    ]
    for data, message in cases:
        response = auth.post(FORM, data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True)
    assert prefs(session) == {}


def test_the_scan_follows_a_profile_override(app, session):
    """Per-profile row overrides the all-profiles row (the rule the scan applies)."""
    from portal.notifications.rules import preference_for

    org, owner, page, shop = setup(session)
    rows = [NotificationPreference(user_id=owner.id, organization_id=org.id, email=True, push=False),
            NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=shop.id, email=False, push=True)]
    assert (preference_for(rows, shop.id).email, preference_for(rows, shop.id).push) == (False, True)
    assert (preference_for(rows, page.id).email, preference_for(rows, page.id).push) == (True, False)


def test_the_agencys_own_thresholds_are_named(app, client, auth, session):
    org, owner, page, shop = setup(session)
    auth.login(owner.email)
    told = {}
    for thresholds in ("7,3,1,0", "10,5", "10,5,0", "1", "0"):
        org.notification_thresholds = thresholds
        session.add(org)
        session.commit()
        html = client.get("/settings/personal").get_data(as_text=True)
        told[thresholds] = re.search(r'<p class="muted">(You are told[^<]*)</p>', html).group(1)
    assert told == {
        "7,3,1,0": "You are told 7, 3, and 1 day before a token expires, and when it expires. "
                   "In-app notifications are always on.",
        "10,5": "You are told 10 and 5 days before a token expires. In-app notifications are always on.",
        "10,5,0": "You are told 10 and 5 days before a token expires, and when it expires. "
                  "In-app notifications are always on.",
        "1": "You are told 1 day before a token expires. In-app notifications are always on.",
        "0": "You are told when a token expires. In-app notifications are always on.",
    }
    owner.locale = "de"
    session.add(owner)
    org.notification_thresholds = "10,5"
    session.add(org)
    session.commit()
    html = client.get("/settings/personal").get_data(as_text=True)
    assert "10 und 5 Tage" in html


def test_mobile_notifications_cannot_be_ticked_where_the_server_has_no_keys(app, client, auth, session):
    app.config.update(VAPID_PUBLIC_KEY=None, VAPID_PRIVATE_KEY=None)
    org, owner, page, shop = setup(session)
    auth.login(owner.email)
    html = client.get("/settings/personal?profile=%d" % shop.id).get_data(as_text=True)
    assert re.search(r'<input type="checkbox" name="push" value="y" disabled aria-describedby="push-unavailable">',
                     html)
    assert f'name="push-{shop.id}" value="y" disabled aria-describedby="push-unavailable"' in html
    assert '<p class="hint" id="push-unavailable">Mobile notifications are not set up on this server.</p>' in html
    # A form sent all the same leaves them off.
    auth.post(FORM, {"email": "y", "push": "y", "scope": "profile", "profile": [str(shop.id)],
                     f"push-{shop.id}": "y"})
    assert {profile: choice[:2] for profile, choice in prefs(session).items()} == {None: (True, False),
                                                                                  shop.id: (False, False)}
