from flask import abort, g, request, session, url_for
from flask_login import login_required

from portal.settings import bp
from portal.tenancy import managers_only, organization_required
from portal.web import redirect_after_post, render, safe_next


@bp.route("/switch", methods=["POST"])
@login_required
def switch():
    """Choose the organization and brand to work in (the header switcher)."""
    organization_id = request.form.get("organization_id", type=int)
    memberships = {organization.id for _, organization in g.memberships}
    if organization_id not in memberships:
        abort(404)
    if organization_id != session.get("organization_id"):
        session["organization_id"] = organization_id
        session.pop("brand_id", None)
    else:
        session["brand_id"] = request.form.get("brand_id", type=int)
    return redirect_after_post(safe_next(request.form.get("next"), url_for("home.index")))


@bp.route("/members")
@login_required
@managers_only
def members():
    return render("settings/members.html")


@bp.route("/personal")
@login_required
@organization_required
def personal():
    return render("settings/personal.html")
