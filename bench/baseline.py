"""The baseline: the pages' data read and rendered the minimal way, one
SELECT and one small cached template each. Mounted only by the benchmark's
WSGI entry point (`bench/wsgi_bench.py`), never by the product."""
from datetime import timedelta

from flask import Blueprint, render_template
from sqlalchemy import text

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
    at_risk = rows(AT_RISK, horizon=(utcnow() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S"))
    return render_template("bench_baseline/dropdown.html", rows=at_risk)


@bp.route("/bench/baseline/accounts")
def accounts():
    return render_template("bench_baseline/accounts.html", rows=rows(limit="LIMIT 50"))
