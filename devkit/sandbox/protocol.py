"""What every network endpoint of the sandbox does around its own protocol:
reading parameters, client credentials and tokens the way networks accept
them, injected faults (500, 429, time-out, a missing permission, an
unexpected error) and the call log."""
import time
from dataclasses import dataclass, field
from functools import wraps
from typing import Callable

import sqlalchemy as sa
from flask import current_app, g, jsonify, request

from devkit.sandbox import store


@dataclass(frozen=True)
class Provider:
    """A network's sign-in site as the consent page needs it."""

    key: str  # client registry, faults and call log ("facebook", "google"...)
    title: str
    colour: str
    network_for: Callable[[list], str]  # scopes -> network key
    # Network keys whose consent grants every account the person has a role on;
    # on the others one login is one account, which the person picks.
    multi_account: frozenset = frozenset()
    client_param: str = "client_id"
    pkce: str = "none"  # none | optional | required
    deny: Callable[[dict], dict] = lambda request: {"error": "access_denied"}
    code_params: Callable[[dict, str], dict] = lambda request, code: {"code": code}
    default_role: str = "OWNER"
    code_prefix: str = ""
    extra: dict = field(default_factory=dict)


def param(name, default=None):
    """A parameter from the form body or the query string."""
    value = request.form.get(name)
    return request.args.get(name, default) if value is None else value


def bearer():
    """The access token of a call: `Authorization: Bearer` or `access_token`."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return param("access_token")


def basic_auth():
    """(client_id, client_secret) of HTTP Basic client authentication, or (None, None)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return None, None


def reply(status, body, headers=None):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def seen(network, grant_type=None):
    """Tell the call log which network key (and grant type) this call was about."""
    g.sandbox_network = network
    if grant_type:
        g.sandbox_grant_type = grant_type


def expires_in(epoch):
    return None if epoch is None else max(0, int(round(epoch - store.now())))


TOKEN_PARAMS = ("refresh_token", "fb_exchange_token", "input_token", "token", "access_token")


def _network_hint(c, provider):
    """The network key a call is about, from the token or code it carries."""
    candidates = [param(name) for name in TOKEN_PARAMS] + [bearer()]
    for value in filter(None, candidates):
        row = store.one(c, sa.select(store.grants.c.network).where(sa.or_(
            store.grants.c.access_token == value, store.grants.c.refresh_token == value)))
        if row:
            return row["network"]
    code = param("code")
    if code:
        row = store.one(c, sa.select(store.codes.c.network).where(store.codes.c.code == code))
        if row:
            return row["network"]
    return None


def _outcome(response):
    if response.status_code < 400:
        return "ok"
    body = response.get_json(silent=True) or {}
    error = body.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("code", "error_subcode") if error.get(k) is not None]
        return "/".join(parts) or "error"
    for key in ("serviceErrorCode", "code", "error_type"):
        if key in body:
            return str(body[key])
    return str(response.status_code)


def generic_fault(mode):
    if mode == "permission":
        return 403, {"error": "insufficient_scope", "error_description": "The access token lacks a required scope."}
    if mode == "unexpected":
        return 400, {"error": "unsupported_request", "error_description": "The request is not supported."}
    if mode == "429":
        return 429, {"error": "rate_limit_exceeded", "error_description": "Too many requests."}
    if mode == "timeout":
        return 504, {"error": "temporarily_unavailable", "error_description": "Gateway time-out."}
    return 500, {"error": "server_error", "error_description": "Internal server error."}


def endpoint(provider, name, fault_body=generic_fault):
    """Wrap a network endpoint: faults armed for its network first, then the
    view, then one line in the call log."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.sandbox_network = None
            g.sandbox_grant_type = None
            with store.transaction() as c:
                network = _network_hint(c, provider)
                mode = store.take_fault(c, [network, provider] if network else [provider])
            if mode:
                if mode == "timeout":
                    time.sleep(float(current_app.config.get("SANDBOX_TIMEOUT_SECONDS", 15)))
                status, body = fault_body(mode)
                headers = {"Retry-After": "30"} if mode == "429" else {}
                response = reply(status, body, headers)
                outcome = "timeout" if mode == "timeout" else _outcome(response)
            else:
                response = view(*args, **kwargs)
                outcome = _outcome(response)
            grant_type = g.sandbox_grant_type or param("grant_type")
            with store.transaction() as c:
                store.log_call(c, provider, g.sandbox_network or network or provider, name, grant_type,
                               response.status_code, outcome)
            return response

        return wrapped

    return decorate


def route(bp, rules, view, methods=("GET",), name=None):
    """Serve `view` at every rule of `rules` (the same call under several hosts or versions)."""
    for index, rule in enumerate(rules):
        endpoint_name = (name or view.__name__) + (f"_{index}" if index else "")
        bp.add_url_rule(rule, endpoint=endpoint_name, view_func=view, methods=list(methods))
