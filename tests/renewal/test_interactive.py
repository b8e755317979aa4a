"""Interactive renewal through the sandbox over HTTP, for every network:
Renew → the network's consent → the callback → a valid, encrypted credential."""
import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import AuditEvent, CanRenew, NativeRole, ProfileAccess, RenewalAttempt
from portal.networks import NETWORKS
from portal.status import Status, token_status
from tests import factories
from tests.renewal.conftest import OWNER, Live, agency, query_of

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("network", NETWORKS)
def test_renew_through_consent(live, session, network):
    live.grant(network, "5001")
    org, person, profile = agency(session, network, "5001")
    live.login()

    response = live.renew_interactively(profile.id, next_url="/?from=renew")

    assert response.status_code == 303
    assert response.headers["location"] == "/?from=renew"
    credential = live.current(profile.id)
    assert not credential.is_invalid and credential.granted_by_id == person.id
    assert token_status(credential, utcnow(), 7).status in (Status.VALID, Status.NO_EXPIRY)
    access = live.cipher().unseal(credential.sealed_access_token)
    assert access and access not in credential.sealed_access_token
    history = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert [(a.mode, a.outcome) for a in history] == [("interactive", "renewed")]
    role = session.exec(select(NativeRole).where(NativeRole.profile_id == profile.id)).one()
    assert (role.user_id, role.can_renew) == (person.id, CanRenew.YES)
    assert any("Renewed: Northwind Café" in text for _, text in live.flashes())
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "token.renewed")).first()


def test_the_consent_url_carries_state_and_pkce(live, session):
    live.grant("x", "5001")
    _, _, profile = agency(session, "x", "5001")
    live.login()
    started = live.renew(profile.id)
    params = query_of(started.headers["location"])
    assert len(params["state"]) >= 32
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["redirect_uri"] == f"{live.base_url}/renew/callback/x"
    assert "code_verifier" not in started.headers["location"]


def test_a_facebook_consent_renews_every_page_it_grants(live, session):
    for page in ("1001", "1002", "1003"):
        live.grant("facebook", page, name=f"Page {page}")
    org = factories.organization(session, name="Northwind Agency")
    factories.member(session, org, role="owner", email=OWNER)
    cafe, bakery = factories.brand(session, org, "Café"), factories.brand(session, org, "Bakery")
    profiles = [
        factories.profile(session, org, network="facebook", external_id=page, name=f"Page {page}",
                          brands=[cafe, bakery] if page == "1001" else [cafe])
        for page in ("1001", "1002", "1003")
    ]
    for profile in profiles:
        factories.credential(session, profile, status="invalid", invalid_reason="expired")
    live.login()

    live.renew_interactively(profiles[0].id)

    for profile in profiles:
        assert not live.current(profile.id).is_invalid, profile.name
    # One profile, one credential: it reads renewed in both of its brands.
    for brand in (cafe, bakery):
        live.http.post("/settings/switch", data={
            "csrf_token": live.csrf("/"), "organization_id": org.id, "brand_id": brand.id,
        })
        page = live.http.get("/accounts").text
        assert "Page 1001" in page and "pill-expired" not in page


def test_a_members_consent_renews_only_what_they_may_renew(live, session):
    """The network grants a Member's account three Pages of the agency; Keepalive
    lets them renew one (Admin there), so their consent renews that one alone."""
    member = "member@demo.test"
    for page in ("1001", "1002", "1003"):
        live.grant("facebook", page, email=member, name=f"Page {page}")
    org = factories.organization(session, name="Northwind Agency")
    person = factories.member(session, org, email=member, can_manage_profiles=True)
    mine, editing, unseen = [factories.profile(session, org, network="facebook", external_id=page, name=f"Page {page}")
                             for page in ("1001", "1002", "1003")]
    factories.access(session, person, mine, "admin")
    factories.access(session, person, editing, "editor")
    for profile in (mine, editing, unseen):
        factories.credential(session, profile, status="invalid", invalid_reason="expired")
    live.login(member)

    live.renew_interactively(mine.id, email=member)

    assert not live.current(mine.id).is_invalid
    assert live.current(editing.id).is_invalid and live.current(unseen.id).is_invalid
    [(kind, text)] = live.flashes()
    assert kind == "success" and "Page 1001" in text and "1002" not in text and "1003" not in text
    renewed = session.exec(select(RenewalAttempt.profile_id).where(RenewalAttempt.outcome == "renewed")).all()
    assert renewed == [mine.id]


def test_a_member_who_lost_the_right_during_the_consent_renews_nothing(live, session):
    member = "member@demo.test"
    live.grant("facebook", "1001", email=member)
    org = factories.organization(session, name="Northwind Agency")
    person = factories.member(session, org, email=member, can_manage_profiles=True)
    profile = factories.profile(session, org, network="facebook", external_id="1001", name="Northwind Café")
    access = factories.access(session, person, profile, "admin")
    dead = factories.credential(session, profile, status="invalid", invalid_reason="expired")
    live.login(member)
    started = live.renew(profile.id)
    back = live.consent(started.headers["location"], email=member)
    session.rollback()  # a fresh snapshot: SQLite refuses a write from a stale one
    session.delete(session.get(ProfileAccess, access.id))  # an Owner takes the Admin role away meanwhile
    session.commit()

    live.http.get(back)

    assert live.current(profile.id).id == dead.id
    [(kind, text)] = live.flashes()
    assert kind == "error" and "no longer renew Northwind Café" in text


def test_every_profile_a_google_consent_covers_keeps_its_newest_refresh_token(live, session):
    """Each consent with prompt=consent mints a refresh token, and Google drops
    the oldest beyond its cap per client and account: every location the
    consent covers takes the newest, none keeps an older one."""
    for location in ("9001", "9002"):
        live.grant("google_business", location, name=f"Location {location}")
    profiles = list(factories.agency(session, people={"owner": {"role": "owner", "email": OWNER}}, profiles={
        location: {"network": "google_business", "external_id": location,
                   "credential": {"refresh_token": f"1//older-{location}"}}
        for location in ("9001", "9002")
    }).profiles.values())
    live.login()
    live.renew_interactively(profiles[0].id)
    cipher = live.cipher()
    refresh_tokens = {cipher.unseal(live.current(p.id).sealed_refresh_token) for p in profiles}
    assert len(refresh_tokens) == 1 and not refresh_tokens & {"1//older-9001", "1//older-9002"}


def test_a_profile_of_another_agency_is_not_touched_by_the_same_consent(live, session):
    live.grant("facebook", "1001")
    _, _, profile = agency(session, "facebook", "1001")
    other = factories.organization(session, name="Other Agency")
    theirs = factories.profile(session, other, network="facebook", external_id="1001")
    factories.credential(session, theirs, status="invalid", invalid_reason="expired")
    live.login()
    live.renew_interactively(profile.id)
    assert live.current(theirs.id).is_invalid


# --- failures: each explained, nothing stored ------------------------------

def test_denied_consent_changes_nothing(live, session):
    live.grant("linkedin_personal", "li-1")
    _, _, profile = agency(session, "linkedin_personal", "li-1")
    before = live.current(profile.id)
    live.login()
    response = live.renew_interactively(profile.id, decision="deny")
    assert response.status_code == 303
    assert live.current(profile.id).id == before.id
    assert any("declined" in text for kind, text in live.flashes() if kind == "error")


def test_a_different_account_is_refused(live, session):
    live.grant("tiktok", "tt-1")
    live.grant("tiktok", "tt-other", email="someone@else.test")
    _, _, profile = agency(session, "tiktok", "tt-1")
    before = live.current(profile.id)
    live.login()
    live.renew_interactively(profile.id, email="someone@else.test")
    assert live.current(profile.id).id == before.id
    assert any("does not manage" in text for _, text in live.flashes())


def test_insufficient_native_rights_name_who_could_renew(live, session):
    live.grant("facebook", "1001", roles=[
        {"email": "analyst@demo.test", "role": "ANALYST", "can_renew": False},
        {"email": OWNER, "role": "ADMIN", "can_renew": True},
    ])
    org, owner, profile = agency(session, "facebook", "1001")
    manager = factories.member(session, org, role="manager", email="analyst@demo.test", name="Ana Analyst")
    session.add(NativeRole(profile_id=profile.id, user_id=owner.id, can_renew=CanRenew.YES, role="Admin"))
    session.commit()
    before = live.current(profile.id)
    live.login("analyst@demo.test")
    live.renew_interactively(profile.id, email="analyst@demo.test")
    assert live.current(profile.id).id == before.id
    message = " ".join(text for _, text in live.flashes())
    assert "lacks the rights" in message and "Olivia Owner" in message
    role = session.exec(select(NativeRole).where(NativeRole.user_id == manager.id)).one()
    assert role.can_renew == CanRenew.NO


def test_the_network_down_during_the_exchange_marks_nothing_dead(live, session):
    live.grant("pinterest", "pin-1")
    _, _, profile = agency(session, "pinterest", "pin-1", expires_in=None, last_check_ok=True)
    live.login()
    started = live.renew(profile.id)
    back = live.consent(started.headers["location"])
    live.fault("pinterest", "500", count=3)
    live.http.get(back)
    credential = live.current(profile.id)
    assert not credential.is_invalid
    assert any("not answering" in text for _, text in live.flashes())


@pytest.mark.parametrize("tamper", ["missing", "unknown", "other_network", "replayed", "expired"])
def test_the_callback_refuses_a_bad_state_and_stores_nothing(live, session, tamper):
    live.grant("x", "5001")
    _, _, profile = agency(session, "x", "5001")
    before = live.current(profile.id)
    live.login()
    back = live.consent(live.renew(profile.id).headers["location"])
    params = query_of(back)
    if tamper == "missing":
        url = f"/renew/callback/x?code={params['code']}"
    elif tamper == "unknown":
        url = f"/renew/callback/x?code={params['code']}&state=forged-{params['state'][:20]}"
    elif tamper == "other_network":
        url = f"/renew/callback/tiktok?code={params['code']}&state={params['state']}"
    elif tamper == "replayed":
        assert live.http.get(back).status_code == 303
        before = live.current(profile.id)
        url = back
    else:
        from portal.queue import redis, redis_key
        from portal.url_secrets import hash_secret

        with live.app.app_context():
            redis().delete(redis_key(f"consent:{hash_secret(params['state'])}"))
        url = back
    response = live.http.get(url)
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert live.current(profile.id).id == before.id


def test_the_callback_is_bound_to_the_browser_that_started_it(live, session):
    """A stranger's request, or one to another network's callback, is refused
    and spends nothing: the state is checked before it is taken, and still
    serves the browser that started the consent."""
    import httpx2

    live.grant("x", "5001")
    _, _, profile = agency(session, "x", "5001")
    before = live.current(profile.id)
    live.login()
    back = live.consent(live.renew(profile.id).headers["location"])
    params = query_of(back)
    with httpx2.Client(base_url=live.base_url, follow_redirects=False, trust_env=False) as stranger:
        assert stranger.get(back).status_code == 400
    assert live.http.get(f"/renew/callback/tiktok?code={params['code']}&state={params['state']}").status_code == 400
    assert live.current(profile.id).id == before.id

    assert live.http.get(back).status_code == 303
    assert live.current(profile.id).id != before.id
    assert any("Renewed" in text for _, text in live.flashes())


def test_a_consent_completed_in_another_session_of_the_same_person_is_refused(live, session):
    """The same person signed in in a second browser: a consent started in the
    first and completed in the second is refused, and the second spends
    nothing (the state is bound to the session's nonce, not only to the person)."""
    live.grant("x", "5001")
    _, _, profile = agency(session, "x", "5001")
    before = live.current(profile.id)
    live.login()
    back = live.consent(live.renew(profile.id).headers["location"])
    elsewhere = Live(live.app, live.base_url, session)
    try:
        elsewhere.login()
        response = elsewhere.http.get(back)
        assert response.status_code == 400
        assert "could not be verified" in response.text
    finally:
        elsewhere.http.close()
    assert live.current(profile.id).id == before.id

    assert live.http.get(back).status_code == 303
    assert live.current(profile.id).id != before.id


def test_a_reused_code_is_refused(live, session):
    live.grant("x", "5001")
    _, _, profile = agency(session, "x", "5001")
    live.login()
    first = live.consent(live.renew(profile.id).headers["location"])
    live.http.get(first)
    renewed = live.current(profile.id)
    live.fault("x", "500", count=1)  # the silent attempt fails: a consent again
    second = query_of(live.renew(profile.id).headers["location"])
    used_code = query_of(first)["code"]
    live.http.get(f"/renew/callback/x?code={used_code}&state={second['state']}")
    assert live.current(profile.id).id == renewed.id
    assert any("refused" in text for _, text in live.flashes())


def test_next_pointing_off_site_is_ignored(live, session):
    live.grant("threads", "th-1")
    _, _, profile = agency(session, "threads", "th-1")
    live.login()
    response = live.renew_interactively(profile.id, next_url="https://evil.test/phish")
    assert response.headers["location"] == "/"


def test_only_those_who_may_renew_can_start(live, session):
    live.grant("x", "5001")
    org, _, profile = agency(session, "x", "5001")
    factories.member(session, org, role="member", email="viewer@demo.test")
    before = live.current(profile.id)
    live.login("viewer@demo.test")
    assert live.renew(profile.id).status_code == 403
    assert live.current(profile.id).id == before.id and live.calls("x") == []
