"""The baseline: the pages' data read and rendered the minimal way, one
SELECT and one small cached template each; the token API's answers the
minimal way, a key looked up by its hash, one SELECT, a decryption, JSON.
Mounted only by the benchmark's WSGI entry point (`bench/wsgi_bench.py`),
never by the product."""
import hashlib
import hmac
import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import text

from portal.accounts.views import DROPDOWN_ROWS
from portal.crypto import unseal
from portal.db import engine, utcnow

bp = Blueprint("bench_baseline", __name__, template_folder="templates")

# The current credentials of one organization with their effective expiry
# (the refresh token's end for silently renewable ones), most urgent first.
ROWS = """
SELECT p.id, p.name, p.network, c.status, c.invalid_reason,
       CASE WHEN c.sealed_refresh_token IS NULL THEN c.expires_at ELSE c.refresh_expires_at END AS effective_expiry
FROM social_profile p
LEFT JOIN credential c ON c.profile_id = p.id AND c.superseded_at IS NULL
WHERE p.organization_id = :organization {where}
ORDER BY c.status = 'active', effective_expiry IS NULL, effective_expiry, p.name
{limit}
"""
AT_RISK = "AND (c.id IS NULL OR c.status != 'active' OR effective_expiry < :horizon)"


def rows(where="", limit="", **params):
    with engine().connect() as connection:
        return connection.execute(text(ROWS.format(where=where, limit=limit)), {"organization": 1, **params}).all()


@bp.route("/bench/baseline/dropdown")
def dropdown():
    # The dropdown's rows: its most urgent.
    at_risk = rows(AT_RISK, limit=f"LIMIT {DROPDOWN_ROWS}",
                   horizon=(utcnow() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S"))
    return render_template("bench_baseline/dropdown.html", rows=at_risk)


@bp.route("/bench/baseline/accounts")
def accounts():
    return render_template("bench_baseline/accounts.html", rows=rows(limit="LIMIT 50"))


# --- the token API's baseline: key lookup by hash, one indexed SELECT, decrypt, JSON.

KEY = "SELECT id, organization_id FROM api_key WHERE secret_hash = :hash AND revoked_at IS NULL"
TOKEN = """
SELECT p.id, c.sealed_access_token, c.token_type, c.expires_at FROM social_profile p
JOIN credential c ON c.profile_id = p.id AND c.superseded_at IS NULL
WHERE p.id = :profile AND p.organization_id = :organization AND c.status = 'active'
"""
NETWORK_TOKEN = """
SELECT p.id, c.sealed_access_token, c.token_type, c.expires_at FROM social_profile p
JOIN credential c ON c.profile_id = p.id AND c.superseded_at IS NULL
WHERE p.organization_id = :organization AND p.network = :network AND c.status = 'active'
ORDER BY p.id LIMIT 1
"""


def api_answer(query, **params):
    secret = request.headers.get("Authorization", "").removeprefix("Bearer ")
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), secret.encode(), hashlib.sha256).hexdigest()
    with engine().connect() as connection:
        key = connection.execute(text(KEY), {"hash": digest}).first()
        if key is None:
            abort(401)
        row = connection.execute(text(query), {"organization": key.organization_id, **params}).first()
    if row is None:
        abort(404)
    body = {"access_token": unseal(row.sealed_access_token), "token_type": row.token_type,
            "expires_at": str(row.expires_at), "profile": {"id": row.id}}
    return current_app.response_class(json.dumps(body), mimetype="application/json",
                                      headers={"Cache-Control": "no-store"})


@bp.route("/bench/baseline/api/profiles/<int:profile_id>/token")
def api_token(profile_id):
    return api_answer(TOKEN, profile=profile_id)


@bp.route("/bench/baseline/api/networks/<network>/token")
def api_network_token(network):
    return api_answer(NETWORK_TOKEN, network=network)
