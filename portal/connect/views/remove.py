"""Remove a profile: the ⋯ menu's dialog (a page of its own without
JavaScript) saying what stops and that its tokens are deleted, and its
Remove button."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from portal.connect import removal
from portal.connect.views import bp
from portal.db import get_session
from portal.models import ProfileAccess, SocialProfile
from portal.networks import NotConfigured, adapter_for, network
from portal.permissions import may_remove_profile, may_see_profile
from portal.tenancy import organization_required
from portal.web import owned_or_404, redirect_after_post, render, safe_next

REVOCATION_WORDS = {
    removal.Revocation.REVOKED: _l("Its access was also revoked on %(network)s."),
    removal.Revocation.SHARED: _l("Its access stays on %(network)s: other profiles of the agency use the same "
                                  "sign-in."),
    removal.Revocation.FAILED: _l("%(network)s did not take its access back; remove Keepalive's app there if you "
                                  "want to."),
}


def removable_or_404(profile_id):
    """The profile, if the signed-in person may remove it (404 outside the organization, 403 without the right)."""
    profile = owned_or_404(SocialProfile, profile_id)
    level = get_session().exec(select(ProfileAccess.level).where(
        ProfileAccess.user_id == current_user.id, ProfileAccess.profile_id == profile.id)).first()
    if not may_see_profile(g.membership, level):
        abort(404)
    if not may_remove_profile(g.membership, level):
        abort(403, description=_("Removing a profile takes what connecting one does: \"Manage social profiles\", "
                                 "and for a Member, Admin on the profile."))
    return profile


def revocation_offered(profile):
    try:
        return adapter_for(profile.network).offers_revocation
    except NotConfigured:
        return False


@bp.route("/accounts/<int:profile_id>/remove", methods=["GET", "POST"])
@login_required
@organization_required
def remove(profile_id):
    profile = removable_or_404(profile_id)
    next_url = safe_next(request.values.get("next"), url_for("accounts.index"))
    if request.method == "GET":
        return render("connect/remove.html", block="dialog", profile=profile, next_url=next_url,
                      revocation_offered=revocation_offered(profile))
    name, label = profile.name, network(profile.network).label
    outcome = removal.remove(get_session(), profile)
    message = _("%(name)s (%(network)s) is removed, and its tokens are deleted.", name=name, network=label)
    if outcome in REVOCATION_WORDS:
        message += " " + str(REVOCATION_WORDS[outcome]) % {"network": label}
    flash(message, "success")
    return redirect_after_post(next_url)
