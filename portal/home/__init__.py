"""The overview: how the organization's connections are doing, in counts,
and the few profiles that need attention first."""
from flask import Blueprint, g
from flask_login import login_required

from portal.permissions import may_connect_profiles
from portal.profiles import AT_RISK, Scope, status_counts, visible_profiles
from portal.status import Status
from portal.tenancy import organization_required
from portal.web import conditional, render

bp = Blueprint("home", __name__)

MOST_URGENT = 10


@bp.route("/")
@login_required
@organization_required
@conditional
def index():
    brand_id = g.brand.id if g.brand else None
    counts = status_counts(g.membership, g.organization, Scope(brand_id=brand_id))
    rows = visible_profiles(g.membership, g.organization, scope=Scope(brand_id=brand_id, statuses=AT_RISK),
                            limit=MOST_URGENT)
    # Any profile at all the person may see, in whichever brand: else the way to connect the first.
    any_visible = bool(sum(counts.values())) or (
        brand_id is not None and bool(sum(status_counts(g.membership, g.organization, Scope()).values())))
    at_risk = sum(counts[s] for s in AT_RISK)
    return render("home/index.html", rows=rows, counts=counts, at_risk=at_risk, at_risk_in_brand=at_risk,
                  Status=Status, any_visible=any_visible, may_connect=bool(may_connect_profiles(g.membership)))
