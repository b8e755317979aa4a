"""The Overview: a tile per status, counted in the database and linked to
Manage Accounts filtered by it, and only the most urgent profiles listed."""
import re
from datetime import timedelta

from portal.home import MOST_URGENT
from tests import factories as f
from tests.conftest import csrf_token


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


def test_each_listed_profile_has_renew_token_or_says_why_not(app, client, auth, session):
    """On a phone the list is a card per profile: its Renew Token is at hand, named for a screen reader."""
    made = f.agency(session, people={"owner": "owner", "member": {"role": "member", "can_manage_profiles": True}},
                    profiles={"tiktok": {"network": "tiktok", "name": "Harbor Fitness",
                                         "credential": {"expires_in": timedelta(days=2)}},
                              "page": {"name": "Harbor Fitness", "credential": {"expires_in": timedelta(days=-1)}}},
                    rights=[("member", "tiktok", "admin"), ("member", "page", "viewer")])
    tiktok, page = made.profiles["tiktok"].id, made.profiles["page"].id
    auth.login(made.people["owner"].email)
    html = client.get("/").get_data(as_text=True)
    assert f'<form method="post" action="/profiles/{tiktok}/renew"' in html
    assert 'Renew Token<span class="visually-hidden"> of Harbor Fitness on TikTok</span>' in html
    assert 'Renew Token<span class="visually-hidden"> of Harbor Fitness on Facebook</span>' in html
    assert '<input type="hidden" name="next" value="/">' in html

    client.post("/logout", data={"csrf_token": csrf_token(client)})
    auth.login(made.people["member"].email)
    html = client.get("/").get_data(as_text=True)
    assert f'action="/profiles/{tiktok}/renew"' in html and f'action="/profiles/{page}/renew"' not in html
    assert "Cannot renew" in html
