"""The settings pages: members, invitations, profile access, brands, the
organization, personal settings and switching organization; their rules
(last Owner, only Owners make Owners, Members get 403) and bad input."""
import pytest
from sqlmodel import select

from portal.auth.passwords import verify_password
from portal.models import (
    AuditEvent,
    Brand,
    BrandProfile,
    Invitation,
    Membership,
    Organization,
    ProfileAccess,
    SocialProfile,
    User,
)
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agency(session):
    made = factories.agency(session, people={
        "owner": {"role": "owner", "name": "Olivia Owner"},
        "manager": {"role": "manager", "name": "Max Manager"},
        "member": {"role": "member", "name": "Mia Member"},
    })
    return made.org, made.people


def membership_of(session, org, user):
    session.rollback()  # end the read transaction: see what the app committed since
    return session.exec(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    ).first()


def audit_actions(session):
    session.rollback()
    return [event.action for event in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def page(response):
    return response.get_data(as_text=True)


# --- who reaches which page -------------------------------------------------

ORGANIZATION_PAGES = ["/settings/members", "/settings/access", "/settings/brands", "/settings/organization"]


@pytest.mark.parametrize("path", ORGANIZATION_PAGES)
def test_organization_pages_for_owners_and_managers(client, auth, agency, path):
    for email in ("owner@example.test", "manager@example.test"):
        auth.login(email)
        response = client.get(path)
        assert response.status_code == 200, (email, path)
        body = page(response)
        for label in ("Members", "Profile access", "Brands", "Organization", "Personal settings"):
            assert label in body
        assert 'href="/static/css/settings.css"' in body


@pytest.mark.parametrize("path", ORGANIZATION_PAGES)
def test_members_get_403_on_organization_pages(client, auth, agency, path):
    auth.login("member@example.test")
    assert client.get(path).status_code == 403


def test_members_cannot_post_organization_changes(client, auth, agency, session):
    org, people = agency
    auth.login("member@example.test")
    target = membership_of(session, org, people["manager"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "member"})
    assert response.status_code == 403
    response = auth.post("/settings/organization", {"name": "Mine", "expiry_window_days": "3",
                                                   "notification_thresholds": "1"})
    assert response.status_code == 403
    assert membership_of(session, org, people["manager"]).role == "manager"
    session.rollback()
    assert session.get(Organization, org.id).name == "Northwind Agency"


def test_anonymous_is_sent_to_sign_in(client, agency):
    response = client.get("/settings/members")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/settings/members"


def test_personal_settings_for_every_signed_in_user(client, auth, agency, session):
    factories.user(session, email="loner@example.test")  # in no organization at all
    for email in ("member@example.test", "loner@example.test"):
        auth.login(email)
        response = client.get("/settings/personal")
        assert response.status_code == 200
        body = page(response)
        assert "Personal settings" in body
        assert "Notifications" in body
        assert "Members" not in body.split('class="sidebar"')[1].split("</nav>")[0]


# --- members ------------------------------------------------------------------

def test_members_page_lists_people_with_role_switch_and_last_sign_in(client, auth, agency):
    auth.login("owner@example.test")
    body = page(client.get("/settings/members"))
    for text in ("Olivia Owner", "owner@example.test", "Max Manager", "Mia Member", "member@example.test",
                 "Manage social profiles", "Last sign-in", "Never", 'role="switch"', "Invite someone",
                 "Pending invitations"):
        assert text in body, text


def test_owner_changes_a_role(client, auth, agency, session):
    org, people = agency
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "manager"})
    assert response.status_code == 303
    assert membership_of(session, org, people["member"]).role == "manager"
    assert "member.role_changed" in audit_actions(session)


def test_role_change_with_htmx_swaps_the_row(client, auth, agency, session):
    org, people = agency
    auth.login("manager@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "manager"}, headers=HTMX)
    assert response.status_code == 200
    body = page(response)
    assert body.lstrip().startswith(f'<tr id="member-{target.id}"')
    assert "<html" not in body
    assert "Mia Member is now Manager." in body
    assert "HX-Request" in response.headers["Vary"]
    assert membership_of(session, org, people["member"]).role == "manager"


def test_only_an_owner_makes_an_owner(client, auth, agency, session):
    org, people = agency
    auth.login("manager@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "owner"})
    assert response.status_code == 400
    assert "Only an Owner can make someone an Owner" in page(response)
    assert membership_of(session, org, people["member"]).role == "member"

    auth.login("owner@example.test")
    assert auth.post(f"/settings/members/{target.id}/role", {"role": "owner"}).status_code == 303
    assert membership_of(session, org, people["member"]).role == "owner"


def test_a_manager_cannot_demote_an_owner(client, auth, agency, session):
    org, people = agency
    factories.member(session, org, role="owner", email="second@example.test")
    auth.login("manager@example.test")
    target = membership_of(session, org, people["owner"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "member"}, headers=HTMX)
    assert response.status_code == 400
    assert "Only an Owner can" in page(response)
    assert membership_of(session, org, people["owner"]).role == "owner"


def test_the_last_owner_cannot_be_demoted(client, auth, agency, session):
    org, people = agency
    auth.login("owner@example.test")
    me = membership_of(session, org, people["owner"])
    response = auth.post(f"/settings/members/{me.id}/role", {"role": "manager"})
    assert response.status_code == 400
    assert "The organization needs at least one Owner" in page(response)
    assert membership_of(session, org, people["owner"]).role == "owner"
    assert "member.role_changed" not in audit_actions(session)


def test_with_two_owners_one_may_step_down(client, auth, agency, session):
    org, people = agency
    factories.member(session, org, role="owner", email="second@example.test")
    auth.login("owner@example.test")
    me = membership_of(session, org, people["owner"])
    response = auth.post(f"/settings/members/{me.id}/role", {"role": "member"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"  # no longer reaches the settings
    assert membership_of(session, org, people["owner"]).role == "member"


def test_an_unknown_role_is_refused(client, auth, agency, session):
    org, people = agency
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/members/{target.id}/role", {"role": "emperor"})
    assert response.status_code == 400
    assert "Choose Owner, Manager or Member." in page(response)
    assert membership_of(session, org, people["member"]).role == "member"


def test_manage_social_profiles_switch(client, auth, agency, session):
    org, people = agency
    auth.login("manager@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/members/{target.id}/social-profiles", {"can_manage_profiles": "true"},
                         headers=HTMX)
    assert response.status_code == 200
    assert 'aria-checked="true"' in page(response)
    assert membership_of(session, org, people["member"]).can_manage_profiles is True
    response = auth.post(f"/settings/members/{target.id}/social-profiles", {"can_manage_profiles": "false"})
    assert response.status_code == 303
    assert membership_of(session, org, people["member"]).can_manage_profiles is False
    assert audit_actions(session).count("member.manage_profiles") == 2


def test_remove_a_member(client, auth, agency, session):
    org, people = agency
    profile = factories.profile(session, org)
    factories.access(session, people["member"], profile, "admin")
    auth.login("manager@example.test")
    target = membership_of(session, org, people["member"])
    confirm = client.get(f"/settings/members/{target.id}/remove")
    assert confirm.status_code == 200
    assert "Remove Mia Member?" in page(confirm)
    assert membership_of(session, org, people["member"]) is not None  # GET changes nothing

    response = auth.post(f"/settings/members/{target.id}/remove", headers=HTMX)
    assert response.status_code == 200
    assert "Mia Member was removed" in page(response)
    assert membership_of(session, org, people["member"]) is None
    assert session.exec(select(ProfileAccess).where(ProfileAccess.user_id == people["member"].id)).first() is None
    assert session.get(User, people["member"].id) is not None  # the account stays
    assert "member.removed" in audit_actions(session)


def test_remove_button_asks_for_confirmation(client, auth, agency):
    auth.login("owner@example.test")
    body = page(client.get("/settings/members"))
    assert 'hx-confirm="Remove Mia Member from Northwind Agency?' in body


def test_a_manager_cannot_remove_an_owner(client, auth, agency, session):
    org, people = agency
    factories.member(session, org, role="owner", email="second@example.test")
    auth.login("manager@example.test")
    target = membership_of(session, org, people["owner"])
    response = auth.post(f"/settings/members/{target.id}/remove")
    assert response.status_code == 400
    assert "Only an Owner can remove an Owner." in page(response)
    assert membership_of(session, org, people["owner"]) is not None


def test_the_last_owner_cannot_be_removed(client, auth, agency, session):
    org, people = agency
    auth.login("owner@example.test")
    me = membership_of(session, org, people["owner"])
    response = auth.post(f"/settings/members/{me.id}/remove")
    assert response.status_code == 400
    assert "The organization needs at least one Owner" in page(response)
    assert membership_of(session, org, people["owner"]) is not None


def test_an_owner_removes_another_owner(client, auth, agency, session):
    org, people = agency
    second = factories.member(session, org, role="owner", email="second@example.test")
    auth.login("owner@example.test")
    target = membership_of(session, org, second)
    assert auth.post(f"/settings/members/{target.id}/remove").status_code == 303
    assert membership_of(session, org, second) is None


# --- invitations --------------------------------------------------------------

def pending(session, org):
    session.rollback()
    return session.exec(
        select(Invitation).where(Invitation.organization_id == org.id, Invitation.revoked_at.is_(None))
    ).all()


def test_invite_and_revoke(client, auth, agency, session):
    org, people = agency
    auth.login("manager@example.test")
    response = auth.post("/settings/members/invite", {"email": "New.Person@Example.test", "role": "manager",
                                                      "can_manage_profiles": "y"})
    assert response.status_code == 303
    [invitation] = pending(session, org)
    assert (invitation.email, invitation.role, invitation.can_manage_profiles) == (
        "new.person@example.test", "manager", True)
    assert invitation.invited_by_id == people["manager"].id
    body = page(client.get("/settings/members"))
    assert "new.person@example.test" in body and "Revoke" in body

    response = auth.post(f"/settings/invitations/{invitation.id}/revoke", headers=HTMX)
    assert response.status_code == 200
    assert "The invitation to new.person@example.test was revoked." in page(response)
    assert "<html" not in page(response)
    assert pending(session, org) == []
    assert {"invitation.sent", "invitation.revoked"} <= set(audit_actions(session))


def test_invite_with_htmx_returns_the_invitations_region(client, auth, agency, session):
    org, _ = agency
    auth.login("owner@example.test")
    response = auth.post("/settings/members/invite", {"email": "someone@example.test", "role": "member"},
                         headers=HTMX)
    assert response.status_code == 200
    body = page(response)
    assert "<html" not in body
    assert "Invitation sent to someone@example.test." in body
    assert "someone@example.test" in body.split("Pending invitations")[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-address", "role": "member"}, "Enter an email address like name@example.com."),
        ({"email": "", "role": "member"}, "This field is required."),
        ({"email": "x@example.test", "role": "emperor"}, "Not a valid choice"),
        ({"email": "member@example.test", "role": "member"}, "member@example.test is already a member"),
    ],
)
def test_bad_invitations(client, auth, agency, session, data, message):
    org, _ = agency
    auth.login("owner@example.test")
    response = auth.post("/settings/members/invite", data)
    assert response.status_code == 400
    assert message in page(response)
    assert pending(session, org) == []


def test_a_manager_cannot_invite_an_owner(client, auth, agency, session):
    org, _ = agency
    auth.login("manager@example.test")
    response = auth.post("/settings/members/invite", {"email": "boss@example.test", "role": "owner"})
    assert response.status_code == 400
    assert "Only an Owner can make someone an Owner" in page(response)
    assert pending(session, org) == []


# --- profile access -----------------------------------------------------------

def level_of(session, user, profile):
    session.rollback()
    row = session.exec(
        select(ProfileAccess).where(ProfileAccess.user_id == user.id, ProfileAccess.profile_id == profile.id)
    ).first()
    return row.level if row else None


def test_profile_access_pages(client, auth, agency, session):
    org, people = agency
    brand = factories.brand(session, org, name="Acme")
    first = factories.profile(session, org, name="Acme Facebook", brands=[brand])
    factories.profile(session, org, name="Globex X", network="x")
    factories.access(session, people["member"], first, "editor")
    auth.login("owner@example.test")
    body = page(client.get("/settings/access"))
    assert "Owners and Managers see and renew every profile" in body
    assert "Editor · 1" in body
    target = membership_of(session, org, people["member"])
    body = page(client.get(f"/settings/access/{target.id}"))
    assert "Acme Facebook" in body and "Globex X" in body
    body = page(client.get(f"/settings/access/{target.id}?brand={brand.id}"))
    assert "Acme Facebook" in body and "Globex X" not in body


def test_set_one_level_with_htmx(client, auth, agency, session):
    org, people = agency
    profile = factories.profile(session, org, name="Acme Facebook")
    auth.login("manager@example.test")
    target = membership_of(session, org, people["member"])
    url = f"/settings/access/{target.id}/{profile.id}"
    response = auth.post(url, {f"level-{profile.id}": "admin"}, headers=HTMX)
    assert response.status_code == 200
    assert page(response).lstrip().startswith(f'<tr id="access-{profile.id}"')
    assert level_of(session, people["member"], profile) == "admin"
    auth.post(url, {f"level-{profile.id}": "viewer"}, headers=HTMX)
    assert level_of(session, people["member"], profile) == "viewer"
    auth.post(url, {f"level-{profile.id}": ""}, headers=HTMX)
    assert level_of(session, people["member"], profile) is None
    assert audit_actions(session).count("access.changed") == 3


def test_save_the_whole_table_and_set_all_shown(client, auth, agency, session):
    org, people = agency
    brand = factories.brand(session, org)
    one = factories.profile(session, org, brands=[brand])
    two = factories.profile(session, org)
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/access/{target.id}", {f"level-{one.id}": "editor", f"level-{two.id}": "viewer"})
    assert response.status_code == 303
    assert (level_of(session, people["member"], one), level_of(session, people["member"], two)) == ("editor", "viewer")
    # "Set all shown" applies to the profiles of the brand filter only.
    auth.post(f"/settings/access/{target.id}?brand={brand.id}", {"all": "admin"})
    assert (level_of(session, people["member"], one), level_of(session, people["member"], two)) == ("admin", "viewer")


@pytest.mark.parametrize("brand", ["unknown", "foreign", "not a number"])
def test_set_all_with_a_brand_that_is_not_ours_applies_to_no_profile(client, auth, agency, session, brand):
    org, people = agency
    profiles = [factories.profile(session, org), factories.profile(session, org)]
    foreign = factories.brand(session, factories.organization(session, name="Elsewhere"))
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    value = {"unknown": foreign.id + 1000, "foreign": foreign.id, "not a number": "x"}[brand]
    response = auth.post(f"/settings/access/{target.id}?brand={value}", {"all": "admin"})
    assert response.status_code == 404
    assert [level_of(session, people["member"], p) for p in profiles] == [None, None]


def test_a_bad_level_is_refused(client, auth, agency, session):
    org, people = agency
    profile = factories.profile(session, org)
    factories.access(session, people["member"], profile, "viewer")
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    response = auth.post(f"/settings/access/{target.id}", {f"level-{profile.id}": "god"})
    assert response.status_code == 400
    assert "Choose Admin, Editor, Viewer or No access." in page(response)
    response = auth.post(f"/settings/access/{target.id}/{profile.id}", {f"level-{profile.id}": "god"}, headers=HTMX)
    assert response.status_code == 400
    assert "Choose Admin, Editor, Viewer or No access." in page(response)
    assert level_of(session, people["member"], profile) == "viewer"


# --- brands -------------------------------------------------------------------

def brand_names(session, org):
    session.rollback()
    return sorted(b.name for b in session.exec(select(Brand).where(Brand.organization_id == org.id)).all())


def test_create_rename_and_delete_a_brand(client, auth, agency, session):
    org, _ = agency
    profile = factories.profile(session, org, name="Acme Facebook")
    auth.login("manager@example.test")
    response = auth.post("/settings/brands", {"name": "  Acme  "})
    assert response.status_code == 303
    assert brand_names(session, org) == ["Acme"]
    brand = session.exec(select(Brand).where(Brand.organization_id == org.id)).one()
    assert response.headers["Location"] == f"/settings/brands/{brand.id}"
    assert "Acme" in page(client.get("/settings/brands"))

    assert auth.post(f"/settings/brands/{brand.id}", {"name": "Acme Corp"}).status_code == 303
    assert brand_names(session, org) == ["Acme Corp"]

    response = auth.post(f"/settings/brands/{brand.id}/profiles/{profile.id}", {"enabled": "true"}, headers=HTMX)
    assert response.status_code == 200
    assert 'aria-checked="true"' in page(response)
    session.rollback()
    assert session.get(BrandProfile, (brand.id, profile.id)) is not None

    confirm = client.get(f"/settings/brands/{brand.id}/delete")
    assert confirm.status_code == 200 and "Delete the brand Acme Corp?" in page(confirm)
    assert "hx-confirm=" in page(client.get(f"/settings/brands/{brand.id}"))
    assert auth.post(f"/settings/brands/{brand.id}/delete").status_code == 303
    assert brand_names(session, org) == []
    session.rollback()
    assert session.get(SocialProfile, profile.id) is not None  # the profile stays
    assert session.exec(select(BrandProfile)).all() == []
    actions = audit_actions(session)
    for action in ("brand.created", "brand.renamed", "brand.profile_enabled", "brand.deleted"):
        assert action in actions


def test_disable_a_profile_in_a_brand(client, auth, agency, session):
    org, _ = agency
    acme, globex = factories.brand(session, org, name="Acme"), factories.brand(session, org, name="Globex")
    profile = factories.profile(session, org, brands=[acme, globex])
    auth.login("owner@example.test")
    response = auth.post(f"/settings/brands/{acme.id}/profiles/{profile.id}", {"enabled": "false"})
    assert response.status_code == 303
    session.rollback()
    assert session.get(BrandProfile, (acme.id, profile.id)) is None
    assert session.get(BrandProfile, (globex.id, profile.id)) is not None


@pytest.mark.parametrize("name", ["Acme", "acme", " ACME "])
def test_brand_names_are_unique_per_organization(client, auth, agency, session, name):
    org, _ = agency
    factories.brand(session, org, name="Acme")
    other = factories.brand(session, org, name="Globex")
    factories.brand(session, factories.organization(session), name="Initech")  # another agency's name is free
    auth.login("owner@example.test")
    response = auth.post("/settings/brands", {"name": name})
    assert response.status_code == 400
    assert "There is already a brand called" in page(response)
    response = auth.post(f"/settings/brands/{other.id}", {"name": name})
    assert response.status_code == 400
    assert "There is already a brand called" in page(response)
    assert brand_names(session, org) == ["Acme", "Globex"]
    assert auth.post("/settings/brands", {"name": "Initech"}).status_code == 303


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_bad_brand_names(client, auth, agency, session, name):
    org, _ = agency
    auth.login("owner@example.test")
    response = auth.post("/settings/brands", {"name": name})
    assert response.status_code == 400
    assert 'class="error"' in page(response)
    assert brand_names(session, org) == []


# --- long lists: a brand's profiles and a member's access, 50 a page --------

def clients(session, org, count, brand=None):
    """`count` profiles named Client 00, Client 01…, the even ones in `brand`."""
    return [factories.profile(session, org, name=f"Client {n:02d}", handle=f"@client{n:02d}",
                              brands=[brand] if brand and n % 2 == 0 else [])
            for n in range(count)]


def listed(body, prefix):
    return body.count(f'<tr id="{prefix}')


def test_a_brand_lists_its_profiles_fifty_a_page_searched_and_filtered(client, auth, agency, session):
    org, _ = agency
    acme = factories.brand(session, org, name="Acme")
    profiles = clients(session, org, 60, acme)
    auth.login("owner@example.test")
    body = page(client.get(f"/settings/brands/{acme.id}"))
    assert listed(body, "brand-profile-") == 50 and "1–50 of 60 · page 1 of 2" in body
    assert f'href="/settings/brands/{acme.id}?page=2"' in body
    body = page(client.get(f"/settings/brands/{acme.id}?page=2"))
    assert listed(body, "brand-profile-") == 10 and f'id="brand-profile-{profiles[59].id}"' in body
    body = page(client.get(f"/settings/brands/{acme.id}?show=in"))
    assert listed(body, "brand-profile-") == 30 and body.count('aria-checked="true"') == 30
    body = page(client.get(f"/settings/brands/{acme.id}?show=out&q=client%205"))  # Client 51, 53…59
    assert listed(body, "brand-profile-") == 5 and 'aria-checked="true"' not in body
    body = page(client.get(f"/settings/brands/{acme.id}?q=nobody"))
    assert "No profile matches these filters." in body
    assert client.get(f"/settings/brands/{acme.id}?show=everything").status_code == 400

    # htmx swaps the list only; a switch's form brings the list back as it was, without JavaScript too.
    fragment = page(client.get(f"/settings/brands/{acme.id}?show=out&page=1", headers=HTMX))
    assert "rename-heading" not in fragment and listed(fragment, "brand-profile-") == 30
    response = auth.post(f"/settings/brands/{acme.id}/profiles/{profiles[1].id}?show=out&q=client", {"enabled": "true"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/settings/brands/{acme.id}?q=client&show=out"
    session.rollback()
    assert session.get(BrandProfile, (acme.id, profiles[1].id)) is not None


def test_a_members_access_lists_fifty_a_page_and_sets_all_matching(client, auth, agency, session):
    org, people = agency
    acme = factories.brand(session, org, name="Acme")
    profiles = clients(session, org, 60, acme)
    elsewhere = factories.profile(session, factories.organization(session), name="Elsewhere")
    auth.login("owner@example.test")
    target = membership_of(session, org, people["member"])
    url = f"/settings/access/{target.id}"
    body = page(client.get(url))
    assert listed(body, "access-") == 50 and "1–50 of 60 · page 1 of 2" in body
    assert "Set all 60 matching profiles to" in body
    body = page(client.get(f"{url}?q=client%205&brand={acme.id}"))  # Client 50, 52…58
    assert listed(body, "access-") == 5 and "Set all 5 matching profiles to" in body

    # "Set all matching" reaches every page of the list as filtered, not only the one shown.
    response = auth.post(f"{url}?q=client%200", {"all": "viewer"})
    assert response.headers["Location"] == f"{url}?q=client+0"
    assert [level_of(session, people["member"], p) for p in profiles[:11]] == ["viewer"] * 10 + [None]
    response = auth.post(url, {"all": "editor"})
    assert {level_of(session, people["member"], p) for p in profiles} == {"editor"}

    # The table of one page (without JavaScript) changes the session it posts, in this organization only.
    response = auth.post(f"{url}?page=2", {f"level-{profiles[55].id}": "admin", f"level-{elsewhere.id}": "admin"})
    assert response.status_code == 303 and response.headers["Location"] == f"{url}?page=2"
    assert level_of(session, people["member"], profiles[55]) == "admin"
    assert level_of(session, people["member"], profiles[54]) == "editor"
    assert level_of(session, people["member"], elsewhere) is None


def test_the_long_lists_read_as_many_queries_for_any_number_of_profiles(app, client, auth, agency, session):
    from tests.test_accounts import queries_for

    org, people = agency
    acme = factories.brand(session, org, name="Acme")
    clients(session, org, 3, acme)
    target = membership_of(session, org, people["member"])
    paths = [f"/settings/brands/{acme.id}", f"/settings/access/{target.id}", "/settings/access"]
    auth.login("owner@example.test")
    few = [queries_for(app, client, path) for path in paths]
    session.rollback()  # SQLite: a session that read before the requests wrote must start afresh to write
    clients(session, org, 70, acme)
    session.commit()
    assert [queries_for(app, client, path) for path in paths] == few


# --- organization -------------------------------------------------------------

def test_organization_settings(client, auth, agency, session):
    org, _ = agency
    auth.login("owner@example.test")
    body = page(client.get("/settings/organization"))
    assert 'value="7"' in body and 'value="7,3,1,0"' in body
    response = auth.post("/settings/organization", {"name": "Northwind & Co", "expiry_window_days": "14",
                                                   "notification_thresholds": " 3, 10,0,3 ,5"})
    assert response.status_code == 303
    session.rollback()
    saved = session.get(Organization, org.id)
    assert (saved.name, saved.expiry_window_days, saved.notification_thresholds) == ("Northwind & Co", 14, "10,5,3,0")
    assert saved.thresholds == [10, 5, 3, 0]
    assert "organization.updated" in audit_actions(session)


@pytest.mark.parametrize(
    ("window", "thresholds", "message"),
    [
        ("0", "7,3,1,0", "Choose between 1 and 60 days."),
        ("61", "7,3,1,0", "Choose between 1 and 60 days."),
        ("", "7,3,1,0", "Enter a whole number of days."),
        ("seven", "7,3,1,0", "Not a valid integer value."),
        ("7", "", "Enter at least one day"),
        ("7", " , ,", "Enter at least one day"),
        ("7", "7,three,1", "“three” is not a whole number of days."),
        ("7", "7;3", "“7;3” is not a whole number of days."),
        ("7", "2.5", "“2.5” is not a whole number of days."),
        ("7", "91", "“91” is out of range: each day must be between 0 and 90."),
        ("7", "3,-1", "“-1” is out of range"),
    ],
)
def test_bad_organization_settings(client, auth, agency, session, window, thresholds, message):
    org, _ = agency
    auth.login("owner@example.test")
    response = auth.post("/settings/organization", {"name": "Changed", "expiry_window_days": window,
                                                   "notification_thresholds": thresholds})
    assert response.status_code == 400
    assert message in page(response)
    session.rollback()
    saved = session.get(Organization, org.id)
    assert (saved.name, saved.expiry_window_days, saved.notification_thresholds) == ("Northwind Agency", 7, "7,3,1,0")


# --- personal settings --------------------------------------------------------

def test_typed_names_are_kept_on_one_line(client, auth, agency, session):
    """An agency's, a person's and a brand's name go into email headers and
    every list: a line break or an invisible character typed or pasted into
    one is not kept (as for the networks' names, `portal.text.one_line`)."""
    org, people = agency
    auth.login("owner@example.test")
    assert auth.post("/settings/organization", {"name": "Northwind\r\nBcc: x@example.test", "expiry_window_days": "7",
                                                "notification_thresholds": "7"}).status_code == 303
    assert auth.post("/settings/personal", {"name": "Olivia\u2028\u200bHart ", "locale": ""}).status_code == 303
    assert auth.post("/settings/brands", {"name": "North\tEast\x00"}).status_code == 303
    session.rollback()
    assert session.get(Organization, org.id).name == "Northwind Bcc: x@example.test"
    assert session.get(User, people["owner"].id).name == "Olivia Hart"
    assert brand_names(session, org) == ["North East"]


def test_name_and_language(client, auth, agency, session):
    _, people = agency
    auth.login("member@example.test")
    body = page(client.get("/settings/personal"))
    for label in ("Browser default", "English", "Français", "Deutsch", "Nederlands"):
        assert label in body
    response = auth.post("/settings/personal", {"name": "Mia M.", "locale": "fr"})
    assert response.status_code == 303
    session.rollback()
    user = session.get(User, people["member"].id)
    assert (user.name, user.locale) == ("Mia M.", "fr")
    assert '<html lang="fr">' in page(client.get("/settings/personal"))
    auth.post("/settings/personal", {"name": "Mia M.", "locale": ""})
    session.rollback()
    assert session.get(User, people["member"].id).locale is None


def test_an_unknown_language_is_refused(client, auth, agency, session):
    _, people = agency
    auth.login("member@example.test")
    response = auth.post("/settings/personal", {"name": "Mia", "locale": "xx"})
    assert response.status_code == 400
    assert "Not a valid choice" in page(response)
    session.rollback()
    assert session.get(User, people["member"].id).name == "Mia Member"


def test_change_password_keeps_this_session_and_ends_the_others(app, client, auth, agency, session):
    _, people = agency
    other = app.test_client()
    auth.login("member@example.test")
    assert other.post("/login", data={"email": "member@example.test", "password": factories.PASSWORD,
                                      "csrf_token": csrf_token(other)}).status_code == 303
    assert other.get("/settings/personal").status_code == 200

    response = auth.post("/settings/personal/password", {
        "current_password": factories.PASSWORD,
        "new_password": "a much newer secret",
        "confirm_password": "a much newer secret",
    })
    assert response.status_code == 303
    session.rollback()
    user = session.get(User, people["member"].id)
    with app.app_context():  # the app's own hashing cost
        assert verify_password(user, "a much newer secret")
    assert user.session_version == 2
    assert client.get("/settings/personal").status_code == 200  # still signed in here
    ended = other.get("/settings/personal")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login?next=")
    assert "user.password_changed" in audit_actions(session)


def test_change_password_ends_remembered_sessions_but_this_one(app, client, auth, agency, session):
    def remembered_browser():
        browser = app.test_client()
        browser.post("/login", data={"email": "member@example.test", "password": factories.PASSWORD,
                                     "remember": "y", "csrf_token": csrf_token(browser)})
        return browser

    def alone(value):
        browser = app.test_client()
        browser.set_cookie("remember_token", value)
        return browser.get("/settings/personal").status_code

    other, this = remembered_browser(), remembered_browser()
    other_cookie = other.get_cookie("remember_token").value
    response = this.post("/settings/personal/password", data={
        "current_password": factories.PASSWORD, "new_password": "a much newer secret",
        "confirm_password": "a much newer secret", "csrf_token": csrf_token(this),
    })
    assert response.status_code == 303
    assert alone(other_cookie) == 302
    assert alone(this.get_cookie("remember_token").value) == 200  # this browser stays remembered


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password!", "a much newer secret", "a much newer secret", "That is not your current password."),
        (factories.PASSWORD, "short", "short", "Use at least 10 characters."),
        (factories.PASSWORD, "a much newer secret", "a much newer secrex", "The two new passwords do not match."),
        ("", "a much newer secret", "a much newer secret", "This field is required."),
    ],
)
def test_bad_password_changes(app, client, auth, agency, session, current, new, confirm, message):
    _, people = agency
    auth.login("member@example.test")
    response = auth.post("/settings/personal/password", {
        "current_password": current, "new_password": new, "confirm_password": confirm})
    assert response.status_code == 400
    assert message in page(response)
    session.rollback()
    user = session.get(User, people["member"].id)
    assert user.session_version == 1
    with app.app_context():  # the app's own hashing cost
        assert verify_password(user, factories.PASSWORD)


# --- switching organization -----------------------------------------------------

def test_switch_organization_and_brand(client, auth, agency, session):
    org, people = agency
    second = factories.organization(session, name="Zenith Studio")
    session.add(Membership(user_id=people["member"].id, organization_id=second.id, role="manager"))
    session.commit()
    zenith_brand = factories.brand(session, second, name="Zenith Brand")
    foreign_brand = factories.brand(session, factories.organization(session, name="Elsewhere"), name="Foreign")

    auth.login("member@example.test")
    assert client.get("/settings/members").status_code == 403  # a Member in Northwind (first by name)
    response = auth.post("/settings/switch", {"organization_id": second.id, "next": "/settings/members"})
    assert response.status_code == 303 and response.headers["Location"] == "/settings/members"
    body = page(client.get("/settings/members"))
    assert "People in Zenith Studio" in body  # a Manager there

    auth.post("/settings/switch", {"organization_id": second.id, "brand_id": zenith_brand.id})
    assert '<option value="%d" selected>' % zenith_brand.id in page(client.get("/")).replace(" >", ">")

    # A brand of another organization is ignored: back to all brands.
    auth.post("/settings/switch", {"organization_id": second.id, "brand_id": foreign_brand.id})
    body = page(client.get("/"))
    assert "Foreign" not in body
    assert "Connections of every brand" in body


def test_switch_to_an_organization_one_does_not_belong_to_is_404(client, auth, agency, session):
    foreign = factories.organization(session, name="Elsewhere")
    factories.member(session, foreign, role="owner")
    auth.login("member@example.test")
    response = auth.post("/settings/switch", {"organization_id": foreign.id})
    assert response.status_code == 404
    assert "Elsewhere" not in page(client.get("/"))
    assert auth.post("/settings/switch", {"organization_id": "nonsense"}).status_code == 404


# --- every organization route refuses Members -----------------------------------

FOR_EVERYONE = {"settings.personal", "settings.password", "settings.switch", "settings.language",
                "settings.notification_preferences", "settings.browser_timezone",
                # A Member reads their own part of the log (tests/test_activity.py).
                "settings.activity", "settings.activity_csv"}


def test_every_organization_settings_route_refuses_members(app, client, auth, session):
    """Read from the URL map, so a settings route added later is checked too."""
    from flask import url_for

    from tests.test_isolation import ID_ROUTES, build_agency, snapshot

    with app.app_context():
        own = build_agency(session, "Alpha")
    auth.login(own["member"].email)
    engine = app.extensions["keepalive.engine"]
    before = snapshot(engine)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("settings.") or rule.endpoint in FOR_EVERYONE:
            continue
        arguments, data = ID_ROUTES.get(rule.endpoint, ({}, {}))
        with app.test_request_context():
            path = url_for(rule.endpoint, **{name: own[kind].id for name, kind in arguments.items()})
        for method in sorted({"GET", "POST"} & rule.methods):
            form = {**data, "csrf_token": csrf_token(client)}
            response = client.get(path) if method == "GET" else client.post(path, data=form)
            assert response.status_code == 403, f"{method} {path}: {response.status_code}"
            checked += 1
    assert checked >= 15
    assert snapshot(engine) == before


# --- the pure rules -------------------------------------------------------------

def test_threshold_parsing():
    from portal.settings.rules import ThresholdError, format_thresholds, parse_thresholds

    assert parse_thresholds("7,3,1,0") == [7, 3, 1, 0]
    assert parse_thresholds(" 1, 10 ,1,,0 ") == [10, 1, 0]
    assert format_thresholds(parse_thresholds("90,0")) == "90,0"
    for text, key in [("", "empty"), (",", "empty"), ("1,a", "not_a_number"), ("1.5", "not_a_number"),
                      ("+3", "not_a_number"), ("91", "out_of_range"), ("-1", "out_of_range")]:
        with pytest.raises(ThresholdError) as raised:
            parse_thresholds(text)
        assert raised.value.args[0] == key, text


def test_role_and_removal_rules():
    from portal.settings.rules import (
        LAST_OWNER,
        MANAGER_REMOVES_OWNER,
        ONLY_OWNERS_FOR_OWNERS,
        invitation_refusal,
        removal_refusal,
        role_change_refusal,
    )

    owner, manager, member = (Membership(role=role) for role in ("owner", "manager", "member"))
    assert role_change_refusal(owner, member, "owner", owner_count=1) is None
    assert role_change_refusal(manager, member, "owner", owner_count=1) == ONLY_OWNERS_FOR_OWNERS
    assert role_change_refusal(manager, owner, "member", owner_count=2) == ONLY_OWNERS_FOR_OWNERS
    assert role_change_refusal(manager, member, "manager", owner_count=1) is None
    assert role_change_refusal(owner, owner, "manager", owner_count=1) == LAST_OWNER
    assert role_change_refusal(owner, owner, "manager", owner_count=2) is None
    assert role_change_refusal(owner, owner, "owner", owner_count=1) is None  # no change
    assert removal_refusal(manager, owner, owner_count=2) == MANAGER_REMOVES_OWNER
    assert removal_refusal(owner, owner, owner_count=1) == LAST_OWNER
    assert removal_refusal(owner, owner, owner_count=2) is None
    assert removal_refusal(manager, member, owner_count=1) is None
    assert removal_refusal(member, member, owner_count=1) == ONLY_OWNERS_FOR_OWNERS
    assert invitation_refusal(manager, "owner") == ONLY_OWNERS_FOR_OWNERS
    assert invitation_refusal(manager, "manager") is None
    assert invitation_refusal(owner, "owner") is None


def test_the_first_brand_chosen_after_sign_in_is_kept(client, auth, agency, session):
    org, _ = agency
    brand = factories.brand(session, org, name="First Pick")
    auth.login("member@example.test")
    auth.post("/settings/switch", {"organization_id": org.id, "brand_id": brand.id})
    assert '<option value="%d" selected>' % brand.id in page(client.get("/")).replace(" >", ">")
