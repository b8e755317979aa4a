"""Connect a profile, over HTTP against the sandbox network and its sample
accounts: the choice of network, the consent, "Choose the profiles to
connect" (searchable, a page at a time), and the profiles made."""
import re

import pytest
from sqlmodel import select

from devkit.sandbox import samples
from portal.models import (
    AuditEvent,
    Brand,
    BrandProfile,
    CanRenew,
    Credential,
    NativeRole,
    ProfileAccess,
    SocialProfile,
)
from tests import factories
from tests.renewal.conftest import OWNER

pytestmark = pytest.mark.slow

CHOOSE = re.compile(r"/accounts/connect/choose/([A-Za-z0-9_\-]+)")
SHOWN = re.compile(r'name="shown" value="([^"]+)"')


@pytest.fixture
def world(live):
    live.admin("samples", {})
    return live


def start_connect(live, network, email, account=None, decision="allow"):
    """Connect a profile → network → consent → callback; the callback's response."""
    started = live.http.post(f"/accounts/connect/networks/{network}", data={"csrf_token": live.csrf("/accounts/connect")})
    assert started.status_code == 303, started.text
    back = live.consent(started.headers["location"], email, decision, account=account)
    assert back.startswith(f"{live.base_url}/renew/callback/{network}")
    return live.http.get(back)


def picker(live, network, email, account=None):
    response = start_connect(live, network, email, account)
    assert response.status_code == 303, response.text
    path = response.headers["location"]
    assert CHOOSE.match(path), path
    return path


def choose(live, path, **form):
    data = {"csrf_token": live.csrf(path), **form}
    return live.http.post(path, data=data)


def owner_agency(session, role="owner", can_manage_profiles=True, brands=()):
    return factories.agency(session, people={"person": {"role": role, "email": OWNER,
                                                        "can_manage_profiles": can_manage_profiles}},
                            brands=brands)


def test_connect_facebook_pages_into_a_new_brand(world, session):
    made = owner_agency(session)
    world.login()
    page = world.http.get("/accounts")
    assert page.status_code == 200 and 'href="/accounts/connect"' in page.text
    choices = world.http.get("/accounts/connect").text
    for label in ("Facebook", "Instagram (Business)", "LinkedIn Page", "Google Business Profile", "TikTok"):
        assert label in choices

    path = picker(world, "facebook", samples.ALEX)
    shown = world.http.get(path).text
    assert "Choose the profiles to connect" in shown and "Alex Rivera" in shown
    assert "Riverside Bakery" in shown and "@riversidecatering" in shown and "Connect selected" in shown
    assert SHOWN.findall(shown) == ["sample-fb-101", "sample-fb-102", "sample-fb-103"]

    done = choose(world, path, shown=SHOWN.findall(shown), selected=["sample-fb-101", "sample-fb-102"],
                  brand="new", new_brand="Riverside", go="connect")
    assert done.status_code == 303, done.text
    brand = session.exec(select(Brand).where(Brand.organization_id == made.org.id)).one()
    assert brand.name == "Riverside"
    assert done.headers["location"] == f"/accounts?brand={brand.id}&network=facebook"
    listing = world.http.get(done.headers["location"]).text
    assert "Connected 2 profiles: Riverside Bakery, Riverside Bakery Catering." in listing
    assert "Rivera Family Photography" not in listing

    profiles = session.exec(select(SocialProfile).order_by(SocialProfile.external_id)).all()
    assert [(p.external_id, p.name, p.handle) for p in profiles] == [
        ("sample-fb-101", "Riverside Bakery", "@riversidebakery"),
        ("sample-fb-102", "Riverside Bakery Catering", "@riversidecatering")]
    for profile in profiles:
        credential = world.current(profile.id)
        assert credential.token_type == "page" and credential.granted_by_id == made.people["person"].id
        assert world.cipher().unseal(credential.sealed_access_token).startswith("EAAP")
        assert session.get(BrandProfile, (brand.id, profile.id)) is not None
        role = session.exec(select(NativeRole).where(NativeRole.profile_id == profile.id)).one()
        assert (role.user_id, role.can_renew) == (made.people["person"].id, CanRenew.YES)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "profile.connected")).all()
    assert sorted(e.profile_id for e in events) == [p.id for p in profiles]
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "brand.created")).one()
    assert (created.data, created.user_id) == ({"brand": "Riverside"}, made.people["person"].id)
    assert world.http.get(path).status_code == 404  # the choice is spent

    # Again: the two are "Already connected", and the consent renewed them.
    again = world.http.get(picker(world, "facebook", samples.ALEX)).text
    assert again.count("Already connected") == 2
    session.rollback()
    for profile in profiles:
        history = session.exec(select(Credential).where(Credential.profile_id == profile.id)).all()
        assert len(history) == 2


def test_hundreds_of_pages_are_searched_and_chosen_a_page_at_a_time(world, session):
    owner_agency(session, brands={"yoga": "Sunrise Yoga"})
    brand = session.exec(select(Brand)).one()
    world.login()
    path = picker(world, "facebook", samples.JORDAN)
    first = world.http.get(path).text
    assert len(SHOWN.findall(first)) == 50 and "1–50 of 120" in first

    # Tick two on page 1, go to page 3: the two are kept.
    ticked = SHOWN.findall(first)[:2]
    moved = choose(world, path, shown=SHOWN.findall(first), selected=ticked, go="page-3")
    assert moved.status_code == 303 and moved.headers["location"] == f"{path}?page=3"
    third = world.http.get(moved.headers["location"]).text
    assert "101–120 of 120" in third and "2 chosen" in third

    searched = choose(world, path, shown=SHOWN.findall(third), q="Studio 11", page="3", go="search")
    assert searched.headers["location"] == f"{path}?q=Studio+11"
    found = world.http.get(searched.headers["location"]).text
    assert SHOWN.findall(found) == [f"sample-fb-sunrise-{n}" for n in range(110, 120)]
    everything = choose(world, path, shown=SHOWN.findall(found), q="Studio 11", go="all")
    assert "12 chosen" in world.http.get(everything.headers["location"]).text

    done = choose(world, path, shown=SHOWN.findall(found), selected=SHOWN.findall(found), q="Studio 11",
                  brand=str(brand.id), go="connect")
    assert done.status_code == 303
    session.rollback()
    assert len(session.exec(select(SocialProfile)).all()) == 12
    assert len(session.exec(select(BrandProfile).where(BrandProfile.brand_id == brand.id)).all()) == 12


def test_a_new_brand_named_like_one_of_the_agency_is_that_brand(world, session):
    """Brand names are told apart whatever their case, as Settings → Brands tells them."""
    owner_agency(session, brands={"yoga": "Sunrise Yoga"})
    brand = session.exec(select(Brand)).one()
    world.login()
    path = picker(world, "facebook", samples.ALEX)
    done = choose(world, path, shown=["sample-fb-101"], selected=["sample-fb-101"], brand="new",
                  new_brand=" sunrise YOGA ", go="connect")
    assert done.status_code == 303 and done.headers["location"] == f"/accounts?brand={brand.id}&network=facebook"
    session.rollback()
    assert session.exec(select(Brand)).all() == [brand]
    profile = session.exec(select(SocialProfile)).one()
    assert session.get(BrandProfile, (brand.id, profile.id)) is not None


def test_a_page_without_the_rights_to_keep_it_cannot_be_chosen(world, session):
    owner_agency(session)
    world.login()
    path = picker(world, "facebook", samples.CASEY)
    page = world.http.get(path).text
    assert "lacks the rights to keep it connected" in page and 'name="selected"' not in page
    refused = choose(world, path, shown=["sample-fb-101"], selected=["sample-fb-101"], go="connect")
    assert refused.status_code == 400 and "Choose at least one profile to connect." in refused.text
    assert session.exec(select(SocialProfile)).all() == []


def test_a_member_who_manages_profiles_connects_and_becomes_admin(world, session):
    made = owner_agency(session, role="member", can_manage_profiles=True)
    world.login()
    path = picker(world, "instagram", samples.ALEX, account="sample-ig-301")
    page = world.http.get(path).text
    assert SHOWN.findall(page) == ["sample-ig-301"]
    assert choose(world, path, shown=["sample-ig-301"], selected=["sample-ig-301"], go="connect").status_code == 303
    session.rollback()
    profile = session.exec(select(SocialProfile)).one()
    access = session.exec(select(ProfileAccess)).one()
    assert (access.user_id, access.profile_id, access.level) == (made.people["person"].id, profile.id, "admin")
    assert "Riverside Bakery" in world.http.get("/accounts").text


def test_a_member_without_manage_profiles_may_not_connect(world, session):
    owner_agency(session, role="member", can_manage_profiles=False)
    world.login()
    assert 'href="/accounts/connect"' not in world.http.get("/accounts").text
    assert world.http.get("/accounts/connect").status_code == 403
    token = world.csrf("/accounts")
    assert world.http.post("/accounts/connect/networks/facebook", data={"csrf_token": token}).status_code == 403


def test_a_declined_consent_connects_nothing(world, session):
    owner_agency(session)
    world.login()
    response = start_connect(world, "facebook", samples.ALEX, decision="deny")
    assert response.status_code == 303 and response.headers["location"] == "/accounts/connect"
    assert any("declined the request on Facebook, so nothing was connected" in text
               for _, text in world.flashes("/accounts/connect"))
    assert session.exec(select(SocialProfile)).all() == []


@pytest.mark.parametrize("form, message", [
    ({}, "Choose at least one profile to connect."),
    ({"selected": ["sample-fb-101"], "brand": "new", "new_brand": "  "}, "Name the new brand."),
    ({"selected": ["sample-fb-101"], "brand": "new", "new_brand": "x" * 121},
     "A brand name has at most 120 characters."),
    ({"selected": ["sample-fb-101"], "brand": "999999"}, "That brand does not exist in this organization."),
    ({"selected": ["sample-fb-101"], "brand": "drop table"}, "That brand does not exist in this organization."),
])
def test_bad_choices_are_explained_and_kept(world, session, form, message):
    owner_agency(session)
    world.login()
    path = picker(world, "facebook", samples.ALEX)
    refused = choose(world, path, shown=["sample-fb-101", "sample-fb-102", "sample-fb-103"], go="connect", **form)
    assert refused.status_code == 400 and message in refused.text
    if form.get("selected"):
        assert re.search(r'value="sample-fb-101" checked', refused.text)  # nothing chosen is lost
    assert session.exec(select(SocialProfile)).all() == []
    assert world.http.get(path).status_code == 200  # the choice is still there


def test_another_persons_or_agencys_choice_is_404(world, session, app):
    owner_agency(session)
    other = factories.agency(session, name="Other Agency", people={"owner": {"role": "owner",
                                                                             "email": "other@example.test"}})
    world.login()
    path = picker(world, "facebook", samples.ALEX)
    world.http.post("/logout", data={"csrf_token": world.csrf("/")})
    world.login(other.owner.email)
    assert world.http.get(path).status_code == 404
    assert choose(world, path, shown=["sample-fb-101"], selected=["sample-fb-101"], go="connect").status_code == 404
    assert world.http.get("/accounts/connect/choose/not-a-choice").status_code == 404
    assert session.exec(select(SocialProfile)).all() == []


def test_a_name_with_line_breaks_from_the_network_is_stored_on_one_line(world, session):
    """A network's name or handle with control characters (it goes into email subjects) is kept on one line."""
    owner_agency(session)
    world.admin("grants", {
        "network": "facebook",
        "account": {"external_id": "fb-900", "name": "North\nwind\r\nCafé\u2028 Bar\u2029\x00",
                    "handle": "@north\rwind\u200b"},
        "person": {"email": OWNER, "name": "Owner"},
    })
    world.login()
    path = picker(world, "facebook", OWNER)
    assert SHOWN.findall(world.http.get(path).text) == ["fb-900"]

    assert choose(world, path, shown=["fb-900"], selected=["fb-900"], go="connect").status_code == 303
    session.rollback()
    profile = session.exec(select(SocialProfile)).one()
    assert (profile.name, profile.handle) == ("North wind Café Bar", "@north wind")
