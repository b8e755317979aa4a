"""Remove a profile (who may, its dialog, what goes and what stays) and
Manage Accounts' CSV export (the filtered list, every page of it, with
cells a spreadsheet cannot read as formulas). The network's side of a
removal, its revocation: tests/renewal/test_remove.py."""
import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import (
    AuditEvent,
    BrandProfile,
    Credential,
    Delivery,
    DeliveryStatus,
    Membership,
    Notification,
    ProfileAccess,
    Role,
    SocialProfile,
)
from portal.permissions import may_remove_profile
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agency(session):
    made = factories.agency(
        session,
        people={"owner": {"role": "owner", "name": "Olivia Owner"}, "manager": "manager",
                "admin": {"role": "member", "can_manage_profiles": True, "name": "Ada Admin"},
                "viewer": {"role": "member", "can_manage_profiles": True},
                "plain": {"role": "member"}},
        brands={"cafe": "Cafe", "books": "Books"},
        profiles={
            "page": {"network": "facebook", "name": "Cafe Page", "handle": "@cafepage", "brands": ["cafe"],
                     "credential": {"expires_in": timedelta(days=3, hours=2), "granted_by": "owner"}},
            "formula": {"network": "facebook", "name": "=HYPERLINK(\"http://evil.example\")", "handle": "@evil",
                        "brands": ["books"], "credential": {"expires_in": timedelta(days=40)}},
            "gram": {"network": "instagram_business", "name": "Books Gram", "handle": "@booksgram",
                     "brands": ["books"], "credential": {"expires_in": timedelta(days=-1)}},
        },
        rights=[("admin", "page", "admin"), ("viewer", "page", "viewer"), ("plain", "page", "admin")],
    )
    notice = Notification(key="remove-test", user_id=made.owner.id, organization_id=made.org.id,
                          profile_id=made.profiles["page"].id, kind="expiring", threshold_days=3,
                          expires_at=utcnow() + timedelta(days=3))
    session.add(notice)
    session.flush()
    session.add_all([
        Delivery(key="remove-test-email", notification_id=notice.id, channel="email", recipient="owner@example.test"),
        Delivery(key="remove-test-sent", notification_id=notice.id, channel="push", recipient="x",
                 status=DeliveryStatus.SENT)])
    session.commit()
    return made


@pytest.mark.parametrize("role, manages, level, allowed", [
    (Role.OWNER, False, None, True),
    (Role.MANAGER, False, None, True),
    (Role.MEMBER, True, "admin", True),
    (Role.MEMBER, True, "viewer", False),
    (Role.MEMBER, False, "admin", False),
])
def test_who_may_remove_a_profile(role, manages, level, allowed):
    assert bool(may_remove_profile(Membership(role=role, can_manage_profiles=manages), level)) is allowed


def test_the_menu_offers_remove_profile_to_those_who_may(client, auth, agency):
    page = agency.profiles["page"]
    for email, offered in (("owner@example.test", True), ("admin@example.test", True),
                           ("viewer@example.test", False), ("plain@example.test", False)):
        auth.login(email)
        menu = client.get(f"/accounts/{page.id}/menu", headers=HTMX).get_data(as_text=True)
        assert ("Remove profile" in menu) is offered, email


def test_the_dialog_says_what_stops_and_the_button_removes(client, auth, agency, session):
    page = agency.profiles["page"]
    auth.login("owner@example.test")
    dialog = client.get(f"/accounts/{page.id}/remove?next=/accounts%3Fbrand%3D", headers=HTMX)
    text = dialog.get_data(as_text=True)
    assert dialog.status_code == 200 and "<dialog" in text and "Remove Cafe Page" in text
    assert "stops watching and renewing its token" in text and "Its tokens are deleted" in text
    assert "The activity log keeps its history." in text and '>Remove<span' in text
    assert "<dialog" not in client.get(f"/accounts/{page.id}/remove").get_data(as_text=True)  # a page of its own

    done = auth.post(f"/accounts/{page.id}/remove", {"next": "/accounts?brand="})
    assert done.status_code == 303 and done.headers["Location"] == "/accounts?brand="
    listing = client.get("/accounts?brand=").get_data(as_text=True)
    assert "Cafe Page (Facebook) is removed, and its tokens are deleted." in listing
    assert 'id="count-all">2<' in listing and "Cafe Page</a>" not in listing

    session.rollback()
    session.expunge_all()
    assert session.get(SocialProfile, page.id) is None
    assert session.exec(select(Credential).where(Credential.profile_id == page.id)).all() == []
    assert session.exec(select(BrandProfile).where(BrandProfile.profile_id == page.id)).all() == []
    assert session.exec(select(ProfileAccess).where(ProfileAccess.profile_id == page.id)).all() == []
    assert session.exec(select(Notification).where(Notification.key == "remove-test")).all() == []
    statuses = {d.key: d.status for d in session.exec(select(Delivery)).all()}
    assert statuses == {"remove-test-email": DeliveryStatus.OBSOLETE, "remove-test-sent": DeliveryStatus.SENT}
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "profile.removed")).all()
    assert [(e.profile_id, e.profile_name, e.profile_network, e.user_id) for e in events] == [
        (None, "Cafe Page", "facebook", agency.owner.id)]
    activity = client.get("/settings/activity").get_data(as_text=True)
    assert "Profile removed" in activity and "Cafe Page" in activity


def test_a_member_removes_only_what_they_administer(client, auth, agency, session):
    auth.login("viewer@example.test")
    assert auth.post(f"/accounts/{agency.profiles['page'].id}/remove").status_code == 403
    assert auth.post(f"/accounts/{agency.profiles['gram'].id}/remove").status_code == 404  # not theirs to see
    auth.login("admin@example.test")
    assert client.get(f"/accounts/{agency.profiles['page'].id}/remove").status_code == 200
    assert auth.post(f"/accounts/{agency.profiles['page'].id}/remove").status_code == 303
    session.rollback()
    session.expunge_all()
    assert session.get(SocialProfile, agency.profiles["page"].id) is None


def test_an_unknown_or_removed_profile_is_404(client, auth, agency):
    auth.login("owner@example.test")
    page = agency.profiles["page"]
    assert auth.post(f"/accounts/{page.id}/remove").status_code == 303
    assert auth.post(f"/accounts/{page.id}/remove").status_code == 404
    assert client.get("/accounts/987654/remove").status_code == 404


# --- Export CSV ------------------------------------------------------------------

def exported(client, query=""):
    response = client.get(f"/accounts/export.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_export_of_the_filtered_list_with_who_can_renew(client, auth, agency):
    auth.login("owner@example.test")
    header, *rows = exported(client, "?brand=")
    assert header == ["Profile", "Handle", "Network", "Brands", "Status", "Effective expiry", "Last renewed",
                      "Renewed by", "Time zone", "Who can renew"]
    by_name = {row[0]: dict(zip(header, row)) for row in rows}
    assert [row[0] for row in rows] == ["Books Gram", "Cafe Page", "'=HYPERLINK(\"http://evil.example\")"]
    cafe = by_name["Cafe Page"]
    assert (cafe["Network"], cafe["Brands"], cafe["Status"]) == ("Facebook", "Cafe", "Expires in 3 days")
    assert cafe["Effective expiry"][:4].isdigit() and cafe["Renewed by"] == "Olivia Owner"
    renewers = cafe["Who can renew"].split(", ")
    assert "Olivia Owner" in renewers and "Ada Admin" in renewers
    assert "viewer@example.test" not in renewers and "plain@example.test" not in renewers
    assert by_name["Books Gram"]["Status"].startswith("Expired")

    _, *cafe_only = exported(client, "?brand=" + str(agency.brands["cafe"].id))
    assert [row[0] for row in cafe_only] == ["Cafe Page"]
    _, *expired = exported(client, "?brand=&status=expired")
    assert [row[0] for row in expired] == ["Books Gram"]
    _, *searched = exported(client, "?brand=&q=books")
    assert [row[0] for row in searched] == ["Books Gram"]


def test_export_holds_what_the_person_sees_and_every_page(client, auth, agency, session):
    for n in range(120):
        factories.profile(session, agency.org, network="x", name=f"Bulk {n:03d}")
    auth.login("admin@example.test")
    _, *mine = exported(client, "?brand=")
    assert [row[0] for row in mine] == ["Cafe Page"]
    auth.login("owner@example.test")
    _, *everything = exported(client, "?brand=")
    assert len(everything) == 123


def test_a_filter_that_names_nothing_is_a_400_not_a_file(client, auth, agency):
    auth.login("owner@example.test")
    response = client.get("/accounts/export.csv?status=nonsense")
    assert response.status_code == 400 and "That status filter does not exist" in response.get_data(as_text=True)


def test_the_page_offers_the_export_of_its_own_filters(client, auth, agency):
    auth.login("owner@example.test")
    page = client.get(f"/accounts?brand={agency.brands['cafe'].id}&status=expiring").get_data(as_text=True)
    assert f'href="/accounts/export.csv?status=expiring&amp;brand={agency.brands["cafe"].id}"' in page
