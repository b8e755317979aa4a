"""The sandbox's admin API and page, faults, the call log, its mounting,
and the sandbox served over real HTTP."""
import re
import threading
import time

import httpx
import pytest

from portal import create_app
from tests.sandbox.conftest import CLIENT, basic
from tests import serving

X_TOKEN = "/sandbox/api.x.com/2/oauth2/token"


def test_provisioning_is_idempotent_for_people_accounts_and_roles(sandbox, client):
    body = {"roles": [{"email": "owner@demo.test", "role": "ADMIN", "can_renew": True},
                      {"email": "member@demo.test", "role": "ANALYST", "can_renew": False}],
            "expires_in": 5184000}
    first = sandbox.provision("facebook", "1001", **body)
    second = sandbox.provision("facebook", "1001", **body)
    assert first["access_token"] != second["access_token"]  # each call issues a new grant
    assert first["expires_at"] and first["data_access_expires_at"] and first["refresh_token"] is None
    accounts = client.get("/sandbox/admin/api/accounts").get_json()["accounts"]
    assert sorted((a["external_id"], a["email"], a["role"]) for a in accounts) == [
        ("1001", "member@demo.test", "ANALYST"), ("1001", "owner@demo.test", "ADMIN")]


def test_provisioning_lifetimes_and_states(sandbox, client):
    x = sandbox.provision("x", "2244", refresh_expires_in=None)
    assert x["refresh_token"] and x["refresh_expires_at"] is None
    tiktok = sandbox.provision("tiktok", "t-1")
    assert tiktok["refresh_expires_at"] is not None
    page = sandbox.provision("facebook", "1001", expires_in=None)
    assert page["expires_at"] is None
    expired = sandbox.provision("pinterest", "p-1", state="expired")
    refresh = client.post("/sandbox/api.pinterest.com/v5/oauth/token", headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": expired["refresh_token"]})
    assert refresh.status_code == 401
    dead = sandbox.provision("facebook", "1001", state="password_changed", expires_in=None)
    me = client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": dead["access_token"]})
    assert me.get_json()["error"]["error_subcode"] == 460


@pytest.mark.parametrize("body", [
    {"network": "myspace", "account": {"external_id": "1"}, "person": {"email": "a@b.test"}},
    {"network": "x", "account": {}, "person": {"email": "a@b.test"}},
    {"network": "x", "account": {"external_id": "1"}, "person": {"email": "a@b.test"}, "state": "zombie"},
])
def test_bad_provisioning_is_a_400(client, body):
    response = client.post("/sandbox/admin/api/grants", json=body)
    assert response.status_code == 400 and response.get_json()["error"]


def test_faults_500_and_429_then_normal_service(sandbox, client):
    granted = sandbox.provision("x", "2244")
    sandbox.admin("faults", network="x", mode="500", count=1)
    failed = client.post(X_TOKEN, headers=basic(), data={"grant_type": "refresh_token",
                                                          "refresh_token": granted["refresh_token"]})
    assert failed.status_code == 500
    sandbox.admin("faults", network="x", mode="429", count=2)
    for _ in range(2):
        limited = client.get("/sandbox/api.x.com/2/users/me",
                             headers={"Authorization": f"Bearer {granted['access_token']}"})
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    ok = client.post(X_TOKEN, headers=basic(), data={"grant_type": "refresh_token",
                                                      "refresh_token": granted["refresh_token"]})
    assert ok.status_code == 200  # a failed call did not spend the refresh token
    calls = sandbox.calls(network="x", grant_type="refresh_token")
    assert [c["status"] for c in calls] == [500, 200]
    assert calls[1]["outcome"] == "ok" and calls[0]["endpoint"] == "oauth2/token"


def test_faults_of_a_missing_permission_and_of_an_unexpected_answer(sandbox, client):
    granted = sandbox.provision("linkedin_personal", "li-1")
    introspect = {"client_id": CLIENT[0], "client_secret": CLIENT[1], "token": granted["access_token"]}
    sandbox.admin("faults", network="linkedin_personal", mode="permission", count=1)
    refused = client.post("/sandbox/www.linkedin.com/oauth/v2/introspectToken", data=introspect)
    assert refused.status_code == 403 and refused.get_json()["code"] == "ACCESS_DENIED"
    sandbox.admin("faults", network="linkedin_personal", mode="unexpected", count=1)
    odd = client.post("/sandbox/www.linkedin.com/oauth/v2/introspectToken", data=introspect)
    assert odd.status_code == 400 and odd.get_json()["code"] == "ILLEGAL_ARGUMENT"
    answered = client.post("/sandbox/www.linkedin.com/oauth/v2/introspectToken", data=introspect)
    assert answered.status_code == 200 and answered.get_json()["active"] is True
    assert [(c["status"], c["outcome"]) for c in sandbox.calls(network="linkedin_personal")] == [
        (403, "100"), (400, "0"), (200, "ok")]
    html = client.get("/sandbox/admin").get_data(as_text=True)
    assert "<option>permission</option>" in html and "<option>unexpected</option>" in html


def test_faults_on_one_network_leave_the_others_alone(sandbox, client):
    sandbox.admin("faults", network="youtube", mode="500", count=5)
    youtube = sandbox.provision("youtube", "UC1")
    business = sandbox.provision("google_business", "555")
    refresh = {"grant_type": "refresh_token", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
    assert client.post("/sandbox/oauth2.googleapis.com/token",
                       data=dict(refresh, refresh_token=youtube["refresh_token"])).status_code == 500
    assert client.post("/sandbox/oauth2.googleapis.com/token",
                       data=dict(refresh, refresh_token=business["refresh_token"])).status_code == 200
    sandbox.admin("faults", network="youtube", mode="none")
    assert client.post("/sandbox/oauth2.googleapis.com/token",
                       data=dict(refresh, refresh_token=youtube["refresh_token"])).status_code == 200


def test_shortened_access_lifetime(sandbox, client):
    sandbox.admin("settings", network="x", access_lifetime=1)
    granted = sandbox.provision("x", "2244")
    fresh = client.post(X_TOKEN, headers=basic(), data={"grant_type": "refresh_token",
                                                         "refresh_token": granted["refresh_token"]}).get_json()
    assert fresh["expires_in"] <= 1
    time.sleep(1.1)
    me = client.get("/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert me.status_code == 401


def test_reset_wipes_the_world(sandbox, client):
    granted = sandbox.provision("x", "2244")
    sandbox.admin("reset")
    assert client.get("/sandbox/admin/api/grants").get_json()["grants"] == []
    me = client.get("/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {granted['access_token']}"})
    assert me.status_code == 401


def test_admin_page_lists_and_its_forms_act(sandbox, client):
    granted = sandbox.provision("linkedin_personal", "li-1")
    page = client.get("/sandbox/admin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "linkedin_personal" in html and "owner@demo.test" in html and "<label" in html
    action = client.post(f"/sandbox/admin/api/grants/{granted['grant_id']}/revoke")
    assert action.status_code == 303 and action.headers["Location"].endswith("/sandbox/admin")
    assert "revoked" in client.get("/sandbox/admin").get_data(as_text=True)
    fault = client.post("/sandbox/admin/api/faults", data={"network": "linkedin", "mode": "429", "count": "2"})
    assert fault.status_code == 303
    assert "linkedin: 429 × 2" in client.get("/sandbox/admin").get_data(as_text=True)
    bad = client.post("/sandbox/admin/api/faults", data={"network": "linkedin", "mode": "boom"})
    assert bad.status_code == 400


def test_business_manager_generates_a_system_user_token_shown_once(sandbox, client):
    sandbox.provision("instagram_business", "ig-1", account={"external_id": "ig-1", "name": "Harbor Fitness",
                                                            "handle": "@harborfit", "page_id": "page-7"})
    accounts = {a["external_id"]: a for a in client.get("/sandbox/admin/api/accounts").get_json()["accounts"]}
    html = client.get("/sandbox/admin").get_data(as_text=True)
    form = re.search(r'<code>ig-1</code></td>\s*<td>\s*<form class="inline" method="post" '
                     r'action="(/sandbox/admin/business/\d+/system-user-token)"', html)
    assert form, html
    page = client.post(form.group(1), data={"lifetime": "60_days"})
    assert page.status_code == 200
    token = re.search(r'<code id="system-user-token">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    debug = client.get("/sandbox/graph.facebook.com/debug_token", query_string={
        "input_token": token, "access_token": f"{CLIENT[0]}|{CLIENT[1]}"}).get_json()["data"]
    assert (debug["type"], debug["is_valid"]) == ("SYSTEM_USER", True) and debug["expires_at"] > 0
    node = client.get("/sandbox/graph.facebook.com/v25.0/ig-1", query_string={"access_token": token})
    assert node.status_code == 200, node.get_data(as_text=True)
    linked = {a["external_id"]: a for a in client.get("/sandbox/admin/api/accounts").get_json()["accounts"]}
    assert set(linked) == set(accounts)  # the account keeps its Page: nothing new was made up
    assert client.post(form.group(1), data={"lifetime": "forever"}).status_code == 400


def test_the_admin_page_rotates_an_apps_secret_and_restores_it(sandbox, client):
    granted = sandbox.provision("x", "2244")
    refresh = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    page = client.get("/sandbox/admin").get_data(as_text=True)
    rotate = re.search(r'action="(/sandbox/admin/api/clients/x/secret/rotate)"', page)
    assert rotate, "no rotate button for the X app"
    rotated = client.post(rotate.group(1))
    assert rotated.status_code == 200
    secret = re.search(r'<code id="rotated-secret">([^<]+)</code>', rotated.get_data(as_text=True)).group(1)
    assert secret != CLIENT[1]
    assert "rotated-secret" not in client.get("/sandbox/admin").get_data(as_text=True)  # shown once
    # The secret the portal holds no longer works; the new one does.
    refused = client.post(X_TOKEN, headers=basic(), data=refresh)
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized_client"
    assert client.post(X_TOKEN, headers=basic(secret=secret), data=refresh).status_code == 200
    restore = re.search(r'action="(/sandbox/admin/api/clients/x/secret/restore)"',
                        client.get("/sandbox/admin").get_data(as_text=True))
    client.post(restore.group(1))
    assert client.get("/sandbox/admin").get_data(as_text=True).count("secret/restore") == 0
    app = sandbox.admin("clients/x")
    assert app["secret_rotated"] is False and app["redirect_uris"] == ["http://localhost/renew/callback/x"]


def test_linkedin_approval_for_refresh_tokens_is_a_setting_of_its_app(sandbox, client):
    assert sandbox.admin("clients/linkedin")["approved_partner"] is False
    page = client.get("/sandbox/admin").get_data(as_text=True)
    assert "Approve for refresh tokens" in page
    client.post("/sandbox/admin/api/clients/linkedin", data={"approved_partner": "true"})
    assert sandbox.admin("clients/linkedin")["approved_partner"] is True
    assert "Withdraw the approval" in client.get("/sandbox/admin").get_data(as_text=True)


def test_not_mounted_when_the_sandbox_is_off(sandbox_config):
    app = create_app(dict(sandbox_config, SANDBOX=False))
    try:
        client = app.test_client()
        assert client.get("/sandbox/admin").status_code == 404
        assert client.post("/sandbox/admin/api/grants", json={}).status_code == 404
        assert "sandbox" not in app.blueprints
    finally:
        app.extensions["keepalive.engine"].dispose()


@pytest.fixture
def served(app):
    """The app on a real HTTP server on loopback."""
    with serving.served(app) as base_url, httpx.Client(base_url=base_url, trust_env=False) as http:
        yield http


def test_over_http_a_timeout_fault_and_a_full_flow(served, app):
    http = served
    granted = http.post("/sandbox/admin/api/grants", json={
        "network": "pinterest", "account": {"external_id": "p-1"}, "person": {"email": "owner@demo.test"}}).json()
    http.post("/sandbox/admin/api/faults", json={"network": "pinterest", "mode": "timeout", "count": 1})
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        http.get("/sandbox/api.pinterest.com/v5/user_account", timeout=0.2,
                 headers={"Authorization": f"Bearer {granted['access_token']}"})
    assert time.monotonic() - started < app.config["SANDBOX_TIMEOUT_SECONDS"]
    time.sleep(app.config["SANDBOX_TIMEOUT_SECONDS"] + 0.5)  # the stalled call ends, and is logged, first
    ok = http.get("/sandbox/api.pinterest.com/v5/user_account",
                  headers={"Authorization": f"Bearer {granted['access_token']}"})
    assert ok.status_code == 200 and ok.json()["id"] == "p-1"
    calls = http.get("/sandbox/admin/api/calls", params={"network": "pinterest"}).json()["calls"]
    assert [c["outcome"] for c in calls] == ["timeout", "ok"]


def test_over_http_concurrent_refreshes_of_one_x_token_kill_the_grant(served):
    """Two clients racing with one rotating refresh token: one wins, the
    replay revokes the grant, as X does."""
    http = served
    granted = http.post("/sandbox/admin/api/grants", json={
        "network": "x", "account": {"external_id": "2244"}, "person": {"email": "owner@demo.test"}}).json()
    results = []

    def refresh():
        response = http.post(X_TOKEN, auth=CLIENT, data={"grant_type": "refresh_token",
                                                         "refresh_token": granted["refresh_token"]})
        results.append(response.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400]
    grants = http.get("/sandbox/admin/api/grants").json()["grants"]
    assert {g["state"] for g in grants} == {"revoked"}
