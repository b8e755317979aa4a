"""Conditional GET (`portal.web.conditional`): a repeat view of Manage
Accounts, the dropdown's list or the Overview answers 304 while nothing it
shows changed; each write that changes it bumps the organization's version
(`portal.versions`) and the next view is a 200 with the new content; another
agency's writes, a rolled-back write and the passing of time that changes
nothing shown keep the ETag; time that changes "3 days left" does not."""
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import Brand, Credential, InvalidReason, Membership, Organization, SocialProfile
from portal.networks.base import TokenSet
from tests import factories as f
from tests.conftest import Auth

HTMX = {"HX-Request": "true"}
PAGES = [("/accounts", {}), ("/accounts?status=expiring", HTMX), ("/accounts/expired-tokens", HTMX), ("/", {})]


@pytest.fixture
def agencies(session):
    """Ours, with a token 3½ days from its end, and another agency."""
    ours = f.agency(
        session,
        people={"owner": {"role": "owner", "name": "Olivia Owner"},
                "member": {"role": "member", "name": "Mia Member", "can_manage_profiles": True}},
        brands={"cafe": "Cafe"},
        profiles={"expiring": {"name": "Cafe Page", "brands": ["cafe"],
                               "credential": {"expires_in": timedelta(days=3, hours=12)}},
                  "valid": {"name": "Books Page", "network": "x",
                            "credential": {"expires_in": timedelta(days=50)}}},
        rights=[("member", "expiring", "admin")],
    )
    theirs = f.agency(session, name="Other Agency", people={"other": "owner"}, brands={"b": "Theirs"},
                      profiles={"stranger": {"name": "Stranger Page",
                                             "credential": {"expires_in": timedelta(days=2)}}})
    return ours, theirs


def get(client, path, headers=None, etag=None):
    headers = dict(headers or {})
    if etag:
        headers["If-None-Match"] = f'"{etag}"'
    return client.get(path, headers=headers)


def etag_of(response):
    assert response.status_code == 200, response.status_code
    etag, weak = response.get_etag()
    assert etag and not weak
    return etag


def first_views(client):
    return {path: etag_of(get(client, path, headers)) for path, headers in PAGES}


def unchanged(client, etags):
    return all(get(client, path, headers, etags[path]).status_code == 304 for path, headers in PAGES)


def post(client, auth, path, data):
    """A settings form as a browser sends it, and the page it leads to (which shows its flashed message)."""
    response = auth.post(path, data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.get(response.headers["Location"])


def version_of(session, organization):
    session.rollback()  # a new snapshot (SQLite keeps the one of the transaction's first read)
    session.expire_all()  # and what this session read before, committed or not
    return session.get(Organization, organization.id).version


def credential_of(session, profile):
    session.rollback()
    return session.exec(select(Credential).where(Credential.profile_id == profile.id,
                                                 Credential.superseded_at.is_(None))).one()


def test_an_unchanged_repeat_view_is_a_304_without_a_body(client, auth, agencies):
    auth.login(agencies[0].owner.email)
    for path, headers in PAGES:
        first = get(client, path, headers)
        etag = etag_of(first)
        assert first.headers["Cache-Control"] in ("private, no-cache", "no-cache, private")
        assert "HX-Request" in first.headers["Vary"]
        again = get(client, path, headers, etag)
        assert again.status_code == 304 and again.get_data() == b""
        assert again.get_etag() == (etag, False) and "no-cache" in again.headers["Cache-Control"]
        assert get(client, path, headers, "something-else").status_code == 200


def test_what_a_page_is_differs_by_url_htmx_person_and_language(client, auth, agencies, session):
    ours, _ = agencies
    auth.login(ours.owner.email)
    page, fragment = etag_of(get(client, "/accounts")), etag_of(get(client, "/accounts", HTMX))
    assert page != fragment != etag_of(get(client, "/accounts?page=2"))
    auth.login(ours.people["member"].email)
    assert get(client, "/accounts", etag=page).status_code == 200
    member = etag_of(get(client, "/accounts"))
    post(client, auth, "/settings/language", {"locale": "de", "next": "/"})
    assert "Konten verwalten" in get(client, "/accounts", etag=member).get_data(as_text=True)


def test_a_renewal_bumps_the_version_and_the_next_view_shows_it(app, client, auth, agencies, session):
    from portal.renewal.credentials import apply_refresh, record_attempt

    ours, _ = agencies
    auth.login(ours.owner.email)
    etags = first_views(client)
    version = version_of(session, ours.org)
    credential = credential_of(session, ours.profiles["expiring"])
    with app.app_context():
        apply_refresh(session, credential, TokenSet("renewed", expires_at=utcnow() + timedelta(days=60)))
        record_attempt(session, ours.profiles["expiring"], "silent", "renewed", credential)
        session.commit()
    assert version_of(session, ours.org) == version + 1  # once per commit, not per write
    accounts = get(client, "/accounts", etag=etags["/accounts"])
    assert accounts.status_code == 200 and "3 days left" not in accounts.get_data(as_text=True)
    dropdown = get(client, "/accounts/expired-tokens", HTMX, etags["/accounts/expired-tokens"])
    assert dropdown.status_code == 200 and "All your tokens are healthy" in dropdown.get_data(as_text=True)
    assert unchanged(client, first_views(client))


def test_a_token_found_dead_bumps_the_version(client, auth, agencies, session):
    from portal.renewal.credentials import mark_invalid

    ours, _ = agencies
    auth.login(ours.owner.email)
    etags = first_views(client)
    mark_invalid(session, credential_of(session, ours.profiles["valid"]), InvalidReason.PASSWORD_CHANGED)
    session.commit()
    response = get(client, "/accounts", etag=etags["/accounts"])
    assert response.status_code == 200 and "Password changed on X" in response.get_data(as_text=True)


def test_a_scan_that_writes_notices_bumps_the_version_and_one_that_writes_none_does_not(
        client, auth, agencies, session, app_context):
    from jobs.scan import scan

    ours, theirs = agencies
    before = {org.id: version_of(session, org) for org in (ours.org, theirs.org)}
    scan()
    after = {org.id: version_of(session, org) for org in (ours.org, theirs.org)}
    assert after == {org_id: version + 1 for org_id, version in before.items()}  # a notice in each
    scan()
    assert {org.id: version_of(session, org) for org in (ours.org, theirs.org)} == after


def test_a_rolled_back_write_bumps_nothing(agencies, session, app_context):
    from portal.renewal.credentials import mark_invalid

    ours, _ = agencies
    version = version_of(session, ours.org)
    mark_invalid(session, credential_of(session, ours.profiles["valid"]), InvalidReason.UNKNOWN)
    session.rollback()
    session.commit()
    assert version_of(session, ours.org) == version


def test_a_transaction_bumps_once_at_its_commit_whatever_its_savepoints_did(agencies, session):
    from portal.versions import changed

    ours, theirs = agencies
    before = version_of(session, ours.org), version_of(session, theirs.org)
    changed(session, organization_id=ours.org.id)
    with session.begin_nested():
        changed(session, profile_id=theirs.profiles["stranger"].id)
    savepoint = session.begin_nested()
    changed(session, organization_id=ours.org.id)
    savepoint.rollback()
    session.commit()
    assert (version_of(session, ours.org), version_of(session, theirs.org)) == (before[0] + 1, before[1] + 1)


def ids(agencies, session):
    ours, _ = agencies
    member = session.exec(select(Membership).where(Membership.user_id == ours.people["member"].id)).one()
    return ours.brands["cafe"].id, ours.profiles["valid"].id, member.id


SETTINGS_WRITES = {
    "brand renamed": lambda brand, profile, member: (f"/settings/brands/{brand}", {"name": "Café Corner"},
                                                     "Café Corner"),
    "brand created": lambda brand, profile, member: ("/settings/brands", {"name": "Bakery"}, "Bakery"),
    "profile enabled in a brand": lambda brand, profile, member: (
        f"/settings/brands/{brand}/profiles/{profile}", {"enabled": "true"}, None),
    "brand deleted": lambda brand, profile, member: (f"/settings/brands/{brand}/delete", {}, None),
    "expiry window": lambda brand, profile, member: (
        "/settings/organization", {"name": "Northwind Agency", "expiry_window_days": "60",
                                   "notification_thresholds": "7,3,1,0"}, "Expiring within 60 days"),
    "organization renamed": lambda brand, profile, member: (
        "/settings/organization", {"name": "Southwind", "expiry_window_days": "7",
                                   "notification_thresholds": "7,3,1,0"}, "Southwind"),
    "member's role": lambda brand, profile, member: (f"/settings/members/{member}/role", {"role": "manager"}, None),
    "member's right": lambda brand, profile, member: (
        f"/settings/members/{member}/social-profiles", {"can_manage_profiles": ""}, None),
    "member's access": lambda brand, profile, member: (
        f"/settings/access/{member}/{profile}", {"level": "viewer"}, None),
    "member removed": lambda brand, profile, member: (f"/settings/members/{member}/remove", {}, None),
}


@pytest.mark.parametrize("write", SETTINGS_WRITES)
def test_each_change_of_profiles_brands_members_or_settings_is_a_new_page(client, auth, agencies, session, write):
    ours, _ = agencies
    path, data, shown = SETTINGS_WRITES[write](*ids(agencies, session))
    auth.login(ours.owner.email)
    etags = first_views(client)
    version = version_of(session, ours.org)
    post(client, auth, path, data)
    assert version_of(session, ours.org) == version + 1
    for path, headers in PAGES:
        response = get(client, path, headers, etags[path])
        assert response.status_code == 200
    if shown:
        assert shown in get(client, "/accounts").get_data(as_text=True)


def test_a_persons_new_name_shows_on_the_pages_of_the_organizations_they_belong_to(
        app, client, auth, agencies, session):
    from portal.renewal.credentials import record_attempt

    ours, theirs = agencies
    owner = ours.owner
    with app.app_context():
        record_attempt(session, ours.profiles["expiring"], "silent", "renewed",
                       credential_of(session, ours.profiles["expiring"]), user_id=owner.id)
        session.commit()
    auth.login(ours.people["member"].email)
    before = etag_of(get(client, "/accounts"))
    assert "by Olivia Owner" in get(client, "/accounts").get_data(as_text=True)
    versions = {org.id: version_of(session, org) for org in (ours.org, theirs.org)}
    owners = app.test_client()
    Auth(owners).login(owner.email)
    post(owners, Auth(owners), "/settings/personal", {"name": "Olivia Hart", "locale": ""})
    assert version_of(session, ours.org) == versions[ours.org.id] + 1
    assert version_of(session, theirs.org) == versions[theirs.org.id]  # she is not one of theirs
    response = get(client, "/accounts", etag=before)
    assert response.status_code == 200 and "by Olivia Hart" in response.get_data(as_text=True)


def test_another_agencys_writes_leave_our_etags(app, client, auth, agencies, session):
    from portal.renewal.credentials import mark_invalid

    ours, theirs = agencies
    auth.login(ours.owner.email)
    etags = first_views(client)
    mark_invalid(session, credential_of(session, theirs.profiles["stranger"]), InvalidReason.APP_REMOVED)
    session.add(Brand(organization_id=theirs.org.id, name="Another brand of theirs"))
    session.commit()
    others = app.test_client()
    Auth(others).login(theirs.people["other"].email)
    post(others, Auth(others), f"/settings/brands/{theirs.brands['b'].id}", {"name": "Renamed by them"})
    post(others, Auth(others), "/settings/organization", {"name": "Other Agency", "expiry_window_days": "30",
                                                          "notification_thresholds": "7,3,1,0"})
    assert unchanged(client, etags)


def travel(monkeypatch, moment):
    """The pages and their ETags at `moment`."""
    for module in ("portal.web", "portal.accounts.views", "portal.profiles"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: moment)


def test_days_left_never_go_stale(client, auth, agencies, monkeypatch):
    """"3 days left" holds for 12 hours: the ETag holds as long, and not a moment longer."""
    ours, _ = agencies
    auth.login(ours.owner.email)
    now = utcnow()
    travel(monkeypatch, now)
    etag = etag_of(get(client, "/accounts"))
    assert "3 days left" in get(client, "/accounts").get_data(as_text=True)
    travel(monkeypatch, now + timedelta(hours=11, minutes=59))
    assert get(client, "/accounts", etag=etag).status_code == 304
    travel(monkeypatch, now + timedelta(hours=12, minutes=1))
    response = get(client, "/accounts", etag=etag)
    assert response.status_code == 200 and "2 days left" in response.get_data(as_text=True)


def test_a_token_entering_the_window_is_a_new_page(client, auth, agencies, monkeypatch):
    ours, _ = agencies
    auth.login(ours.owner.email)
    now = utcnow()
    travel(monkeypatch, now + timedelta(days=3, hours=11))
    etag = etag_of(get(client, "/"))
    # Cafe Page has expired; Books Page (50 days) enters the 7-day window 43 days from now.
    travel(monkeypatch, now + timedelta(days=42, hours=23))
    later = get(client, "/", etag=etag)
    assert later.status_code == 200
    travel(monkeypatch, now + timedelta(days=42, hours=23, minutes=59))
    assert get(client, "/", etag=etag_of(later)).status_code == 304
    travel(monkeypatch, now + timedelta(days=43, minutes=1))
    response = get(client, "/", etag=etag_of(later))
    assert response.status_code == 200 and "Books Page" in response.get_data(as_text=True)


def test_a_page_with_a_message_to_show_has_no_etag(client, auth, agencies):
    ours, _ = agencies
    auth.login(ours.owner.email)
    etag = etag_of(get(client, "/accounts"))
    with client.session_transaction() as cookie:
        cookie["_flashes"] = [("success", "Saved.")]
    response = get(client, "/accounts", etag=etag)
    assert response.status_code == 200 and response.get_etag() == (None, None)
    assert "Saved." in response.get_data(as_text=True)
    assert get(client, "/accounts", etag=etag).status_code == 304  # shown once; the same page again
