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
