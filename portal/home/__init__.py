"""The overview: how the organization's connections are doing."""
from collections import Counter

from flask import Blueprint, g
from flask_login import login_required

from portal.profiles import visible_profiles
from portal.status import Status
from portal.tenancy import organization_required
from portal.web import render

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
@organization_required
def index():
    rows = visible_profiles(g.membership, g.organization, g.brand)
    counts = Counter(row.status.status for row in rows)
    return render(
        "home/index.html",
        rows=rows,
        counts={status: counts.get(status, 0) for status in Status},
        Status=Status,
    )
