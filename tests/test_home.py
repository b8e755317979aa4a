"""The Overview: a tile per status, counted in the database and linked to
Manage Accounts filtered by it, and only the most urgent profiles listed."""
import re
from datetime import timedelta

from portal.home import MOST_URGENT
from tests import factories as f


def tiles(html):
    return {status: int(count) for status, count in re.findall(
        r'<li class="tile tile-(\w+)"><a href="/accounts\?status=\1"><span class="tile-count">(\d+)</span>', html)}


def listed(html):
    return re.findall(r'<tr id="profile-(\d+)"', html)


def test_tiles_count_every_status_and_only_the_most_urgent_are_listed(app, client, auth, session):
    with app.app_context():
        org = f.organization(session)
        f.member(session, org, role="owner", email="owner@example.test")
        for n in range(MOST_URGENT + 2):
            f.credential(session, f.profile(session, org, name=f"Expired {n:02}"), expires_in=timedelta(days=-1 - n))
        soonest = f.profile(session, org, name="Soonest Page")
        f.credential(session, soonest, expires_in=timedelta(days=2))
        f.credential(session, f.profile(session, org, name="Valid"), expires_in=timedelta(days=60))
        f.credential(session, f.profile(session, org, name="Forever"), expires_in=None, last_check_ok=True)
    auth.login("owner@example.test")
    html = client.get("/").get_data(as_text=True)
    assert tiles(html) == {"expired": MOST_URGENT + 2, "expiring": 1, "valid": 1, "no_expiry": 1}
    assert len(listed(html)) == MOST_URGENT
    assert "Soonest Page" not in html  # expired ones come first and fill the list
    assert "See all 13 profiles at risk in Manage Accounts" in html


def test_an_organization_without_profiles_says_so(app, client, auth, session):
    with app.app_context():
        f.member(session, f.organization(session), role="owner", email="owner@example.test")
    auth.login("owner@example.test")
    assert "No social profiles yet" in client.get("/").get_data(as_text=True)


def test_all_healthy_says_so_and_lists_nothing(app, client, auth, session):
    with app.app_context():
        org = f.organization(session)
        f.member(session, org, role="owner", email="owner@example.test")
        f.credential(session, f.profile(session, org, name="Valid"), expires_in=timedelta(days=60))
    auth.login("owner@example.test")
    html = client.get("/").get_data(as_text=True)
    assert "All your tokens are healthy" in html and not listed(html)
