"""The sandbox's control room: `/sandbox/admin` for people, and its JSON API
for the demo and the tests: provision grants, kill them the ways networks
do (expiry, revocation, password change, role change, app removal,
checkpoint), shorten lifetimes, arm faults, read the call log, reset; and
the registered apps, as a network's developer console shows them: their
redirect URIs, LinkedIn's approval for refresh tokens, and a secret to
rotate (the portal's then no longer works, as after a rotation for real).

Every action accepts JSON (and answers JSON) or a plain form from the admin
page (and answers 303 back to it)."""
import sqlalchemy as sa
from flask import redirect, render_template, request, url_for

from devkit.sandbox import samples, store
from devkit.sandbox.protocol import reply

DAY = 86400
PROVIDER_OF = store.PROVIDER_OF
# network key: (access lifetime, has a refresh token, refresh lifetime, token kind, prefixes)
DEFAULTS = {
    "facebook": (60 * DAY, False, None, "long", ("EAA", "")),
    "instagram_business": (60 * DAY, False, None, "long", ("EAA", "")),
    "instagram": (60 * DAY, False, None, "long", ("IGAA", "")),
    "threads": (60 * DAY, False, None, "long", ("THAA", "")),
    "x": (2 * 3600, True, None, "token", ("", "")),
    "linkedin_personal": (60 * DAY, True, 365 * DAY, "token", ("AQV", "AQX")),
    "linkedin_company": (60 * DAY, True, 365 * DAY, "token", ("AQV", "AQX")),
    "youtube": (3599, True, None, "token", ("ya29.", "1//")),
    "google_business": (3599, True, None, "token", ("ya29.", "1//")),
    "tiktok": (86400, True, 365 * DAY, "token", ("act.", "rft.")),
    "pinterest": (30 * DAY, True, 60 * DAY, "token", ("pina_", "pinr_")),
}
# Where Meta Business Manager's system users may be assigned.
BUSINESS_MANAGER_NETWORKS = ("facebook", "instagram_business")
DEFAULT_ROLES = {"facebook": "ADMIN", "instagram_business": "ADMIN", "linkedin_company": "ADMINISTRATOR",
                 "google_business": "OWNER"}
SCOPES = {
    "facebook": "pages_show_list pages_manage_posts pages_read_engagement business_management",
    "instagram_business": "pages_show_list pages_manage_posts pages_read_engagement business_management "
                          "instagram_basic instagram_content_publish instagram_manage_insights",
    "instagram": "instagram_business_basic instagram_business_content_publish",
    "threads": "threads_basic threads_content_publish",
    "x": "tweet.read tweet.write users.read offline.access",
    "linkedin_personal": "openid profile w_member_social",
    "linkedin_company": "w_organization_social r_organization_social rw_organization_admin",
    "youtube": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
    "google_business": "https://www.googleapis.com/auth/business.manage",
    "tiktok": "user.info.basic user.info.profile video.publish video.upload",
    "pinterest": "boards:read pins:read pins:write user_accounts:read",
}
# Single-account networks: the grant is bound to the account itself.
MULTI_ACCOUNT = {"facebook", "instagram_business", "linkedin_company", "google_business"}
SETTINGS = ("access_lifetime", "refresh_lifetime", "refresh_min_age", "short_lifetime", "code_lifetime",
            "data_access_lifetime")
GRANT_ACTIONS = ("expire", "expire_access", "revoke", "password_changed", "app_removed", "checkpoint", "backdate")
# 500, 429 and timeout: the network is down or busy; permission: the call needs a permission the
# grant lost; unexpected: an error no rule of Keepalive knows (each in the network's own words).
FAULT_MODES = ("500", "429", "timeout", "permission", "unexpected", "none")


class BadRequest(Exception):
    """Input the admin API cannot use; the message says why."""


def payload():
    return request.get_json(silent=True) if request.is_json else request.form.to_dict()


def done(body, status=200):
    """JSON for the API, back to the admin page for its forms."""
    if request.is_json or request.method == "GET":
        return reply(status, body)
    return redirect(url_for("sandbox.admin_page"), 303)


def failed(message):
    if request.is_json:
        return reply(400, {"error": message})
    return render_template("sandbox/admin.html", **dict(_page_context(), error=message)), 400


# ---------------------------------------------------------------- provisioning


def provision(c, body):
    network = body.get("network")
    if network not in PROVIDER_OF:
        raise BadRequest(f"unknown network {network!r}; one of {', '.join(PROVIDER_OF)}")
    account_in, person_in = body.get("account") or {}, body.get("person") or {}
    if not account_in.get("external_id") or not person_in.get("email"):
        raise BadRequest("account.external_id and person.email are required")
    state = body.get("state") or store.ACTIVE
    if state not in store.STATES:
        raise BadRequest(f"unknown state {state!r}; one of {', '.join(store.STATES)}")
    external_id = str(account_in["external_id"])
    person = store.upsert_person(c, person_in["email"], person_in.get("name"))
    page = None
    if network == "instagram_business":
        # An Instagram business account is reached through its Facebook Page.
        page = store.upsert_account(c, "facebook", str(account_in.get("page_id") or f"{external_id}0"),
                                    account_in.get("page_name") or account_in.get("name"))
    account = store.upsert_account(c, network, external_id, account_in.get("name"), account_in.get("handle"),
                                   page["id"] if page else None)
    default_role = DEFAULT_ROLES.get(network, "OWNER")
    roles = body.get("roles") or [{"email": person["email"], "role": default_role, "can_renew": True}]
    for entry in roles:
        holder = store.upsert_person(c, entry["email"], entry.get("name"))
        for target in filter(None, (account, page)):
            store.set_role(c, holder["id"], target["id"], entry.get("role") or default_role,
                           entry.get("can_renew", True))

    access_default, has_refresh, refresh_default, kind, (access_prefix, refresh_prefix) = DEFAULTS[network]
    provider = PROVIDER_OF[network]
    lifetime = body["expires_in"] if "expires_in" in body else access_default
    has_refresh = bool(body.get("refresh", has_refresh))  # a grant made when the app had refresh tokens, or not
    refresh_lifetime = body["refresh_expires_in"] if "refresh_expires_in" in body else refresh_default
    moment = store.now()
    meta = provider == "facebook"
    data_access_ends = moment + float(body.get("data_access_expires_in") or 90 * DAY)
    scopes = " ".join((body.get("scopes") or SCOPES[network]).replace(",", " ").split())
    if body.get("kind") == "system_user":
        # A Business Manager system user's token: `person` is the system user, assigned to the account; no
        # expiry unless `expires_in` says (Business Manager offers "never" or 60 days), nothing to refresh.
        if network not in BUSINESS_MANAGER_NETWORKS:
            raise BadRequest("system-user tokens are Meta Business Manager's: facebook or instagram_business")
        grant = store.issue(c, provider, network, store.CLIENT_ID, person["id"], kind="system", scopes=scopes,
                            access_lifetime=body.get("expires_in"), access_prefix="EAAS")
    else:
        grant = store.issue(
            c, provider, network, store.CLIENT_ID, person["id"], kind=kind,
            account_id=None if network in MULTI_ACCOUNT else account["id"], scopes=scopes,
            access_lifetime=access_default if meta and lifetime is None else lifetime,
            refresh=has_refresh, refresh_lifetime=refresh_lifetime,
            data_access_expires_at=data_access_ends if meta else None,
            access_prefix=access_prefix, refresh_prefix=refresh_prefix,
        )
    if meta and lifetime is None and grant["kind"] != "system":
        # No expiry asked: the Page token a long-lived user token gives.
        grant = store.issue(
            c, provider, network, store.CLIENT_ID, person["id"], kind="page", account_id=(page or account)["id"],
            scopes=grant["scopes"], data_access_expires_at=grant["data_access_expires_at"],
            lineage=grant["lineage"], rotated_from=grant["id"], access_prefix="EAAP",
        )
    if state == "expired":
        past = moment - 1
        c.execute(store.grants.update().where(store.grants.c.lineage == grant["lineage"]).values(
            access_expires_at=past, refresh_expires_at=sa.case(
                (store.grants.c.refresh_token.is_(None), None), else_=past)))
    elif state != store.ACTIVE:
        store.set_lineage_state(c, grant["lineage"], state)
    grant = store.one(c, sa.select(store.grants).where(store.grants.c.id == grant["id"]))
    return {
        "access_token": grant["access_token"],
        "refresh_token": grant["refresh_token"],
        "expires_at": store.iso(grant["access_expires_at"]),
        "refresh_expires_at": store.iso(grant["refresh_expires_at"]),
        "data_access_expires_at": store.iso(grant["data_access_expires_at"]),
        "scopes": grant["scopes"],
        "grant_id": grant["id"],
        "person_external_id": person["external_id"],
    }


def api_provision():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return reply(400, {"error": "send a JSON object"})
    try:
        with store.transaction() as c:
            return reply(201, provision(c, body))
    except BadRequest as error:
        return reply(400, {"error": str(error)})
    except (KeyError, TypeError, ValueError) as error:
        return reply(400, {"error": f"malformed request: {error}"})


# ---------------------------------------------------------------- actions


def _person_grants(c, grant, same_client=False):
    condition = sa.and_(store.grants.c.person_id == grant["person_id"], store.grants.c.provider == grant["provider"],
                        store.grants.c.state == store.ACTIVE)
    if same_client:
        condition = sa.and_(condition, store.grants.c.client_id == grant["client_id"])
    return condition


def _ended_by_a_password_change():
    """The grants a person's new password ends: every one of theirs, except
    at Google, which ends only those with Gmail scopes ("Using OAuth 2.0 to
    Access Google APIs", refresh token expiration): a YouTube or Business
    Profile grant lives on."""
    scopes = store.grants.c.scopes
    gmail = sa.or_(scopes.contains("https://mail.google.com/"), scopes.contains("/auth/gmail."))
    return sa.or_(store.grants.c.provider != "google", gmail)


def act_on_grant(c, grant, action, seconds=None):
    table = store.grants
    lineage = table.c.lineage == grant["lineage"]
    moment = store.now()
    if action == "expire":
        c.execute(table.update().where(lineage).values(
            access_expires_at=moment - 1,
            refresh_expires_at=sa.case((table.c.refresh_token.is_(None), None), else_=moment - 1)))
    elif action == "expire_access":
        c.execute(table.update().where(lineage).values(access_expires_at=moment - 1))
    elif action == "revoke":
        store.set_lineage_state(c, grant["lineage"], "revoked")
    elif action in ("password_changed", "checkpoint"):
        ended = _person_grants(c, grant)
        if action == "password_changed":
            ended = sa.and_(ended, _ended_by_a_password_change())
        c.execute(table.update().where(ended).values(state=action))
        if action == "password_changed":
            c.execute(store.persons.update().where(store.persons.c.id == grant["person_id"])
                      .values(password_changed_at=moment))
    elif action == "app_removed":
        c.execute(table.update().where(_person_grants(c, grant, same_client=True)).values(state=action))
    elif action == "backdate":
        shift = float(seconds or 0)
        c.execute(table.update().where(lineage).values(
            issued_at=table.c.issued_at - shift, consented_at=table.c.consented_at - shift))


def api_grant_action(grant_id, action):
    if action not in GRANT_ACTIONS:
        return failed(f"unknown action {action!r}; one of {', '.join(GRANT_ACTIONS)}")
    body = payload() or {}
    with store.transaction() as c:
        grant = store.one(c, sa.select(store.grants).where(store.grants.c.id == grant_id))
        if grant is None:
            return reply(404, {"error": "no such grant"})
        try:
            act_on_grant(c, grant, action, body.get("seconds"))
        except ValueError:
            return failed("seconds must be a number")
        rows = store.many(c, sa.select(store.grants).where(store.grants.c.lineage == grant["lineage"]))
    return done({"grant_id": grant_id, "action": action, "grants": [_grant_json(row) for row in rows]})


def api_token_action(action):
    """The same actions, naming the grant by one of its tokens."""
    body = payload() or {}
    with store.transaction() as c:
        value = body.get("token") or ""
        grant = store.one(c, sa.select(store.grants.c.id).where(sa.or_(
            store.grants.c.access_token == value, store.grants.c.refresh_token == value)))
    if grant is None:
        return reply(404, {"error": "no grant has that token"})
    return api_grant_action(grant["id"], action)


def api_roles():
    """Give, change or (role empty) take away a person's role on an account.
    A person who loses rights loses the tokens bound to that account (Page
    tokens, one-account grants): state role_changed."""
    body = payload() or {}
    network, external_id, email = body.get("network"), body.get("external_id"), body.get("email")
    if not (network and external_id and email):
        return failed("network, external_id and email are required")
    can_renew = body.get("can_renew", True)
    if isinstance(can_renew, str):
        can_renew = can_renew.lower() in ("1", "true", "yes", "on")
    role = body.get("role") or None
    with store.transaction() as c:
        account = store.one(c, sa.select(store.accounts).where(
            store.accounts.c.network == network, store.accounts.c.external_id == str(external_id)))
        if account is None:
            return reply(404, {"error": "no such account"})
        person = store.upsert_person(c, email)
        targets = [account["id"]] + ([account["linked_id"]] if account["linked_id"] else [])
        lost = False
        for target in targets:
            lost = store.set_role(c, person["id"], target, role, can_renew) or lost
        if lost:
            c.execute(store.grants.update().where(
                store.grants.c.person_id == person["id"], store.grants.c.account_id.in_(targets),
                store.grants.c.state == store.ACTIVE).values(state="role_changed"))
    return done({"network": network, "external_id": str(external_id), "email": person["email"], "role": role,
                 "can_renew": bool(can_renew), "lost_rights": lost})


def api_settings():
    body = payload() or {}
    network = body.get("network")
    if not network:
        return failed("network is required")
    changed = {}
    try:
        for name in SETTINGS:
            if name in body and (request.is_json or body[name] != ""):
                changed[name] = None if body[name] in (None, "") else float(body[name])
    except (TypeError, ValueError):
        return failed("lifetimes are numbers of seconds")
    with store.transaction() as c:
        for name, value in changed.items():
            store.change_setting(c, network, name, value)
    return done({"network": network, "settings": changed})


def api_faults():
    body = payload() or {}
    network, mode = body.get("network"), str(body.get("mode", ""))
    if not network or mode not in FAULT_MODES:
        return failed(f"network and mode (one of {', '.join(FAULT_MODES)}) are required")
    try:
        count = int(body.get("count", 1))
    except (TypeError, ValueError):
        return failed("count must be a whole number")
    with store.transaction() as c:
        store.set_fault(c, network, mode, count)
    return done({"network": network, "mode": mode, "count": count if mode != "none" else 0})


def api_client(provider):
    """Change the provider's registered app: `redirect_uris` (a list, or lines
    of text; empty: the app's own callbacks) and `approved_partner`."""
    if provider not in store.PROVIDERS:
        return reply(404, {"error": "no such provider"})
    body = payload() or {}
    with store.transaction() as c:
        if "redirect_uris" in body:
            uris = body["redirect_uris"]
            uris = uris.split() if isinstance(uris, str) else [str(uri) for uri in uris or []]
            store.register_redirect_uris(c, provider, uris)
        if "approved_partner" in body:
            approved = body["approved_partner"]
            if isinstance(approved, str):
                approved = approved.lower() in ("1", "true", "yes", "on")
            store.change_setting(c, provider, "approved_partner", 1 if approved else None)
        found = _client_json(c, provider)
    return done(found)


def api_client_secret(provider, action):
    """Rotate the provider's client secret (`rotate`, the new one shown once)
    or put back the one the portal knows (`restore`)."""
    if provider not in store.PROVIDERS or action not in ("rotate", "restore"):
        return reply(404, {"error": "no such provider or action"})
    with store.transaction() as c:
        secret = store.rotate_secret(c, provider, None if action == "rotate" else store.CLIENT_SECRET)
    if request.is_json:
        return reply(200, {"provider": provider, "client_secret": secret})
    context = _page_context()
    if action == "rotate":
        context.update(rotated_provider=provider, rotated_secret=secret)
    return render_template("sandbox/admin.html", **context)


def _client_json(c, provider):
    row = store.client(c, provider, store.CLIENT_ID)
    return {"provider": provider, "client_id": row["client_id"],
            "secret_rotated": row["client_secret"] != store.CLIENT_SECRET,
            "redirect_uris": store.registered_redirect_uris(c, provider, row["client_id"]),
            "approved_partner": store.approved_partner(c, provider)}


def api_reset():
    store.reset()
    return done({"reset": True})


def api_samples():
    """Add the sample people and accounts (`devkit.sandbox.samples`) that are missing."""
    with store.transaction() as c:
        added = samples.add_samples(c)
    return done({"roles_added": added})


def api_calls():
    table = store.calls
    statement = sa.select(table).order_by(table.c.id)
    network = request.args.get("network")
    if network:
        statement = statement.where(sa.or_(table.c.network == network, table.c.provider == network))
    for name in ("grant_type", "endpoint", "outcome"):
        if request.args.get(name):
            statement = statement.where(getattr(table.c, name) == request.args[name])
    with store.transaction() as c:
        rows = store.many(c, statement)
    for row in rows:
        row["at"] = store.iso(row["at"])
    return reply(200, {"count": len(rows), "calls": rows})


def _grant_json(row):
    return {
        "id": row["id"], "lineage": row["lineage"], "network": row["network"], "kind": row["kind"],
        "person_id": row["person_id"], "account_id": row["account_id"], "state": row["state"],
        "effective_state": store.effective_state(row), "scopes": row["scopes"],
        "expires_at": store.iso(row["access_expires_at"]), "refresh_expires_at": store.iso(row["refresh_expires_at"]),
        "refresh_spent": row["refresh_spent_at"] is not None, "rotated_from": row["rotated_from"],
        "issued_at": store.iso(row["issued_at"]),
    }


def api_grants():
    with store.transaction() as c:
        rows = store.many(c, sa.select(store.grants).order_by(store.grants.c.id))
    return reply(200, {"grants": [_grant_json(row) for row in rows]})


def api_accounts():
    with store.transaction() as c:
        rows = store.many(c, sa.select(
            store.accounts, store.persons.c.email, store.roles.c.role, store.roles.c.can_renew)
            .join(store.roles, store.roles.c.account_id == store.accounts.c.id, isouter=True)
            .join(store.persons, store.persons.c.id == store.roles.c.person_id, isouter=True)
            .order_by(store.accounts.c.network, store.accounts.c.id))
    return reply(200, {"accounts": rows})


# ---------------------------------------------------------------- Business Manager

SYSTEM_USER_EMAIL = "system-user@business.example"
SYSTEM_USER_LIFETIMES = {"never": None, "60_days": 60 * DAY}


def api_system_user_token(account_id):
    """Business Manager's "Generate new token": a system user, assigned to the
    account, gets a token of its own, shown once on the page."""
    lifetime = request.form.get("lifetime", "never")
    if lifetime not in SYSTEM_USER_LIFETIMES:
        return failed("lifetime is never or 60_days")
    with store.transaction() as c:
        account = store.one(c, sa.select(store.accounts).where(store.accounts.c.id == account_id))
        if account is None or account["network"] not in BUSINESS_MANAGER_NETWORKS:
            return failed("only a Facebook Page or an Instagram business account has system users")
        page = account["linked_id"] and store.one(c, sa.select(store.accounts).where(
            store.accounts.c.id == account["linked_id"]))
        issued = provision(c, {
            "network": account["network"], "kind": "system_user", "expires_in": SYSTEM_USER_LIFETIMES[lifetime],
            "account": {"external_id": account["external_id"], "name": account["name"], "handle": account["handle"],
                        **({"page_id": page["external_id"], "page_name": page["name"]} if page else {})},
            "person": {"email": SYSTEM_USER_EMAIL, "name": "System user"},
        })
    return render_template("sandbox/admin.html", **dict(_page_context(), system_user_token=issued["access_token"],
                                                          system_user_account=account))


# ---------------------------------------------------------------- the page


def _page_context():
    with store.transaction() as c:
        people = {p["id"]: p for p in store.many(c, sa.select(store.persons).order_by(store.persons.c.email))}
        accounts = {a["id"]: a for a in store.many(c, sa.select(store.accounts).order_by(
            store.accounts.c.network, store.accounts.c.name))}
        roles = store.many(c, sa.select(store.roles).order_by(store.roles.c.account_id, store.roles.c.id))
        grants = store.many(c, sa.select(store.grants).order_by(store.grants.c.id.desc()).limit(200))
        faults = store.many(c, sa.select(store.faults))
        settings = store.many(c, sa.select(store.settings))
        registered = [_client_json(c, provider) for provider in store.PROVIDERS]
    for grant in grants:
        grant["effective_state"] = store.effective_state(grant)
    return dict(people=people, accounts=accounts, roles=roles, grants=grants, faults=faults, settings=settings,
                registered=registered, rotated_provider=None, rotated_secret=None,
                networks=list(PROVIDER_OF), providers=sorted(set(PROVIDER_OF.values())), iso=store.iso,
                actions=GRANT_ACTIONS, modes=FAULT_MODES, setting_names=SETTINGS,
                business_manager_networks=BUSINESS_MANAGER_NETWORKS, error=None)


def admin_page():
    return render_template("sandbox/admin.html", **_page_context())


def register(bp):
    bp.add_url_rule("/admin", "admin_page", admin_page)
    bp.add_url_rule("/admin/api/grants", "api_provision", api_provision, methods=["POST"])
    bp.add_url_rule("/admin/api/grants", "api_grants", api_grants, methods=["GET"])
    bp.add_url_rule("/admin/api/grants/<int:grant_id>/<action>", "api_grant_action", api_grant_action,
                    methods=["POST"])
    bp.add_url_rule("/admin/api/tokens/<action>", "api_token_action", api_token_action, methods=["POST"])
    bp.add_url_rule("/admin/api/accounts", "api_accounts", api_accounts)
    bp.add_url_rule("/admin/api/roles", "api_roles", api_roles, methods=["POST"])
    bp.add_url_rule("/admin/api/settings", "api_settings", api_settings, methods=["POST"])
    bp.add_url_rule("/admin/api/faults", "api_faults", api_faults, methods=["POST"])
    bp.add_url_rule("/admin/api/reset", "api_reset", api_reset, methods=["POST"])
    bp.add_url_rule("/admin/api/samples", "api_samples", api_samples, methods=["POST"])
    bp.add_url_rule("/admin/api/clients/<provider>", "api_client", api_client, methods=["POST"])
    bp.add_url_rule("/admin/api/clients/<provider>/secret/<action>", "api_client_secret", api_client_secret,
                    methods=["POST"])
    bp.add_url_rule("/admin/business/<int:account_id>/system-user-token", "api_system_user_token",
                    api_system_user_token, methods=["POST"])
    bp.add_url_rule("/admin/api/calls", "api_calls", api_calls)

