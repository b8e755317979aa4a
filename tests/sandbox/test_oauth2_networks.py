"""X, LinkedIn, Google, TikTok and Pinterest as the sandbox plays them: code
exchange, client authentication, redirect and PKCE binding, and each
network's refresh rule."""
import pytest

from tests.sandbox.conftest import CLIENT, REDIRECT, basic, lasting, pkce_pair, query_of

X_TOKEN = "/sandbox/api.x.com/2/oauth2/token"
LINKEDIN_TOKEN = "/sandbox/www.linkedin.com/oauth/v2/accessToken"
GOOGLE_TOKEN = "/sandbox/oauth2.googleapis.com/token"
TIKTOK_TOKEN = "/sandbox/open.tiktokapis.com/v2/oauth/token/"
PINTEREST_TOKEN = "/sandbox/api.pinterest.com/v5/oauth/token"


def params(network, scope, **extra):
    return {"client_id": CLIENT[0], "redirect_uri": REDIRECT.format(network), "state": "st",
            "scope": scope, "response_type": "code", **extra}


# ---------------------------------------------------------------- X


def x_consent(sandbox, verifier_challenge=None, scope="tweet.read users.read offline.access"):
    verifier, challenge = verifier_challenge or pkce_pair()
    query = sandbox.consent("/sandbox/x.com/i/oauth2/authorize", params(
        "x", scope, code_challenge=challenge, code_challenge_method="S256"))
    return query["code"], verifier


def x_exchange(client, code, verifier, headers=None, redirect_uri=REDIRECT.format("x")):
    return client.post(X_TOKEN, headers=headers or basic(), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier})


def test_x_requires_pkce_s256(client):
    response = client.get("/sandbox/x.com/i/oauth2/authorize", query_string=params("x", "tweet.read"))
    assert response.status_code == 400 and "PKCE" in response.get_data(as_text=True)


def test_x_code_exchange_checks_secret_redirect_and_verifier(sandbox, client):
    code, verifier = x_consent(sandbox)
    wrong_secret = x_exchange(client, code, verifier, headers=basic(secret="nope"))
    assert wrong_secret.status_code == 401 and wrong_secret.get_json()["error"] == "unauthorized_client"
    no_basic = client.post(X_TOKEN, data={"grant_type": "authorization_code", "code": code,
                                          "client_id": CLIENT[0], "code_verifier": verifier})
    assert no_basic.status_code == 401
    mismatch = x_exchange(client, code, "another-verifier-" + verifier)
    assert mismatch.status_code == 400
    assert mismatch.get_json() == {"error": "invalid_request",
                                   "error_description": "Value passed for the token was invalid."}

    code, verifier = x_consent(sandbox)
    assert x_exchange(client, code, verifier, redirect_uri="http://localhost/other").status_code == 400
    code, verifier = x_consent(sandbox)
    issued = x_exchange(client, code, verifier)
    assert issued.status_code == 200
    body = issued.get_json()
    assert body["token_type"] == "bearer" and body["expires_in"] in lasting(7200) and body["refresh_token"]
    assert x_exchange(client, code, verifier).status_code == 400  # a code works once
    me = client.get("/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 401  # ...and the replay revoked what it gave


def test_x_refresh_rotates_and_reuse_revokes_the_grant(sandbox, client):
    code, verifier = x_consent(sandbox)
    first = x_exchange(client, code, verifier).get_json()
    second = client.post(X_TOKEN, headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": CLIENT[0]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    me = client.get("/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 200 and me.get_json()["data"]["username"] == "owner"
    replay = client.post(X_TOKEN, headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_request"
    # The replay revoked the whole grant: the newest tokens die too.
    newest = client.post(X_TOKEN, headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert newest.status_code == 400
    me = client.get("/sandbox/api.x.com/2/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 401 and me.get_json()["title"] == "Unauthorized"
    assert len(sandbox.calls(network="x", grant_type="refresh_token")) == 3


def test_x_without_offline_access_gives_no_refresh_token(sandbox, client):
    code, verifier = x_consent(sandbox, scope="tweet.read users.read")
    assert "refresh_token" not in x_exchange(client, code, verifier).get_json()


# ---------------------------------------------------------------- LinkedIn


def linkedin_tokens(sandbox, client, scope="openid profile w_member_social", approved_partner=True):
    """A consent and its code exchange, for an app LinkedIn approved for refresh tokens (or not)."""
    sandbox.admin("clients/linkedin", approved_partner=approved_partner)
    query = sandbox.consent("/sandbox/www.linkedin.com/oauth/v2/authorization", params("linkedin_personal", scope))
    return client.post(LINKEDIN_TOKEN, data={
        "grant_type": "authorization_code", "code": query["code"], "client_id": CLIENT[0],
        "client_secret": CLIENT[1], "redirect_uri": REDIRECT.format("linkedin_personal")})


def test_linkedin_refresh_keeps_the_refresh_end_date(sandbox, client):
    first = linkedin_tokens(sandbox, client).get_json()
    assert first["expires_in"] in lasting(60 * 86400) and first["refresh_token_expires_in"] in lasting(365 * 86400)
    grant = client.get("/sandbox/admin/api/grants").get_json()["grants"][0]
    # Ten days later, a refresh: a new access token, the same refresh token, ten days fewer.
    from devkit.sandbox import store

    with client.application.app_context(), store.transaction() as c:
        c.execute(store.grants.update().where(store.grants.c.id == grant["id"]).values(
            refresh_expires_at=store.grants.c.refresh_expires_at - 10 * 86400))
    refreshed = client.post(LINKEDIN_TOKEN, data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": CLIENT[0],
        "client_secret": CLIENT[1]}).get_json()
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] == first["refresh_token"]
    assert abs(refreshed["refresh_token_expires_in"] - 355 * 86400) <= 2


def test_linkedin_gives_refresh_tokens_only_to_approved_partners(sandbox, client):
    tokens = linkedin_tokens(sandbox, client, approved_partner=False).get_json()
    assert tokens["expires_in"] in lasting(60 * 86400)
    assert "refresh_token" not in tokens and "refresh_token_expires_in" not in tokens
    assert linkedin_tokens(sandbox, client, approved_partner=True).get_json()["refresh_token"]


def test_linkedin_introspection_and_revoked_token_errors(sandbox, client):
    wrong = client.post(LINKEDIN_TOKEN, data={"grant_type": "authorization_code", "code": "x", "client_id": CLIENT[0],
                                              "client_secret": "nope", "redirect_uri": REDIRECT.format("linkedin")})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    tokens = linkedin_tokens(sandbox, client).get_json()
    introspect = {"client_id": CLIENT[0], "client_secret": CLIENT[1], "token": tokens["access_token"]}
    active = client.post("/sandbox/www.linkedin.com/oauth/v2/introspectToken", data=introspect).get_json()
    assert active["active"] is True and active["status"] == "active" and active["expires_at"] > 0
    sandbox.admin("tokens/revoke", token=tokens["access_token"])
    revoked = client.post("/sandbox/www.linkedin.com/oauth/v2/introspectToken", data=introspect).get_json()
    assert revoked["active"] is False and revoked["status"] == "revoked"
    api = client.get("/sandbox/api.linkedin.com/v2/userinfo",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert api.status_code == 401 and api.get_json()["serviceErrorCode"] == 65601
    refresh = client.post(LINKEDIN_TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                                "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"


def test_linkedin_company_lists_organizations_with_roles(sandbox, client):
    sandbox.provision("linkedin_company", "90001", roles=[
        {"email": "owner@demo.test", "role": "ADMINISTRATOR", "can_renew": True}])
    sandbox.provision("linkedin_company", "90002", roles=[
        {"email": "owner@demo.test", "role": "ANALYST", "can_renew": False}])
    tokens = linkedin_tokens(sandbox, client, scope="w_organization_social rw_organization_admin").get_json()
    acls = client.get("/sandbox/api.linkedin.com/v2/organizationAcls", query_string={"q": "roleAssignee"},
                      headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()["elements"]
    roles = {e["organization"]: e["role"] for e in acls}
    assert roles == {"urn:li:organization:90001": "ADMINISTRATOR", "urn:li:organization:90002": "ANALYST"}


# ---------------------------------------------------------------- Google


def google_code(sandbox, network="youtube", scope="https://www.googleapis.com/auth/youtube.readonly", **extra):
    return sandbox.consent("/sandbox/accounts.google.com/o/oauth2/v2/auth", params(network, scope, **extra))["code"]


def google_exchange(client, code, network="youtube", **extra):
    return client.post(GOOGLE_TOKEN, data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT[0],
                                           "client_secret": CLIENT[1], "redirect_uri": REDIRECT.format(network),
                                           **extra})


def test_google_refresh_token_needs_offline_and_consent_prompt(sandbox, client):
    first = google_exchange(client, google_code(sandbox, access_type="offline", prompt="consent")).get_json()
    assert first["refresh_token"] and first["token_type"] == "Bearer"
    again = google_exchange(client, google_code(sandbox, access_type="offline")).get_json()
    assert "refresh_token" not in again
    online = google_exchange(client, google_code(sandbox, prompt="consent")).get_json()
    assert "refresh_token" not in online
    refreshed = client.post(GOOGLE_TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                                "client_id": CLIENT[0], "client_secret": CLIENT[1]}).get_json()
    assert refreshed["access_token"] and "refresh_token" not in refreshed
    info = client.get("/sandbox/oauth2.googleapis.com/tokeninfo", query_string={
        "access_token": refreshed["access_token"]}).get_json()
    assert info["scope"] == "https://www.googleapis.com/auth/youtube.readonly" and int(info["expires_in"]) > 3000


def test_google_pkce_wrong_secret_and_dead_refresh_tokens(sandbox, client):
    verifier, challenge = pkce_pair()
    code = google_code(sandbox, access_type="offline", code_challenge=challenge, code_challenge_method="S256")
    wrong = google_exchange(client, code, client_secret="nope")
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    bad_verifier = google_exchange(client, code, code_verifier="x" * 43)
    assert bad_verifier.status_code == 400 and bad_verifier.get_json()["error"] == "invalid_grant"
    code = google_code(sandbox, access_type="offline", prompt="consent", code_challenge=challenge,
                       code_challenge_method="S256")
    tokens = google_exchange(client, code, code_verifier=verifier).get_json()
    sandbox.admin("tokens/revoke", token=tokens["refresh_token"])
    dead = client.post(GOOGLE_TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                           "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert dead.status_code == 400
    assert dead.get_json() == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


@pytest.mark.parametrize("scope, survives", [
    ("https://www.googleapis.com/auth/youtube.readonly", True),
    ("https://www.googleapis.com/auth/youtube.readonly https://mail.google.com/", False),
])
def test_a_new_google_password_ends_only_grants_with_gmail_scopes(sandbox, client, scope, survives):
    verifier, challenge = pkce_pair()
    code = google_code(sandbox, scope=scope, access_type="offline", prompt="consent", code_challenge=challenge,
                       code_challenge_method="S256")
    tokens = google_exchange(client, code, code_verifier=verifier).get_json()
    sandbox.admin("tokens/password_changed", token=tokens["refresh_token"])
    refreshed = client.post(GOOGLE_TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                                "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert (refreshed.status_code == 200) is survives, refreshed.get_json()


def test_google_business_accounts_carry_the_role(sandbox, client):
    sandbox.provision("google_business", "555", roles=[{"email": "owner@demo.test", "role": "MANAGER"}])
    scope = "https://www.googleapis.com/auth/business.manage"
    token = google_exchange(client, google_code(sandbox, "google_business", scope), "google_business").get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    accounts = client.get("/sandbox/mybusinessaccountmanagement.googleapis.com/v1/accounts", headers=headers)
    assert accounts.get_json()["accounts"][0]["role"] == "MANAGER"
    locations = client.get("/sandbox/mybusinessbusinessinformation.googleapis.com/v1/accounts/555/locations",
                           query_string={"readMask": "name,title"}, headers=headers).get_json()
    assert locations == {"locations": [{"name": "locations/555", "title": "Northwind Café"}]}


# ---------------------------------------------------------------- TikTok


def test_tiktok_uses_client_key_and_rotates_refresh_tokens(sandbox, client):
    query = sandbox.consent("/sandbox/www.tiktok.com/v2/auth/authorize/", {
        "client_key": CLIENT[0], "redirect_uri": REDIRECT.format("tiktok"), "state": "st",
        "scope": "user.info.basic,video.publish", "response_type": "code"})
    assert query["scopes"] == "user.info.basic,video.publish"
    exchange = {"client_key": CLIENT[0], "client_secret": CLIENT[1], "code": query["code"],
                "grant_type": "authorization_code", "redirect_uri": REDIRECT.format("tiktok")}
    wrong = client.post(TIKTOK_TOKEN, data=dict(exchange, client_secret="nope"))
    assert wrong.status_code == 401 and set(wrong.get_json()) == {"error", "error_description", "log_id"}
    first = client.post(TIKTOK_TOKEN, data=exchange).get_json()
    assert first["refresh_expires_in"] in lasting(365 * 86400) and first["open_id"]
    refresh = {"client_key": CLIENT[0], "client_secret": CLIENT[1], "grant_type": "refresh_token",
               "refresh_token": first["refresh_token"]}
    second = client.post(TIKTOK_TOKEN, data=refresh).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    old = client.post(TIKTOK_TOKEN, data=refresh)
    assert old.status_code == 400 and old.get_json()["error"] == "invalid_grant"
    info = client.get("/sandbox/open.tiktokapis.com/v2/user/info/", query_string={"fields": "open_id,display_name"},
                      headers={"Authorization": f"Bearer {second['access_token']}"}).get_json()
    assert info["data"]["user"]["open_id"] == first["open_id"] and info["error"]["code"] == "ok"
    sandbox.admin("tokens/revoke", token=second["access_token"])
    dead = client.get("/sandbox/open.tiktokapis.com/v2/user/info/",
                      headers={"Authorization": f"Bearer {second['access_token']}"})
    assert dead.status_code == 401 and dead.get_json()["error"]["code"] == "access_token_invalid"


# ---------------------------------------------------------------- Pinterest


def test_pinterest_continuous_refresh(sandbox, client):
    query = sandbox.consent("/sandbox/www.pinterest.com/oauth/", params("pinterest", "boards:read,user_accounts:read"))
    exchange = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT.format("pinterest")}
    wrong = client.post(PINTEREST_TOKEN, headers=basic(secret="nope"), data=exchange)
    assert wrong.status_code == 401 and wrong.get_json() == {"code": 2, "message": "Authentication failed."}
    first = client.post(PINTEREST_TOKEN, headers=basic(), data=exchange).get_json()
    assert first["refresh_token_expires_in"] in lasting(60 * 86400) and first["expires_in"] in lasting(30 * 86400)
    second = client.post(PINTEREST_TOKEN, headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["refresh_token_expires_in"] in lasting(60 * 86400) and second["response_type"] == "refresh_token"
    account = client.get("/sandbox/api.pinterest.com/v5/user_account",
                         headers={"Authorization": f"Bearer {second['access_token']}"}).get_json()
    assert account["username"] == "owner"
    sandbox.admin("tokens/expire", token=second["refresh_token"])
    expired = client.post(PINTEREST_TOKEN, headers=basic(), data={
        "grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert expired.status_code == 401 and expired.get_json()["code"] == 2


@pytest.mark.parametrize("path,network,query", [
    ("/sandbox/x.com/i/oauth2/authorize", "x", {"code_challenge": "abc", "code_challenge_method": "S256"}),
    ("/sandbox/www.linkedin.com/oauth/v2/authorization", "linkedin_personal", {}),
    ("/sandbox/accounts.google.com/o/oauth2/v2/auth", "youtube", {}),
    ("/sandbox/www.pinterest.com/oauth/", "pinterest", {}),
    ("/sandbox/threads.com/oauth/authorize", "threads", {}),
])
def test_deny_sends_the_network_error_back(sandbox, path, network, query):
    answer = sandbox.consent(path, {**params(network, "a b"), **query}, decision="deny")
    assert answer["error"] in ("access_denied", "user_cancelled_authorize") and answer["state"] == "st"
    assert "code" not in answer


@pytest.mark.parametrize("path,network", [
    ("/sandbox/x.com/i/oauth2/authorize", "x"),
    ("/sandbox/www.tiktok.com/v2/auth/authorize/", "tiktok"),
    ("/sandbox/accounts.google.com/o/oauth2/v2/auth", "youtube"),
])
def test_only_a_registered_redirect_uri_gets_a_code(sandbox, client, path, network):
    query = {**params(network, "a"), "code_challenge": "abc", "code_challenge_method": "S256", "client_key": CLIENT[0]}
    for elsewhere in ("http://localhost/renew/callback/other", "http://localhost/renew/callback/x/",
                      "https://attacker.example/renew/callback/x", "http://localhost/renew/callback/x?next=/"):
        refused = client.get(path, query_string={**query, "redirect_uri": elsewhere})
        assert refused.status_code == 400 and "not registered" in refused.get_data(as_text=True)
        assert "Location" not in refused.headers
    # the console registers another: only it is accepted
    sandbox.admin(f"clients/{'google' if network == 'youtube' else network}",
                  redirect_uris=["https://keepalive.example/renew/callback/" + network])
    assert client.get(path, query_string=query).status_code == 400
    moved = {**query, "redirect_uri": "https://keepalive.example/renew/callback/" + network}
    assert client.get(path, query_string=moved).status_code == 200


def test_tiktok_gives_each_field_only_with_its_scope(sandbox, client):
    basic = sandbox.provision("tiktok", "7001", scopes="user.info.basic video.publish")
    profile = sandbox.provision("tiktok", "7002", scopes="user.info.basic user.info.profile")
    info = "/sandbox/open.tiktokapis.com/v2/user/info/"

    def ask(grant, fields):
        return client.get(info, query_string={"fields": fields}, headers={"Authorization": f"Bearer {grant['access_token']}"})

    missed = ask(basic, "open_id,display_name,username")
    assert missed.status_code == 401 and missed.get_json()["error"]["code"] == "scope_permission_missed"
    assert ask(basic, "open_id,display_name").get_json()["error"]["code"] == "ok"
    assert ask(profile, "open_id,username").get_json()["data"]["user"]["username"] == "northwindcafe"


def test_x_users_me_needs_users_read_and_tweet_read(sandbox, client):
    me = "/sandbox/api.x.com/2/users/me"
    for scopes, status in (("users.read offline.access", 403), ("tweet.read offline.access", 403),
                           ("tweet.read users.read", 200)):
        grant = sandbox.provision("x", "5001", scopes=scopes)
        answer = client.get(me, headers={"Authorization": f"Bearer {grant['access_token']}"})
        assert answer.status_code == status, scopes
        if status == 403:
            assert answer.get_json() == {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}


def test_pinterest_refuses_the_client_credentials_grant_only_as_an_app_without_it(client):
    grant = {"grant_type": "client_credentials"}
    assert client.post(PINTEREST_TOKEN, headers=basic(secret="nope"), data=grant).get_json() == {
        "code": 2, "message": "Authentication failed."}
    right = client.post(PINTEREST_TOKEN, headers=basic(), data=grant)
    assert right.status_code == 403 and right.get_json()["code"] != 2


@pytest.mark.parametrize("network,path,client_param", [
    ("tiktok", "/sandbox/www.tiktok.com/v2/auth/authorize/", "client_key"),
    ("x", "/sandbox/x.com/i/oauth2/authorize", "client_id"),
    ("youtube", "/sandbox/accounts.google.com/o/oauth2/v2/auth", "client_id"),
])
def test_where_one_login_is_one_account_the_person_picks_it(sandbox, client, network, path, client_param):
    for external_id, name in (("first", "Northwind Café"), ("second", "Bluebell Books")):
        sandbox.provision(network, external_id, account={"external_id": external_id, "name": name})
    query = {**params(network, "tweet.read users.read https://www.googleapis.com/auth/youtube.readonly"),
             client_param: CLIENT[0], "code_challenge": "abc", "code_challenge_method": "S256"}
    page = client.get(path, query_string=query).get_data(as_text=True)
    assert 'value="owner@demo.test|first"' in page and 'value="owner@demo.test|second"' in page
    picked = client.post(path, query_string=query, data={"decision": "allow", "person": "owner@demo.test|second"})
    assert picked.status_code == 302
    from devkit.sandbox import store

    code = query_of(picked.headers["Location"])["code"]
    with client.application.app_context(), store.transaction() as c:
        row = store.one(c, store.codes.select().where(store.codes.c.code == code))
        assert store.account(c, row["account_id"])["external_id"] == "second"
    someone_elses = client.post(path, query_string=query, data={"decision": "allow",
                                                               "person": "owner@demo.test|not-theirs"})
    assert someone_elses.status_code == 400


def test_a_youtube_grant_lists_the_channel_chosen_at_consent(sandbox, client):
    for channel in ("UC1", "UC2"):
        sandbox.provision("youtube", channel, account={"external_id": channel, "name": channel})
    verifier, challenge = pkce_pair()
    query = sandbox.client.post("/sandbox/accounts.google.com/o/oauth2/v2/auth", query_string={
        **params("youtube", "https://www.googleapis.com/auth/youtube.readonly", access_type="offline",
                 prompt="consent"), "code_challenge": challenge, "code_challenge_method": "S256"},
        data={"decision": "allow", "person": "owner@demo.test|UC2"})
    code = query_of(query.headers["Location"])["code"]
    tokens = client.post(GOOGLE_TOKEN, data={
        "grant_type": "authorization_code", "code": code, "client_id": CLIENT[0], "client_secret": CLIENT[1],
        "redirect_uri": REDIRECT.format("youtube"), "code_verifier": verifier}).get_json()
    channels = client.get("/sandbox/www.googleapis.com/youtube/v3/channels", query_string={"part": "snippet",
                          "mine": "true"}, headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert [item["id"] for item in channels["items"]] == ["UC2"]
