"""The header bell: the person's own notices, newest first, marked read one
by one or all at once; opening one shows its profile."""
import re
from datetime import timedelta

from sqlmodel import select

from portal.db import utcnow
from portal.models import Notification
from tests import factories


def notice(session, user, org, profile, kind="expiring", days=3, age=timedelta(0), read=False):
    row = Notification(key=f"k{user.id}-{profile.id}-{kind}-{days}-{age}", user_id=user.id, organization_id=org.id,
                       profile_id=profile.id, kind=kind, threshold_days=days if kind == "expiring" else 0,
                       # The end is `days` away now (and an hour): the bell tells the time left now.
                       expires_at=utcnow() + timedelta(days=days, hours=1) if kind == "expiring" else utcnow() - age,
                       created_at=utcnow() - age, read_at=utcnow() if read else None)
    session.add(row)
    session.commit()
    return row


def setup(session):
    made = factories.agency(session, name="Northwind", people={"owner": "owner", "manager": "manager"},
                            profiles={"page": {"name": "Northwind Café"},
                                      "shop": {"network": "instagram", "name": "Northwind Shop"}})
    return made.org, made.owner, made.people["manager"], made.profiles["page"], made.profiles["shop"]


def test_the_bell_counts_unread_notices_and_lists_the_newest_first(app, client, auth, session):
    org, owner, other, page, shop = setup(session)
    notice(session, owner, org, page, days=7, age=timedelta(days=2))
    notice(session, owner, org, shop, kind="expired", age=timedelta(hours=1))
    notice(session, owner, org, page, days=1, age=timedelta(days=3), read=True)
    notice(session, other, org, page, days=3)  # someone else's
    auth.login(owner.email)

    bell = client.get("/notifications?bell=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Notifications, 2 unread" in bell
    assert '<span class="badge" aria-hidden="true">2</span>' in bell
    names = re.findall(r'class="link-button token-name" type="submit">([^<]+)<', bell)
    assert names == ["Northwind Shop", "Northwind Café", "Northwind Café"]
    assert "Instagram · Expired" in bell and "Facebook · Expires in 7 days" in bell

    page_html = client.get("/").get_data(as_text=True)
    assert 'hx-get="/notifications?bell=1"' in page_html and "every 60s" in page_html
    assert "tokens-changed from:body" in page_html


def test_mark_one_and_all_read(app, client, auth, session):
    org, owner, other, page, shop = setup(session)
    first = notice(session, owner, org, page)
    notice(session, owner, org, shop, kind="expired")
    auth.login(owner.email)

    response = auth.post(f"/notifications/{first.id}/read")
    assert response.status_code == 303
    assert "Notifications, 1 unread" in client.get("/notifications?bell=1", headers={"HX-Request": "true"}).get_data(as_text=True)

    response = auth.post("/notifications/read-all", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "notifications-changed"
    assert "Notifications, 0 unread" in response.get_data(as_text=True)
    session.commit()
    session.expire_all()
    assert all(n.read_at is not None for n in session.exec(select(Notification)).all())


def test_opening_a_notice_marks_it_read_and_shows_the_profile(app, client, auth, session):
    org, owner, other, page, shop = setup(session)
    row = notice(session, owner, org, shop)
    auth.login(owner.email)

    response = auth.post(f"/notifications/{row.id}/open")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/accounts/{shop.id}")
    assert "Northwind Shop" in client.get(response.headers["Location"]).get_data(as_text=True)
    session.commit()
    session.expire_all()
    assert session.get(Notification, row.id).read_at is not None


def test_another_persons_notice_is_404(app, client, auth, session):
    org, owner, other, page, shop = setup(session)
    theirs = notice(session, other, org, page)
    auth.login(owner.email)
    for path in (f"/notifications/{theirs.id}/read", f"/notifications/{theirs.id}/open"):
        assert auth.post(path).status_code == 404
    session.commit()
    session.expire_all()
    assert session.get(Notification, theirs.id).read_at is None


def test_a_renewal_resolves_the_notices_it_made_moot_and_a_refresh_that_moved_nothing_does_not(
        app, client, auth, session):
    from jobs.scan import scan
    from portal.models import Credential
    from portal.networks.base import TokenSet
    from portal.renewal.credentials import apply_refresh, store_grant

    org, owner, other, page, shop = setup(session)
    ends = utcnow() + timedelta(days=2, hours=12)
    credential = factories.credential(session, shop, refresh_token="r", refresh_expires_at=ends)
    with app.app_context():
        scan()
    auth.login(owner.email)
    assert "Notifications, 1 unread" in client.get("/notifications?bell=1", headers={"HX-Request": "true"}).text

    with app.app_context():
        # A refresh that leaves the refresh token's end where it was: the notice still holds.
        row = session.get(Credential, credential.id)
        apply_refresh(session, row, TokenSet("a2", "r2", utcnow() + timedelta(hours=2), ends))
        session.commit()
        assert [n.resolved_at for n in session.exec(select(Notification)).all()] == [None, None]
        # A new consent: the notice is moot.
        store_grant(session, shop, TokenSet("a3", "r3", utcnow() + timedelta(hours=2), utcnow() + timedelta(days=365)))
        session.commit()

    resolved = session.exec(select(Notification).where(Notification.user_id == owner.id)).one()
    assert resolved.resolved_at is not None and resolved.read_at is None
    bell = client.get("/notifications?bell=1", headers={"HX-Request": "true"}).text
    page_html = client.get("/notifications").text
    for html in (bell, page_html):
        assert "Notifications, 0 unread" in html or "0 unread" in html
        assert "Resolved: renewed" in html and "Instagram · Expires in 2 days" in html
        assert "Mark as read" not in html


def test_a_refresh_that_moves_the_end_resolves_too(app, session):
    from portal.models import Credential
    from portal.networks.base import TokenSet
    from portal.renewal.credentials import apply_refresh

    org, owner, other, page, shop = setup(session)
    credential = factories.credential(session, shop, expires_in=timedelta(days=2))
    row = notice(session, owner, org, shop, days=2)
    row.credential_id, row.expires_at = credential.id, credential.expires_at
    link = notice(session, owner, org, shop, kind="link_failed")
    session.add(row)
    session.commit()
    with app.app_context():
        apply_refresh(session, session.get(Credential, credential.id),
                      TokenSet("a2", expires_at=utcnow() + timedelta(days=60)))
        session.commit()
    session.expire_all()
    assert session.get(Notification, row.id).resolved_at is not None
    assert session.get(Notification, link.id).resolved_at is None  # not a notice of the token's end
