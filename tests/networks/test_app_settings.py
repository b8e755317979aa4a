"""A fault of the app is never a dead token: each network's documented answer
to a wrong or rotated client secret (or a plan, project or scope the app
lacks), replayed against the adapter, is the app's own settings refused; a
silent renewal or health check that meets it changes no credential, and the
Owners hear of it once."""
from datetime import date, timedelta

import pytest
from rq import Queue
from sqlmodel import select

from portal import app_settings
from portal.db import utcnow
from portal.models import Credential, InvalidReason, RenewalAttempt
from portal.networks import NETWORKS, TokenSet
from portal.networks.outcomes import AppSettingsRefused, RenewNeeded
from portal.renewal.health import check_credential
from portal.renewal.silent import Result, renew_silently
from tests import factories as f

NOW = utcnow()
USER_TOKEN = TokenSet("EAAuser", "EAAuser", refresh_expires_at=NOW + timedelta(days=40), token_type="user",
                      issued_at=NOW - timedelta(days=3))
PAGE_TOKEN = TokenSet("EAAPpage", data_access_expires_at=NOW + timedelta(days=80), token_type="page")
REFRESHABLE = TokenSet("access", "refresh", expires_at=NOW + timedelta(hours=1),
                       refresh_expires_at=NOW + timedelta(days=200), scopes="user.info.basic")

# (network, the documented answers, what the adapter does), one row per call that sends the client secret
REFUSALS = [
    ("facebook", ["facebook/debug_token_signature"], lambda a: a.validate(PAGE_TOKEN)),
    ("instagram_business", ["facebook/debug_token_signature"], lambda a: a.validate(PAGE_TOKEN)),
    ("facebook", ["facebook/exchange_client_secret"], lambda a: a.refresh(USER_TOKEN)),
    ("facebook", ["facebook/code_exchange", "facebook/long_lived", "facebook/debug_token_user", "facebook/me",
                  "facebook/invalid_appsecret_proof"],
     lambda a: a.exchange_code("code", None, "https://k.example/cb")),
    ("instagram", ["instagram/code_client_secret"], lambda a: a.exchange_code("code", None, "https://k.example/cb")),
    ("threads", ["threads/code_client_secret"], lambda a: a.exchange_code("code", None, "https://k.example/cb")),
    ("x", ["x/token_unauthorized_client"], lambda a: a.refresh(REFRESHABLE)),
    ("x", ["x/client_forbidden"], lambda a: a.validate(REFRESHABLE)),
    ("x", ["x/plan_453"], lambda a: a.validate(REFRESHABLE)),
    ("linkedin_personal", ["linkedin/introspect_invalid_client"], lambda a: a.validate(REFRESHABLE)),
    ("linkedin_company", ["linkedin/token_invalid_client"], lambda a: a.refresh(REFRESHABLE)),
    ("youtube", ["google/token_invalid_client"], lambda a: a.refresh(REFRESHABLE)),
    ("google_business", ["google/token_invalid_client"], lambda a: a.refresh(REFRESHABLE)),
    ("tiktok", ["tiktok/token_invalid_client"], lambda a: a.refresh(REFRESHABLE)),
    ("tiktok", ["tiktok/scope_permission_missed"], lambda a: a.validate(REFRESHABLE)),
    # Pinterest refuses a wrong secret as it refuses a dead refresh token: the
    # check of the app that follows tells them apart.
    ("pinterest", ["pinterest/token_authentication_failed", "pinterest/token_authentication_failed"],
     lambda a: a.refresh(REFRESHABLE)),
]


@pytest.mark.parametrize("network,answers,call", REFUSALS, ids=[f"{r[0]}-{r[1][0]}" for r in REFUSALS])
def test_each_network_refusing_the_apps_settings(replay, network, answers, call):
    replay.serve(*answers)
    with pytest.raises(AppSettingsRefused) as caught:
        call(replay.adapter(network, **{NETWORKS[network].client_secret_setting: "not-the-secret"}))
    for secret in ("not-the-secret", "EAAuser", "EAAPpage", "refresh"):
        assert secret not in str(caught.value)


def test_pinterest_checks_the_app_before_calling_a_refresh_token_dead(replay):
    replay.serve("pinterest/token_authentication_failed", "pinterest/client_credentials_refused")
    with pytest.raises(RenewNeeded) as caught:
        replay.adapter("pinterest").refresh(REFRESHABLE)
    assert caught.value.reason == InvalidReason.UNKNOWN
    refresh, check = replay.sent("POST", "https://api.pinterest.com/v5/oauth/token")
    assert refresh.form["grant_type"] == "refresh_token"
    assert check.form == {"grant_type": "client_credentials"}
    assert check.headers["authorization"] == refresh.headers["authorization"]  # the same client, HTTP Basic


# --- what a refusal changes: nothing, and the Owners hear of it once ----------------

# (network, answers to a health check, answers to a silent renewal)
SERVICES = [
    ("facebook", ["facebook/debug_token_signature"], ["facebook/exchange_client_secret"]),
    ("x", ["x/client_forbidden"], ["x/token_unauthorized_client"]),
    ("linkedin_personal", ["linkedin/introspect_invalid_client"], ["linkedin/token_invalid_client"]),
    ("youtube", None, ["google/token_invalid_client"]),
    ("tiktok", ["tiktok/scope_permission_missed"], ["tiktok/token_invalid_client"]),
    ("pinterest", None, ["pinterest/token_authentication_failed"]),
]


def mails(app):
    queue = Queue(app.config["QUEUE_NAME"], connection=app.extensions["keepalive.redis"])
    return [job for job in queue.jobs if job.func_name == "jobs.mail.send_message"]


def snapshot(session, credential_id):
    session.rollback()  # a fresh read: what the services committed
    row = session.get(Credential, credential_id)
    return (row.sealed_access_token, row.sealed_refresh_token, row.expires_at, row.refresh_expires_at,
            row.status, row.invalid_reason, row.version)


@pytest.mark.parametrize("network,checked,renewed", SERVICES, ids=[s[0] for s in SERVICES])
def test_a_refusal_changes_no_credential_and_is_told_once(app, session, app_context, replay, network, checked,
                                                          renewed):
    made = f.agency(session, people={"owner": "owner", "manager": "manager"}, profiles={"profile": {
        "network": network,
        "credential": {"refresh_token": "refresh-token", "token_type": "user", "scopes": "user.info.basic",
                       "refresh_expires_at": utcnow() + timedelta(days=40),
                       "last_refreshed_at": utcnow() - timedelta(days=2)},
    }})
    owner, profile, credential = made.owner, made.profiles["profile"], made.credentials["profile"]
    before = snapshot(session, credential.id)
    adapter = replay.adapter(network)
    if checked:
        replay.serve(*checked)
        assert check_credential(profile.id, adapter) == "app_settings"
        assert snapshot(session, credential.id) == before
    replay.reset()
    replay.serve(*renewed)
    outcome = renew_silently(profile.id, adapter, force=True)
    assert outcome.result == Result.APP_SETTINGS
    assert snapshot(session, credential.id) == before
    session.rollback()
    (attempt,) = session.exec(select(RenewalAttempt).where(RenewalAttempt.profile_id == profile.id)).all()
    assert (attempt.outcome, attempt.reason) == ("failed", "app_settings")
    assert network in app_settings.refused()
    sent = mails(app)
    assert [job.args[0]["recipients"] for job in sent] == [[owner.email]]  # the Owners only, once
    assert "app settings are wrong" in sent[0].args[0]["subject"]
    renew_silently(profile.id, adapter, force=True)
    assert len(mails(app)) == 1


def test_the_owners_are_told_again_only_after_a_day(app, session, app_context):
    f.agency(session, profiles={"x": {"network": "x"}})
    app_settings.report("x", "X: forbidden")
    app_settings.accepted("x")  # it worked again...
    app_settings.report("x", "X: forbidden")  # ...and failed again within the day
    assert len(mails(app)) == 1
    app.extensions["keepalive.redis"].delete(app_settings.key("told:X_CLIENT_ID"))
    app_settings.accepted("x")
    app_settings.report("x", "X: forbidden")
    assert len(mails(app)) == 2


def test_a_working_call_clears_the_refusal(session, app_context, replay):
    profile = f.agency(session, people={}, profiles={"youtube": {"network": "youtube", "credential": {
        "refresh_token": "refresh-token", "last_refreshed_at": utcnow() - timedelta(days=2)}}}).profiles["youtube"]
    app_settings.report("youtube", "Google: invalid_client")
    replay.serve("google/tokeninfo")
    assert check_credential(profile.id, replay.adapter("youtube")) == "ok"
    assert app_settings.refused() == {}


def test_the_owners_are_warned_once_30_days_before_the_graph_version_ends(app, session, app_context):
    app.config["GRAPH_API_VERSION"] = "v21.0"  # available until 2027-01-21
    owner = f.agency(session, people={"owner": "owner", "manager": "manager"},
                     profiles={"instagram": {"network": "instagram_business"}}).owner
    # No profile on Meta's Graph API: not concerned.
    f.agency(session, name="Elsewhere", people={"elsewhere": "owner"}, profiles={"x": {"network": "x"}})
    assert not app_settings.warn_before_graph_version_ends(today=date(2026, 12, 21))
    assert app_settings.warn_before_graph_version_ends(today=date(2026, 12, 22))
    assert not app_settings.warn_before_graph_version_ends(today=date(2026, 12, 23))
    app.config["GRAPH_API_VERSION"] = "v26.0"  # no end announced
    assert not app_settings.warn_before_graph_version_ends(today=date(2026, 12, 23))
    (sent,) = mails(app)
    message = sent.args[0]
    assert message["recipients"] == [owner.email]
    assert "Graph API version that ends on Jan 21, 2027" in message["subject"]
    assert "v21.0" in message["text"] and "GRAPH_API_VERSION" in message["text"]

