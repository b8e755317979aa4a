"""Personal settings → Notifications → Token expiration, saved as
NotificationPreference rows of the current organization."""
from sqlmodel import select

from portal.models import NotificationPreference
from tests import factories


def setup(store):
    org = factories.organization(store, name="Northwind")
    owner = factories.member(store, org, role="owner", email="owner@example.test")
    page = factories.profile(store, org, name="Northwind Café")
    shop = factories.profile(store, org, name="Northwind Shop")
    return org, owner, page, shop


def prefs(store):
    store.commit()  # a fresh snapshot: the requests wrote from their own sessions
    store.expire_all()
    return {p.profile_id: (p.email, p.push, p.login_warning)
            for p in store.exec(select(NotificationPreference)).all()}


def test_all_profiles(app, client, auth, store):
    org, owner, page, shop = setup(store)
    auth.login(owner.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert "Token expiration" in html and "Show me tokens at risk every time I log in" in html

    response = auth.post("/settings/personal/notifications", {"push": "y", "scope": "all"}, token_from="/settings/personal")

    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/personal#notifications")
    assert prefs(store) == {None: (False, True, False)}


def test_set_by_profile_and_back(app, client, auth, store):
    org, owner, page, shop = setup(store)
    auth.login(owner.email)
    auth.post("/settings/personal/notifications",
              {"email": "y", "login_warning": "y", "scope": "profile", "profile": [str(page.id), str(shop.id)],
               f"email-{page.id}": "y", f"push-{shop.id}": "y"}, token_from="/settings/personal")
    assert prefs(store) == {None: (True, False, True), page.id: (True, False, True), shop.id: (False, True, True)}

    auth.post("/settings/personal/notifications", {"email": "y", "scope": "all"}, token_from="/settings/personal")
    assert prefs(store) == {None: (True, False, False)}


def test_manage_notifications_opens_at_the_profile(app, client, auth, store):
    org, owner, page, shop = setup(store)
    auth.login(owner.email)
    html = client.get(f"/settings/personal?profile={shop.id}").get_data(as_text=True)
    assert f'<tr id="notify-profile-{shop.id}" class="highlight" aria-current="true">' in html
    assert '<details class="by-profile" open>' in html


def test_bad_input_is_400_with_a_message(app, client, auth, store):
    org, owner, page, shop = setup(store)
    other = factories.profile(store, factories.organization(store), name="Elsewhere")
    auth.login(owner.email)
    cases = [
        ({"scope": "sometimes"}, "Choose “All profiles” or “Set by profile”."),
        ({"scope": "profile", "profile": str(other.id)}, "That profile is not one you are notified about."),
        ({"scope": "profile", "profile": "x"}, "That profile is not one you are notified about."),
        ({"scope": "all", "email": "maybe"}, "A switch of the notification settings has a value it cannot have."),
    ]
    for data, message in cases:
        response = auth.post("/settings/personal/notifications", data, token_from="/settings/personal")
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True)
    assert prefs(store) == {}


def test_the_scan_follows_a_profile_override(app, store):
    """Per-profile row overrides the all-profiles row (the rule the scan applies)."""
    from portal.notify.rules import preference_for

    org, owner, page, shop = setup(store)
    rows = [NotificationPreference(user_id=owner.id, organization_id=org.id, email=True, push=False),
            NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=shop.id, email=False, push=True)]
    assert (preference_for(rows, shop.id).email, preference_for(rows, shop.id).push) == (False, True)
    assert (preference_for(rows, page.id).email, preference_for(rows, page.id).push) == (True, False)
