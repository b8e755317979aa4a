"""Each adapter against the sandbox over real HTTP: the consent, the code
exchange with the profiles and roles it grants, silent renewal by each
network's rule, validation, and the networks' error answers."""
from datetime import timedelta

import pytest

from portal.models import CanRenew, InvalidReason
from portal.networks import (
    NETWORKS,
    AccessTokenRejected,
    AppSettingsRefused,
    NetworkError,
    NotASystemUserToken,
    NotYetRefreshable,
    PermissionMissing,
    RenewNeeded,
    TokenSet,
    Transient,
    UnexpectedResponse,
)
from portal.networks.base import moment, utcnow

pytestmark = pytest.mark.slow

OWNER = "owner@demo.test"


def connect(world, network, email=OWNER):
    """Consent as `email` and exchange the code: the Grant."""
    params, verifier = world.consent(network, email)
    assert params["state"] == f"state-{network}"
    assert "code" in params, params
    return world.adapter(network).exchange_code(params["code"], verifier, world.redirect_uri(network))


def provisioned(issued, token_type="user"):
    """The TokenSet of a grant made through the admin API."""
    return TokenSet(
        access_token=issued["access_token"],
        refresh_token=issued.get("refresh_token"),
        expires_at=moment(issued.get("expires_at")),
        refresh_expires_at=moment(issued.get("refresh_expires_at")),
        data_access_expires_at=moment(issued.get("data_access_expires_at")),
        scopes=issued.get("scopes") or "",
        token_type=token_type,
        issued_at=utcnow() - timedelta(days=2),
    )


def assert_no_token_in(error, *tokens):
    for token in tokens:
        if token:
            assert token not in str(error)
            assert token not in repr(error.args)


# --- every network: consent, exchange, profiles --------------------------

SINGLE_ACCOUNT = ["instagram", "threads", "x", "linkedin_personal", "tiktok", "pinterest"]


@pytest.mark.parametrize("network", SINGLE_ACCOUNT)
def test_consent_gives_the_persons_own_account(world, network):
    world.grant(network, "5001", name="Northwind Café", handle="@northwind",
                roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    grant = connect(world, network)
    assert len(grant.profiles) == 1
    profile = grant.profiles[0]
    assert profile.network == network
    assert profile.external_id == "5001"
    assert profile.can_renew == CanRenew.YES
    assert profile.tokens.access_token
    assert profile.tokens.issued_at is not None


def test_facebook_consent_lists_every_page_with_its_role(world):
    world.grant("facebook", "1001", name="Northwind Café", roles=[
        {"email": OWNER, "role": "ADMIN", "can_renew": True},
    ])
    world.grant("facebook", "1002", name="Northwind Bakery", roles=[
        {"email": OWNER, "role": "ANALYST", "can_renew": False},
    ])
    grant = connect(world, "facebook")
    pages = {p.external_id: p for p in grant.profiles}
    assert set(pages) == {"1001", "1002"}
    assert pages["1001"].can_renew == CanRenew.YES and pages["1001"].native_role == "Admin"
    assert pages["1002"].can_renew == CanRenew.NO
    tokens = pages["1001"].tokens
    assert tokens.token_type == "page"
    assert tokens.expires_at is None  # Page tokens from a long-lived user token do not expire
    assert tokens.refresh_token is None  # what ends is data access: a consent renews it
    assert tokens.data_access_expires_at > utcnow() + timedelta(days=80)
    assert grant.person_name


def test_a_page_token_keeps_working_after_its_user_token_ended(world):
    world.grant("facebook", "1001", roles=[{"email": OWNER, "role": "ADMIN", "can_renew": True}])
    tokens = connect(world, "facebook").profiles[0].tokens
    adapter = world.adapter("facebook")
    assert not adapter.can_refresh(tokens)
    # As Keepalive once stored them: with the user token it came from, since ended.
    kept = adapter.refresh(TokenSet(**{**tokens.__dict__, "refresh_token": "EAA-ended-user-token",
                                       "refresh_expires_at": utcnow() - timedelta(days=1)}))
    assert (kept.access_token, kept.refresh_token) == (tokens.access_token, None)
    validation = adapter.validate(kept)
    assert validation.ok and validation.expires_at is None


@pytest.mark.parametrize("state,reason", [
    ("expired", InvalidReason.EXPIRED),
    ("password_changed", InvalidReason.PASSWORD_CHANGED),
    ("app_removed", InvalidReason.APP_REMOVED),
    ("checkpoint", InvalidReason.CHECKPOINT),
    ("role_changed", InvalidReason.ROLE_CHANGED),
])
def test_facebook_dead_tokens_need_renewal(world, state, reason):
    issued = world.grant("facebook", "1001", state=state)
    with pytest.raises(RenewNeeded) as caught:
        world.adapter("facebook").validate(provisioned(issued))
    assert caught.value.reason == reason
    assert_no_token_in(caught.value, issued["access_token"])


def test_instagram_business_comes_through_the_page(world):
    world.grant("facebook", "1001", name="Northwind Café", roles=[{"email": OWNER, "role": "ADMIN", "can_renew": True}])
    world.grant("instagram_business", "17841", name="Northwind IG", handle="@northwind.ig",
                account={"page_id": "1001", "page_name": "Northwind Café"},
                roles=[{"email": OWNER, "role": "ADMIN", "can_renew": True}])
    grant = connect(world, "instagram_business")
    assert [(p.network, p.external_id, p.handle) for p in grant.profiles] == [
        ("instagram_business", "17841", "@northwind.ig")]
    assert grant.profiles[0].can_renew == CanRenew.YES


@pytest.mark.parametrize("network", ["instagram", "threads"])
def test_instagram_and_threads_extend_their_token(world, network):
    world.grant(network, "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    adapter = world.adapter(network)
    tokens = connect(world, network).profiles[0].tokens
    assert tokens.expires_at > utcnow() + timedelta(days=59)
    with pytest.raises(NotYetRefreshable):
        adapter.refresh(tokens)  # minutes old: nothing is sent
    issued = world.grant(network, "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    world.backdate(issued["grant_id"], 2 * 86400)
    old = provisioned(issued)
    renewed = adapter.refresh(old)
    assert renewed.access_token != old.access_token
    assert renewed.expires_at > utcnow() + timedelta(days=59)
    assert adapter.validate(renewed).ok


@pytest.mark.parametrize("network,state,reason", [
    ("instagram", "expired", InvalidReason.EXPIRED),
    ("threads", "password_changed", InvalidReason.PASSWORD_CHANGED),
    ("instagram", "app_removed", InvalidReason.APP_REMOVED),
])
def test_instagram_and_threads_dead_tokens(world, network, state, reason):
    issued = world.grant(network, "5001", state=state)
    with pytest.raises(RenewNeeded) as caught:
        world.adapter(network).validate(provisioned(issued))
    assert caught.value.reason == reason


# --- rotation: X, TikTok, Pinterest ---------------------------------------

@pytest.mark.parametrize("network", ["x", "tiktok", "pinterest"])
def test_rotating_refresh_tokens(world, network):
    world.grant(network, "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    adapter = world.adapter(network)
    tokens = connect(world, network).profiles[0].tokens
    assert tokens.refresh_token
    renewed = adapter.refresh(tokens)
    assert renewed.refresh_token and renewed.refresh_token != tokens.refresh_token
    assert renewed.access_token != tokens.access_token
    assert adapter.validate(renewed).ok
    again = adapter.refresh(renewed)  # the new refresh token works in turn
    assert again.refresh_token not in (renewed.refresh_token, tokens.refresh_token)


def test_x_replayed_refresh_token_needs_renewal(world):
    world.grant("x", "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    adapter = world.adapter("x")
    tokens = connect(world, "x").profiles[0].tokens
    adapter.refresh(tokens)
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(tokens)
    assert caught.value.reason == InvalidReason.UNKNOWN  # "Value passed for the token was invalid."
    assert_no_token_in(caught.value, tokens.refresh_token, tokens.access_token)


# (reason after the refresh, reason of the refresh): TikTok's refresh answer
# ("Refresh token is invalid or expired.") reads as expired; the others name no cause.
@pytest.mark.parametrize("network,reasons", [
    ("x", (InvalidReason.UNKNOWN, InvalidReason.UNKNOWN)),
    ("tiktok", (InvalidReason.UNKNOWN, InvalidReason.EXPIRED)),
    ("pinterest", (InvalidReason.UNKNOWN, InvalidReason.UNKNOWN)),
])
def test_refused_access_token_asks_for_a_refresh_first(world, network, reasons):
    issued = world.grant(network, "5001", state="revoked")
    adapter = world.adapter(network)
    with pytest.raises(AccessTokenRejected):
        adapter.validate(provisioned(issued))
    with pytest.raises(RenewNeeded) as after_refresh:
        adapter.validate(provisioned(issued), after_refresh=True)
    with pytest.raises(RenewNeeded) as refreshed:
        adapter.refresh(provisioned(issued))
    assert (after_refresh.value.reason, refreshed.value.reason) == reasons


# --- LinkedIn -------------------------------------------------------------

def test_linkedin_company_pages_with_roles(world):
    world.grant("linkedin_company", "70001", name="Northwind Ltd", handle="northwind",
                roles=[{"email": OWNER, "role": "ADMINISTRATOR", "can_renew": True}])
    world.grant("linkedin_company", "70002", name="Northwind Labs", handle="northwind-labs",
                roles=[{"email": OWNER, "role": "DIRECT_SPONSORED_CONTENT_POSTER", "can_renew": False}])
    grant = connect(world, "linkedin_company")
    pages = {p.external_id: p for p in grant.profiles}
    assert set(pages) == {"70001", "70002"}
    assert pages["70001"].can_renew == CanRenew.YES and pages["70001"].native_role == "ADMINISTRATOR"
    assert pages["70002"].can_renew == CanRenew.NO
    assert pages["70001"].name == "Northwind Ltd"


def test_linkedin_refresh_keeps_the_refresh_end(world):
    world.admin("clients/linkedin", {"approved_partner": True})  # approved for programmatic refresh tokens
    world.grant("linkedin_personal", "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    adapter = world.adapter("linkedin_personal")
    tokens = connect(world, "linkedin_personal").profiles[0].tokens
    assert tokens.refresh_token and tokens.refresh_expires_at
    renewed = adapter.refresh(tokens)
    assert renewed.access_token != tokens.access_token
    assert abs(renewed.refresh_expires_at - tokens.refresh_expires_at) < timedelta(seconds=5)
    validation = adapter.validate(renewed)
    assert validation.ok and validation.expires_at > utcnow() + timedelta(days=59)


def test_most_linkedin_apps_get_no_refresh_token(world):
    world.grant("linkedin_personal", "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    tokens = connect(world, "linkedin_personal").profiles[0].tokens
    assert tokens.refresh_token is None and tokens.expires_at > utcnow() + timedelta(days=59)
    assert not world.adapter("linkedin_personal").can_refresh(tokens)  # a consent every 60 days


def test_linkedin_revoked_token_asks_for_a_recheck(world):
    issued = world.grant("linkedin_personal", "5001", state="revoked")
    with pytest.raises(RenewNeeded) as caught:
        world.adapter("linkedin_personal").validate(provisioned(issued))
    assert caught.value.reason == InvalidReason.PERMISSION_REVOKED
    assert caught.value.recheck is True  # 65601: look again before flagging


def test_linkedin_expired_refresh_token(world):
    issued = world.grant("linkedin_personal", "5001", state="expired")
    with pytest.raises(RenewNeeded) as caught:
        world.adapter("linkedin_personal").refresh(provisioned(issued))
    assert caught.value.reason == InvalidReason.EXPIRED


# --- Google ---------------------------------------------------------------

def test_youtube_channels_and_a_refresh_that_keeps_the_refresh_token(world):
    world.grant("youtube", "UC123", name="Northwind TV", handle="@northwindtv",
                roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    adapter = world.adapter("youtube")
    grant = connect(world, "youtube")
    assert [(p.external_id, p.name) for p in grant.profiles] == [("UC123", "Northwind TV")]
    tokens = grant.profiles[0].tokens
    assert tokens.refresh_token
    renewed = adapter.refresh(tokens)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token == tokens.refresh_token
    validation = adapter.validate(renewed)
    assert validation.ok and validation.expires_at > utcnow()


def test_google_business_locations(world):
    world.grant("google_business", "9001", name="Northwind Café, Main Street",
                roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    grant = connect(world, "google_business")
    assert [p.external_id for p in grant.profiles] == ["9001"]
    assert grant.profiles[0].can_renew == CanRenew.YES


@pytest.mark.parametrize("network", ["youtube", "google_business"])
def test_google_revoked_grant(world, network):
    issued = world.grant(network, "9001", state="revoked")
    adapter = world.adapter(network)
    with pytest.raises(RenewNeeded) as caught:
        adapter.refresh(provisioned(issued))
    assert caught.value.reason == InvalidReason.EXPIRED  # "Token has been expired or revoked." tells no more
    assert_no_token_in(caught.value, issued["refresh_token"], issued["access_token"])
    with pytest.raises(AccessTokenRejected):
        adapter.validate(provisioned(issued))


# --- outages never kill a token -------------------------------------------

FAULT_NETWORK = {
    "facebook": "facebook", "instagram_business": "facebook", "instagram": "instagram", "threads": "threads",
    "x": "x", "linkedin_personal": "linkedin", "linkedin_company": "linkedin", "youtube": "google",
    "google_business": "google", "tiktok": "tiktok", "pinterest": "pinterest",
}


def read_as(mode, network):
    """What the adapters make of each sandbox fault: outages and rate limits
    are transient; a call that needs a permission the grant lost is a missing
    permission, except on X, whose 403s are its answers about the app (its
    access, project or plan), never a person's token; an error no rule knows
    is unexpected, never a dead token."""
    if mode in ("500", "429"):
        return Transient
    if mode == "permission":
        return AppSettingsRefused if network == "x" else PermissionMissing
    return UnexpectedResponse


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("mode", ["500", "429", "permission", "unexpected"])
def test_each_fault_is_read_for_what_it_is_and_the_token_lives(world, network, mode):
    issued = world.grant(network, "5001")
    world.fault(network, mode)
    adapter = world.adapter(network)
    with pytest.raises(NetworkError) as caught:
        adapter.validate(provisioned(issued))
    assert type(caught.value) is read_as(mode, network)
    if mode == "429":
        assert caught.value.retry_after == 30
    assert_no_token_in(caught.value, issued["access_token"], issued.get("refresh_token"))
    assert adapter.validate(provisioned(issued)).ok  # the fault is spent; the token lives


@pytest.mark.parametrize("network", ["x", "facebook", "tiktok"])
def test_time_outs_are_transient(world, network):
    issued = world.grant(network, "5001")
    world.fault(network, "timeout")
    adapter = world.adapter(network, NETWORK_TIMEOUT=0.5)
    with pytest.raises(Transient) as caught:
        adapter.refresh(provisioned(issued))
    assert "in time" in str(caught.value)
    assert_no_token_in(caught.value, issued["access_token"], issued.get("refresh_token"))


def test_a_denied_consent_comes_back_without_a_code(world):
    world.grant("x", "5001", roles=[{"email": OWNER, "role": "OWNER", "can_renew": True}])
    params, _ = world.consent("x", OWNER, decision="deny")
    assert params["error"] == "access_denied" and "code" not in params


def test_no_token_reaches_a_log_line(world, caplog):
    issued = world.grant("instagram", "5001")
    world.backdate(issued["grant_id"], 2 * 86400)
    adapter = world.adapter("instagram")
    with caplog.at_level("DEBUG"):
        renewed = adapter.refresh(provisioned(issued))
        adapter.validate(renewed)
    # The sandbox answers on the portal's server, as in development: its access log is the portal's too.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    access_log = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "refresh_access_token" in logged  # the calls were logged...
    assert "access_token=[redacted]" in access_log  # ...the requests' lines too...
    assert issued["access_token"] not in logged  # ...without their tokens
    assert renewed.access_token not in logged


def test_tiktok_missing_scope_is_a_missing_permission(world):
    issued = world.grant("tiktok", "5001", scopes="video.publish,video.upload")
    with pytest.raises(PermissionMissing):
        world.adapter("tiktok").validate(provisioned(issued))


@pytest.mark.parametrize("network,secret_setting", [
    ("facebook", "FACEBOOK_CLIENT_SECRET"), ("x", "X_CLIENT_SECRET"), ("youtube", "GOOGLE_CLIENT_SECRET"),
    ("linkedin_personal", "LINKEDIN_CLIENT_SECRET"), ("tiktok", "TIKTOK_CLIENT_SECRET"),
    ("pinterest", "PINTEREST_CLIENT_SECRET"),
])
def test_a_wrong_client_secret_is_not_a_dead_token(world, network, secret_setting):
    issued = world.grant(network, "5001")
    adapter = world.adapter(network, **{secret_setting: "not-the-secret"})
    with pytest.raises(AppSettingsRefused) as caught:
        adapter.refresh(provisioned(issued))
    assert_no_token_in(caught.value, issued["access_token"], issued.get("refresh_token"), "not-the-secret")


# --- Business Manager system-user tokens ------------------------------------

SYSTEM_USER = "system-user@business.test"


def system_user_token(world, network, external_id, **extra):
    """A token Business Manager generates for a system user assigned to the account."""
    return world.grant(network, external_id, email=SYSTEM_USER, kind="system_user", **extra)["access_token"]


@pytest.mark.parametrize("network", ["facebook", "instagram_business"])
def test_a_system_user_token_is_adopted_as_it_is(world, network):
    token = system_user_token(world, network, "5001")
    adapter = world.adapter(network)
    tokens = adapter.adopt_system_user_token(token, "5001")
    assert (tokens.access_token, tokens.token_type, tokens.expires_at, tokens.refresh_token) == (
        token, "system_user", None, None)
    assert not adapter.can_refresh(tokens)  # a new one comes from Business Manager, not from a refresh
    assert adapter.validate(tokens).ok


def test_a_sixty_day_system_user_token_keeps_its_end(world):
    token = system_user_token(world, "facebook", "5001", expires_in=60 * 86400)
    tokens = world.adapter("facebook").adopt_system_user_token(token, "5001")
    assert abs(tokens.expires_at - (utcnow() + timedelta(days=60))) < timedelta(minutes=1)


def test_a_page_token_is_not_a_system_user_token(world):
    issued = world.grant("facebook", "5001")
    with pytest.raises(NotASystemUserToken):
        world.adapter("facebook").adopt_system_user_token(issued["access_token"], "5001")


def test_a_system_user_token_of_another_app_is_refused(world, monkeypatch):
    # The sandbox knows one app: what debug_token says of another app's token is given here.
    adapter = world.adapter("facebook")
    monkeypatch.setattr(adapter, "debug_token", lambda token: {"type": "SYSTEM_USER", "app_id": "4242", "is_valid": True})
    with pytest.raises(NotASystemUserToken, match="another app"):
        adapter.adopt_system_user_token("EAAS-of-another-app", "5001")


def test_a_system_user_without_the_account_is_refused(world):
    token = system_user_token(world, "facebook", "5001")
    world.grant("facebook", "5002")  # a Page the system user is not assigned to
    with pytest.raises(NetworkError) as caught:
        world.adapter("facebook").adopt_system_user_token(token, "5002")
    assert not isinstance(caught.value, (NotASystemUserToken, Transient))
    assert_no_token_in(caught.value, token)


def test_an_unknown_system_user_token_needs_a_new_one(world):
    with pytest.raises(RenewNeeded) as caught:
        world.adapter("facebook").adopt_system_user_token("EAASnot-a-token", "5001")
    assert caught.value.reason == InvalidReason.UNKNOWN
