"""The consent page every network shows at its authorize URL: choose who
signs in (and, where one login is one account, which of their accounts),
read what the app asks, Allow or Deny; then back to the app's redirect URI
with a code, or with the network's own error parameters.

The choice is posted as `person`: an email, or `email|external_id` for one
of the person's accounts (or an `account` field with the external id)."""
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from devkit.sandbox import store

SCOPE_WORDS = {
    "pages_show_list": _l("See the list of Pages you manage"),
    "pages_manage_posts": _l("Create, edit and delete your Pages' posts"),
    "pages_read_engagement": _l("Read content posted on your Pages and its engagement"),
    "pages_manage_metadata": _l("Manage your Pages' settings and webhooks"),
    "business_management": _l("Manage your business assets"),
    "instagram_basic": _l("Read your Instagram profile and media"),
    "instagram_content_publish": _l("Publish content to your Instagram account"),
    "instagram_manage_insights": _l("Read insights of your Instagram account"),
    "instagram_business_basic": _l("Read your Instagram profile and media"),
    "instagram_business_content_publish": _l("Publish content to your Instagram account"),
    "threads_basic": _l("Read your Threads profile and posts"),
    "threads_content_publish": _l("Publish posts to your Threads profile"),
    "tweet.read": _l("Read posts you can see"),
    "tweet.write": _l("Post and repost for you"),
    "users.read": _l("Read your profile"),
    "offline.access": _l("Stay connected until you revoke access"),
    "openid": _l("Know who you are"),
    "profile": _l("Read your name and photo"),
    "email": _l("Read your email address"),
    "w_member_social": _l("Post on your behalf"),
    "w_organization_social": _l("Post on behalf of your organizations"),
    "r_organization_social": _l("Read your organizations' posts"),
    "rw_organization_admin": _l("Manage your organizations' pages"),
    "https://www.googleapis.com/auth/youtube.upload": _l("Upload videos to your YouTube channel"),
    "https://www.googleapis.com/auth/youtube.readonly": _l("View your YouTube account"),
    "https://www.googleapis.com/auth/business.manage": _l("Manage your Business Profile locations"),
    "user.info.basic": _l("Read your profile info (avatar, display name)"),
    "user.info.profile": _l("Read your profile details (username, bio, verified badge)"),
    "video.publish": _l("Post content to your TikTok account"),
    "video.upload": _l("Upload content as drafts to your TikTok account"),
    "boards:read": _l("See your boards"),
    "pins:read": _l("See your Pins"),
    "pins:write": _l("Create, update or delete your Pins"),
    "user_accounts:read": _l("See your user account and followers"),
}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def with_params(url, params):
    """`url` with `params` added to its query string (None values left out)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def read_request(provider):
    """The authorization request; the consent form posts back to the same
    URL, so its parameters are always in the query string."""
    values = request.args
    scope = values.get("scope", "")
    challenge = values.get("code_challenge") or None
    return {
        "client_id": values.get(provider.client_param, ""),
        "redirect_uri": values.get("redirect_uri", ""),
        "state": values.get("state"),
        "response_type": values.get("response_type", "code"),
        "scopes": [s for s in re.split(r"[\s,]+", scope) if s],
        "code_challenge": challenge,
        "code_challenge_method": (values.get("code_challenge_method") or ("plain" if challenge else None)),
        "access_type": values.get("access_type"),
        "prompt": values.get("prompt", ""),
        "login_hint": values.get("login_hint"),
    }


def request_problem(provider, req):
    """Why the sandbox refuses to show consent at all (no redirect: the
    redirect URI itself cannot be trusted), or None."""
    with store.transaction() as c:
        known = store.client_ok(c, provider.key, req["client_id"], check_secret=False)
    if not known:
        return _("This app is not registered with %(network)s (unknown client).", network=provider.title)
    if not re.match(r"^https?://[^\s]+$", req["redirect_uri"]):
        return _("The request has no valid redirect_uri.")
    with store.transaction() as c:
        registered = store.registered_redirect_uris(c, provider.key, req["client_id"])
    if req["redirect_uri"] not in registered:
        # Exactly one of those registered for the app, as every network requires.
        return _("This redirect_uri is not registered for this app: %(uri)s", uri=req["redirect_uri"])
    if req["response_type"] != "code":
        return _("Only response_type=code is supported.")
    method = req["code_challenge_method"]
    if provider.pkce == "required" and (not req["code_challenge"] or method != "S256"):
        return _("%(network)s requires PKCE with code_challenge_method=S256.", network=provider.title)
    if req["code_challenge"] and method not in ("S256", "plain"):
        return _("Unsupported code_challenge_method.")
    return None


def authorize_view(provider):
    """The view of `provider`'s authorize URL: GET shows consent, POST decides."""

    def view(**_path):
        req = read_request(provider)
        problem = request_problem(provider, req)
        if problem:
            return render_template("sandbox/error.html", provider=provider, message=problem), 400
        network = provider.network_for(req["scopes"])
        if request.method == "GET":
            return consent_page(provider, network, req)
        if request.form.get("decision") == "deny":
            return redirect(with_params(req["redirect_uri"], {**provider.deny(req), "state": req["state"]}), 302)
        chosen, _sep, picked = (request.form.get("person") or "").strip().partition("|")
        picked = (request.form.get("account") or picked).strip()
        name = None
        if chosen in ("", "new"):
            chosen = (request.form.get("email") or "").strip()
            name = (request.form.get("name") or "").strip() or None
        if not EMAIL.match(chosen):
            error = _("Choose an account, or type an email address to sign in as someone new.")
            return consent_page(provider, network, req, error=error, status=400)
        with store.transaction() as c:
            person = store.upsert_person(c, chosen, name)
            account = None
            if network not in provider.multi_account:
                account = signing_in(c, person, network, picked, provider.default_role)
            not_theirs = network not in provider.multi_account and account is None
            code = None if not_theirs else store.new_code(
                c, provider.key, network, req["client_id"], req["redirect_uri"], person["id"],
                " ".join(req["scopes"]), account_id=account["id"] if account else None,
                code_challenge=req["code_challenge"] if provider.pkce != "none" else None,
                challenge_method=req["code_challenge_method"] if provider.pkce != "none" else None,
                offline=req["access_type"] == "offline", prompt_consent="consent" in req["prompt"].split(),
                prefix=provider.code_prefix,
            )
        if not_theirs:
            error = _("%(email)s has no such account on %(network)s.", email=person["email"], network=provider.title)
            return consent_page(provider, network, req, error=error, status=400)
        return redirect(with_params(req["redirect_uri"], {**provider.code_params(req, code), "state": req["state"]}), 302)

    view.__name__ = f"{provider.key}_authorize"
    return view


def signing_in(c, person, network, external_id, default_role):
    """The account a person signs in as where one login is one account: the
    one picked among theirs, else their first (made on first sign-in)."""
    if not external_id:
        return store.own_account(c, person, network, default_role)
    return next((a for a in store.accounts_of(c, person["id"], network) if a["external_id"] == external_id), None)


def consent_page(provider, network, req, error=None, status=200):
    with store.transaction() as c:
        people = store.many(c, sa.select(store.persons).order_by(store.persons.c.name, store.persons.c.id))
        for person in people:
            person["accounts"] = store.accounts_of(c, person["id"], network)
    scopes = [(scope, SCOPE_WORDS.get(scope, scope)) for scope in req["scopes"]]
    hint = (request.form.get("person") or req["login_hint"] or "").lower()
    body = render_template(
        "sandbox/consent.html", provider=provider, network=network, req=req, people=people, scopes=scopes,
        multi_account=network in provider.multi_account, error=error, chosen=hint,
        typed_email=request.form.get("email", ""), typed_name=request.form.get("name", ""),
    )
    return body, status
