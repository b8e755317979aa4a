"""Meta's protocols as the sandbox plays them: Facebook Login for Pages,
Instagram Login, Threads."""
from tests.sandbox.conftest import CLIENT, REDIRECT, lasting

DIALOG = "/sandbox/www.facebook.com/v25.0/dialog/oauth"
TOKEN = "/sandbox/graph.facebook.com/v25.0/oauth/access_token"
APP_TOKEN = f"{CLIENT[0]}|{CLIENT[1]}"


def authorize_params(network="facebook", scope="pages_show_list,pages_manage_posts"):
    return {"client_id": CLIENT[0], "redirect_uri": REDIRECT.format(network), "state": "st-1",
            "scope": scope, "response_type": "code"}


def exchange(client, code, secret=CLIENT[1], redirect_uri=REDIRECT.format("facebook")):
    return client.get(TOKEN, query_string={"client_id": CLIENT[0], "client_secret": secret,
                                           "redirect_uri": redirect_uri, "code": code})


def long_lived(client, token):
    return client.get(TOKEN, query_string={"grant_type": "fb_exchange_token", "client_id": CLIENT[0],
                                           "client_secret": CLIENT[1], "fb_exchange_token": token})


def connect(sandbox, client):
    """Consent, code, short-lived then long-lived user token: the long-lived token."""
    sandbox.provision("facebook", "1001")
    query = sandbox.consent(DIALOG, authorize_params())
    short = exchange(client, query["code"]).get_json()["access_token"]
    return long_lived(client, short).get_json()


def test_consent_page_lists_persons_and_their_pages(sandbox, client):
    sandbox.provision("facebook", "1001")
    page = client.get(DIALOG, query_string=authorize_params()).get_data(as_text=True)
    assert "Facebook" in page and "owner@demo.test" in page and "Northwind Café" in page
    assert 'value="allow"' in page and 'value="deny"' in page and '<label class="field" for="consent-email">' in page


def test_code_exchange_gives_a_short_then_a_long_lived_token(sandbox, client):
    query = sandbox.consent(DIALOG, authorize_params())
    assert query["state"] == "st-1"
    short = exchange(client, query["code"])
    assert short.status_code == 200
    assert short.get_json()["token_type"] == "bearer" and short.get_json()["expires_in"] in lasting(3600)
    extended = long_lived(client, short.get_json()["access_token"])
    assert extended.status_code == 200 and extended.get_json()["expires_in"] in lasting(60 * 86400)


def test_wrong_secret_wrong_redirect_and_code_reuse(sandbox, client):
    query = sandbox.consent(DIALOG, authorize_params())
    wrong = exchange(client, query["code"], secret="nope")
    assert wrong.status_code == 400 and wrong.get_json()["error"]["message"] == "Error validating client secret."
    mismatch = exchange(client, query["code"], redirect_uri="http://localhost/elsewhere")
    assert mismatch.get_json()["error"]["error_subcode"] == 36008

    query = sandbox.consent(DIALOG, authorize_params())
    token = exchange(client, query["code"]).get_json()["access_token"]
    reused = exchange(client, query["code"])
    assert reused.status_code == 400
    assert reused.get_json()["error"]["code"] == 100 and reused.get_json()["error"]["error_subcode"] == 36009
    # Tokens issued from a replayed code are revoked.
    me = client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": token})
    assert me.status_code == 400 and me.get_json()["error"]["code"] == 190


def test_deny_redirects_with_facebook_error_parameters(sandbox):
    query = sandbox.consent(DIALOG, authorize_params(), decision="deny")
    assert query == {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                     "error_reason": "user_denied", "state": "st-1"}


def test_unknown_client_is_refused_on_the_sandbox_itself(client):
    params = dict(authorize_params(), client_id="someone-else")
    response = client.get(DIALOG, query_string=params)
    assert response.status_code == 400 and "unknown client" in response.get_data(as_text=True)


def test_me_accounts_gives_page_tokens_without_expiry_and_tasks(sandbox, client):
    sandbox.provision("instagram_business", "17841", roles=[
        {"email": "owner@demo.test", "role": "ADMIN", "can_renew": True}], account={
        "external_id": "17841", "name": "Northwind IG", "handle": "@northwind", "page_id": "2002"})
    user = connect(sandbox, client)
    pages = client.get("/sandbox/graph.facebook.com/v25.0/me/accounts",
                       query_string={"access_token": user["access_token"]}).get_json()["data"]
    by_id = {p["id"]: p for p in pages}
    assert set(by_id) == {"1001", "2002"}
    assert "MANAGE" in by_id["1001"]["tasks"]
    assert by_id["2002"]["instagram_business_account"]["id"] == "17841"
    debug = client.get("/sandbox/graph.facebook.com/debug_token", query_string={
        "input_token": by_id["1001"]["access_token"], "access_token": APP_TOKEN}).get_json()["data"]
    assert debug["is_valid"] is True and debug["expires_at"] == 0 and debug["type"] == "PAGE"
    assert debug["data_access_expires_at"] > 0 and "pages_show_list" in debug["scopes"]
    granular = {g["scope"]: sorted(g["target_ids"]) for g in debug["granular_scopes"]}
    assert granular["pages_show_list"] == ["1001", "2002"]
    node = client.get("/sandbox/graph.facebook.com/v25.0/2002", query_string={
        "fields": "instagram_business_account{id,username}", "access_token": user["access_token"]}).get_json()
    assert node == {"id": "2002", "instagram_business_account": {"id": "17841", "username": "northwind",
                                                                   "name": "Northwind IG"}}


def test_long_lived_exchange_fails_once_expired(sandbox, client):
    user = connect(sandbox, client)
    sandbox.admin("tokens/expire", token=user["access_token"])
    again = long_lived(client, user["access_token"])
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == 190 and again.get_json()["error"]["error_subcode"] == 463
    debug = client.get("/sandbox/graph.facebook.com/debug_token", query_string={
        "input_token": user["access_token"], "access_token": APP_TOKEN}).get_json()["data"]
    assert debug["is_valid"] is False and debug["error"]["subcode"] == 463


def test_admin_actions_give_meta_error_signatures(sandbox, client):
    for action, subcode in [("password_changed", 460), ("app_removed", 458), ("checkpoint", 459),
                            ("revoke", 467)]:
        sandbox.client.post("/sandbox/admin/api/reset")
        granted = sandbox.provision("facebook", "1001", expires_in=None)
        sandbox.admin(f"grants/{granted['grant_id']}/{action}")
        response = client.get("/sandbox/graph.facebook.com/v25.0/me",
                              query_string={"access_token": granted["access_token"]})
        error = response.get_json()["error"]
        assert response.status_code == 400, action
        assert (error["type"], error["code"], error["error_subcode"]) == ("OAuthException", 190, subcode), action
        assert error["fbtrace_id"]


def test_losing_the_page_role_kills_its_page_token(sandbox, client):
    granted = sandbox.provision("facebook", "1001", expires_in=None)
    result = sandbox.admin("roles", network="facebook", external_id="1001", email="owner@demo.test",
                           role="ANALYST", can_renew=False)
    assert result["lost_rights"] is True
    response = client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": granted["access_token"]})
    assert response.get_json()["error"]["error_subcode"] == 492


def test_instagram_login_refresh_needs_a_day_old_unexpired_token(sandbox, client):
    params = {"client_id": CLIENT[0], "redirect_uri": REDIRECT.format("instagram"), "state": "s",
              "scope": "instagram_business_basic,instagram_business_content_publish", "response_type": "code"}
    query = sandbox.consent("/sandbox/www.instagram.com/oauth/authorize", params)
    short = client.post("/sandbox/api.instagram.com/oauth/access_token", data={
        "client_id": CLIENT[0], "client_secret": CLIENT[1], "grant_type": "authorization_code",
        "redirect_uri": params["redirect_uri"], "code": query["code"]}).get_json()
    assert short["permissions"] == ["instagram_business_basic", "instagram_business_content_publish"]
    long = client.get("/sandbox/graph.instagram.com/access_token", query_string={
        "grant_type": "ig_exchange_token", "client_secret": CLIENT[1], "access_token": short["access_token"]})
    assert long.status_code == 200 and long.get_json()["expires_in"] in lasting(60 * 86400)
    token = long.get_json()["access_token"]
    refresh = {"grant_type": "ig_refresh_token", "access_token": token}
    too_young = client.get("/sandbox/graph.instagram.com/refresh_access_token", query_string=refresh)
    assert too_young.status_code == 400 and too_young.get_json()["error"]["code"] == 100
    client.post("/sandbox/admin/api/tokens/backdate", json={"token": token, "seconds": 86400})
    refreshed = client.get("/sandbox/graph.instagram.com/refresh_access_token", query_string=refresh)
    assert refreshed.status_code == 200 and refreshed.get_json()["access_token"] != token
    me = client.get("/sandbox/graph.instagram.com/me", query_string={
        "fields": "user_id,username", "access_token": refreshed.get_json()["access_token"]}).get_json()
    assert me["username"] == "owner"
    # Once expired, no refresh.
    client.post("/sandbox/admin/api/tokens/expire", json={"token": token})
    expired = client.get("/sandbox/graph.instagram.com/refresh_access_token", query_string=refresh)
    assert expired.get_json()["error"]["error_subcode"] == 463
    # A code works once; the second time, Instagram's own error shape.
    reused = client.post("/sandbox/api.instagram.com/oauth/access_token", data={
        "client_id": CLIENT[0], "client_secret": CLIENT[1], "grant_type": "authorization_code",
        "redirect_uri": params["redirect_uri"], "code": query["code"]})
    assert reused.status_code == 400
    assert reused.get_json() == {"error_type": "OAuthException", "code": 400,
                                 "error_message": "This authorization code has been used"}


def test_threads_exchange_and_refresh_with_a_shortened_minimum_age(sandbox, client):
    sandbox.admin("settings", network="threads", refresh_min_age=0)
    params = {"client_id": CLIENT[0], "redirect_uri": REDIRECT.format("threads"), "state": "s",
              "scope": "threads_basic,threads_content_publish", "response_type": "code"}
    query = sandbox.consent("/sandbox/threads.com/oauth/authorize", params)
    wrong = client.post("/sandbox/graph.threads.com/oauth/access_token", data={
        "client_id": CLIENT[0], "client_secret": "bad", "grant_type": "authorization_code",
        "redirect_uri": params["redirect_uri"], "code": query["code"]})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["type"] == "OAuthException"
    short = client.post("/sandbox/graph.threads.com/oauth/access_token", data={
        "client_id": CLIENT[0], "client_secret": CLIENT[1], "grant_type": "authorization_code",
        "redirect_uri": params["redirect_uri"], "code": query["code"]}).get_json()
    long = client.get("/sandbox/graph.threads.com/access_token", query_string={
        "grant_type": "th_exchange_token", "client_secret": CLIENT[1], "access_token": short["access_token"]})
    refreshed = client.get("/sandbox/graph.threads.com/refresh_access_token", query_string={
        "grant_type": "th_refresh_token", "access_token": long.get_json()["access_token"]})
    assert refreshed.status_code == 200 and refreshed.get_json()["expires_in"] in lasting(60 * 86400)
    me = client.get("/sandbox/graph.threads.com/v1.0/me", query_string={
        "access_token": refreshed.get_json()["access_token"]}).get_json()
    assert me["id"] == short["user_id"]


def test_a_graph_version_past_its_end_is_refused(sandbox, client):
    token = sandbox.provision("facebook", "1001")["access_token"]
    for version, status in (("v20.0", 400), ("v25.0", 200), ("v26.0", 200)):
        answer = client.get(f"/sandbox/graph.facebook.com/{version}/me", query_string={"access_token": token})
        assert answer.status_code == status, version
        if status == 400:
            assert answer.get_json()["error"]["code"] == 2635


def test_a_wrong_appsecret_proof_is_refused(sandbox, client):
    import hashlib
    import hmac

    token = sandbox.provision("facebook", "1001")["access_token"]

    def me(secret):
        proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        return client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": token,
                                                                               "appsecret_proof": proof})

    assert me(CLIENT[1]).status_code == 200
    refused = me("rotated-secret")
    assert refused.status_code == 400 and refused.get_json()["error"]["message"] == (
        "Invalid appsecret_proof provided in the API argument")


def test_deleting_a_persons_permissions_deauthorizes_the_app_and_refuses_what_meta_refuses(sandbox, client):
    import hashlib
    import hmac

    page = sandbox.provision("facebook", "1001", expires_in=None)  # a Page token
    user = sandbox.provision("facebook", "3003", email="other@demo.test", expires_in=3600)  # another's user token
    permissions = f"/sandbox/graph.facebook.com/v25.0/{page['person_external_id']}/permissions"

    def delete(path=permissions, token=APP_TOKEN, secret=CLIENT[1]):
        proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        answer = client.delete(path, query_string={"access_token": token, "appsecret_proof": proof})
        return answer.status_code, answer.get_json().get("error") or answer.get_json()

    def alive(token):
        return client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": token}).status_code

    status, refused = delete(token=f"{CLIENT[0]}|wrong-secret", secret="wrong-secret")
    assert (status, refused["code"], refused["message"]) == (400, 190, "Invalid OAuth access token signature.")
    status, refused = delete(secret="rotated-secret")
    assert status == 400 and refused["message"] == "Invalid appsecret_proof provided in the API argument"
    status, refused = delete(path="/sandbox/graph.facebook.com/v25.0/unknown-person/permissions")
    assert (status, refused["code"], refused["error_subcode"]) == (400, 100, 33)
    status, refused = delete(token=page["access_token"])  # a Page token cannot
    assert (status, refused["code"]) == (400, 100)
    status, refused = delete(token=user["access_token"])  # nor someone else's user token
    assert (status, refused["code"], refused["error_subcode"]) == (400, 100, 33)
    assert alive(page["access_token"]) == 200

    assert delete() == (200, {"success": True})
    dead = client.get("/sandbox/graph.facebook.com/v25.0/me", query_string={"access_token": page["access_token"]})
    assert (dead.get_json()["error"]["code"], dead.get_json()["error"]["error_subcode"]) == (190, 458)
    assert alive(user["access_token"]) == 200  # another person's authorization lives on
    assert delete(path="/sandbox/graph.facebook.com/v25.0/me/permissions", token=user["access_token"]) == (
        200, {"success": True})  # a person's own user token may
    assert alive(user["access_token"]) == 400
