"""Meta: its error rules (Facebook Login, Instagram Login, Threads; docs/networks.md), one row
per signature, Page roles, and the Graph adapter against Meta's documented answers."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.db import utcnow
from portal.models import CanRenew, Credential, InvalidReason
from portal.networks import TokenSet
from portal.networks.meta_graph import appsecret_proof
from portal.renewal.health import check_credential
from portal.renewal.silent import Result, renew_silently
from tests import factories as f
from portal.networks.meta_graph import classify_debug_token, classify_meta, page_role
from portal.networks.outcomes import Kind


def meta(code, subcode=None, message="", **extra):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


META = [
    # renew needed: code 190/102 with each subcode
    (400, meta(190, 458, "Error validating access token: The user has not authorized application 1."),
     Kind.RENEW, InvalidReason.APP_REMOVED),
    (400, meta(190, 459, "The user is enrolled in a blocking, logged-in checkpoint"), Kind.RENEW, InvalidReason.CHECKPOINT),
    (400, meta(190, 460, "The session has been invalidated because the user changed their password"),
     Kind.RENEW, InvalidReason.PASSWORD_CHANGED),
    (400, meta(190, 463, "Error validating access token: Session has expired on Monday"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(190, 464, "Sessions for the user are not allowed because the user is not a confirmed user."),
     Kind.RENEW, InvalidReason.CHECKPOINT),
    (400, meta(190, 467, "Error validating access token: The user has logged out."), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, 492, "Invalid session"), Kind.RENEW, InvalidReason.ROLE_CHANGED),
    (400, meta(102, 463, "Session has expired"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(102, None, "Session key invalid or no longer valid"), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, None, "Invalid OAuth access token - Cannot parse access token"), Kind.RENEW, InvalidReason.UNKNOWN),
    (400, meta(190, None, "Error validating access token: Session has expired on Sunday"), Kind.RENEW, InvalidReason.EXPIRED),
    (400, meta(190, None, "Error validating access token: The user has not authorized application 1."),
     Kind.RENEW, InvalidReason.APP_REMOVED),
    # transient: rate limits and temporary errors, whatever the HTTP status
    (500, meta(1, None, "An unknown error occurred"), Kind.TRANSIENT, None),
    (503, meta(2, None, "Service temporarily unavailable"), Kind.TRANSIENT, None),
    (403, meta(4, None, "Application request limit reached"), Kind.TRANSIENT, None),
    (403, meta(17, None, "User request limit reached"), Kind.TRANSIENT, None),
    (403, meta(32, None, "Page request limit reached"), Kind.TRANSIENT, None),
    (400, meta(613, None, "Calls to this api have exceeded the rate limit."), Kind.TRANSIENT, None),
    # business use case rate limits, 80000-80014, whatever the HTTP status
    (400, meta(80001, None, "(#80001) There have been too many calls to this Page account."), Kind.TRANSIENT, None),
    (400, meta(80004, None, "(#80004) There have been too many calls to this ad-account."), Kind.TRANSIENT, None),
    (400, meta(80014, None, "(#80014) There have been too many calls for the catalog batch."), Kind.TRANSIENT, None),
    (400, meta(9000, None, "Temporary", is_transient=True), Kind.TRANSIENT, None),
    (500, {"error": "boom"}, Kind.TRANSIENT, None),  # not Meta's shape: an outage all the same
    (502, None, Kind.TRANSIENT, None),
    (429, None, Kind.TRANSIENT, None),
    # permission missing: code 10 and 200-299
    (403, meta(10, None, "Application does not have permission for this action"), Kind.PERMISSION, None),
    (403, meta(200, None, "Requires pages_manage_posts permission"), Kind.PERMISSION, None),
    (403, meta(299, None, "Permissions error"), Kind.PERMISSION, None),
    # debug_token: HTTP 200 with is_valid false and the reason inside data
    (200, {"data": {"is_valid": False, "error": {"code": 190, "subcode": 460, "message": "password changed"}}},
     Kind.RENEW, InvalidReason.PASSWORD_CHANGED),
    (200, {"data": {"is_valid": False}}, Kind.RENEW, InvalidReason.UNKNOWN),
    (200, {"data": {"is_valid": True, "expires_at": 0}}, Kind.OK, None),
    (200, {"access_token": "EAAB", "token_type": "bearer", "expires_in": 5183944}, Kind.OK, None),
    (400, meta(100, None, "Invalid parameter"), Kind.ERROR, None),
    # the app's own settings, never a person's token
    (400, meta(1, None, "Error validating client secret."), Kind.APP_SETTINGS, None),
    (400, meta(101, None, "Error validating application. Invalid application ID."), Kind.APP_SETTINGS, None),
    (400, {"error": {"message": "Invalid appsecret_proof provided in the API argument", "type": "GraphMethodException",
                     "code": 100, "fbtrace_id": "A1"}}, Kind.APP_SETTINGS, None),
    (400, meta(100, None, "API calls from the server require an appsecret_proof argument"), Kind.APP_SETTINGS, None),
    (400, {"error_type": "OAuthException", "code": 400, "error_message": "Error validating client secret."},
     Kind.APP_SETTINGS, None),  # Instagram Login's flat shape
    (400, {"error_type": "OAuthException", "code": 400, "error_message": "Invalid platform app"},
     Kind.APP_SETTINGS, None),
]


@pytest.mark.parametrize("status,body,kind,reason", META)
def test_meta(status, body, kind, reason):
    outcome = classify_meta(status, body)
    assert (outcome.kind, outcome.reason) == (kind, reason)


@pytest.mark.parametrize("tasks,role,can_renew", [
    (["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"], "Admin", CanRenew.YES),
    (["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT"], "Editor", CanRenew.NO),
    (["ANALYZE"], "Analyst", CanRenew.NO),
    (None, "", CanRenew.UNKNOWN),
])
def test_page_roles(tasks, role, can_renew):
    assert page_role(tasks) == (role, can_renew)


def test_debug_token_refusing_its_app_token_is_the_apps_settings():
    signature = {"error": {"message": "Invalid OAuth access token signature.", "type": "OAuthException", "code": 190,
                           "fbtrace_id": "A1"}}
    assert classify_debug_token(400, signature).kind == Kind.APP_SETTINGS
    # the token it was asked about answers inside `data`: that one is the person's
    dead = {"data": {"is_valid": False, "error": {"code": 190, "subcode": 460, "message": "password changed"}}}
    assert classify_debug_token(200, dead).kind == Kind.RENEW
    assert classify_debug_token(403, meta(4, None, "Application request limit reached")).kind == Kind.TRANSIENT


# --- against Meta's documented answers -----------------------------------------

DATA_ACCESS_ENDS = datetime(2030, 3, 1, tzinfo=UTC)
CONSENT = ["facebook/code_exchange", "facebook/long_lived", "facebook/debug_token_user", "facebook/me",
           "facebook/me_accounts"]


def test_a_page_token_lasts_until_data_access_ends(replay):
    replay.serve(*CONSENT)
    grant = replay.adapter("facebook").exchange_code("code", None, "https://k.example/renew/callback/facebook")
    (page,) = grant.profiles
    assert (page.external_id, page.native_role, page.can_renew) == ("1016xxxxxxxxxxxx", "Admin", CanRenew.YES)
    tokens = page.tokens
    assert (tokens.access_token, tokens.token_type) == ("EAAPpagetoken1016", "page")
    # No end of its own, and no user token kept to "renew" it with: data access
    # ends, and only a new consent renews that.
    assert (tokens.expires_at, tokens.refresh_token, tokens.refresh_expires_at) == (None, None, None)
    assert tokens.data_access_expires_at == DATA_ACCESS_ENDS
    assert not replay.adapter("facebook").can_refresh(tokens)


def stored_page(session, **fields):
    profile = f.profile(session, f.organization(session), network="facebook")
    return profile, f.credential(session, profile, access_token="EAAPpagetoken1016", token_type="page",
                                   expires_in=None, data_access_expires_at=utcnow() + timedelta(days=5), **fields)


def fresh(session, credential):
    session.rollback()
    return session.get(Credential, credential.id)


def test_renewing_a_page_asks_for_a_consent_without_calling_meta(session, app_context, replay):
    profile, credential = stored_page(session)
    outcome = renew_silently(profile.id, replay.adapter("facebook"), force=True)
    assert outcome.result == Result.NEEDS_CONSENT
    assert replay.requests == []
    assert not fresh(session, credential).is_invalid


def test_a_working_page_token_is_never_dead_because_the_user_token_ended(session, app_context, replay):
    """A Page credential kept with the user token it came from (as Keepalive
    once stored them): that user token's end is no verdict on the Page token."""
    replay.serve("facebook/debug_token_page")
    profile, credential = stored_page(session, refresh_token="EAAlonglived",
                                      refresh_expires_at=utcnow() - timedelta(days=1))
    outcome = renew_silently(profile.id, replay.adapter("facebook"), force=True)
    assert outcome.result == Result.RENEWED
    credential = fresh(session, credential)
    assert not credential.is_invalid and credential.sealed_refresh_token is None
    assert credential.data_access_expires_at == DATA_ACCESS_ENDS
    assert replay.sent("GET", "https://graph.facebook.com/debug_token")[0].query["input_token"] == "EAAPpagetoken1016"


def test_a_health_check_reads_the_end_of_data_access(session, app_context, replay):
    replay.serve("facebook/debug_token_page")
    profile, credential = stored_page(session)
    assert check_credential(profile.id, replay.adapter("facebook")) == "ok"
    credential = fresh(session, credential)
    assert credential.data_access_expires_at == DATA_ACCESS_ENDS and credential.expires_at is None


def test_every_graph_call_carries_the_appsecret_proof_of_its_token(replay):
    replay.serve(*CONSENT, "facebook/debug_token_page")
    adapter = replay.adapter("facebook")
    tokens = adapter.exchange_code("code", None, "https://k.example/renew/callback/facebook").profiles[0].tokens
    adapter.validate(tokens)
    graph = [r for r in replay.requests if "/oauth/access_token" not in r.url]
    assert len(graph) == 4  # debug_token, me, me/accounts, then debug_token of the Page token
    for request in graph:
        token = request.query["access_token"]
        assert request.query["appsecret_proof"] == appsecret_proof("client-secret", token)
    # known values: HMAC-SHA256 keyed with the secret, hex
    assert appsecret_proof("secret", "token") == "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"


def test_every_page_of_me_accounts_is_read(replay):
    replay.serve("facebook/code_exchange", "facebook/long_lived", "facebook/debug_token_user", "facebook/me",
                 "facebook/me_accounts_page1", "facebook/me_accounts_page2")
    grant = replay.adapter("facebook").exchange_code("code", None, "https://k.example/renew/callback/facebook")
    assert [(p.external_id, p.can_renew) for p in grant.profiles] == [
        ("1016xxxxxxxxxxxx", CanRenew.YES), ("1017xxxxxxxxxxxx", CanRenew.NO)]
    first, second = replay.sent("GET", "https://graph.facebook.com/v25.0/me/accounts")
    assert first.query["limit"] == "100" and "after" not in first.query
    assert second.query["after"] == "NDMyNzQyODI3OTQw"  # the `next` URL, as Meta gave it...
    assert second.query["appsecret_proof"] == appsecret_proof("client-secret", "EAAlonglived")  # ...with the proof
