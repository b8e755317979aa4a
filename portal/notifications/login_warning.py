"""The warning after sign-in: once per sign-in, if the person asked for it,
a dialog of the tokens at risk among the profiles they may renew, each with
a Renew Token button that works in the dialog."""
from flask import abort, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from portal.accounts import TOKENS_CHANGED
from portal.db import get_session
from portal.models import NotificationPreference, ProfileAccess, SocialProfile
from portal.networks.outcomes import Transient
from portal.networks.registry import adapter_for
from portal.notifications import bp
from portal.permissions import may_renew
from portal.profiles import visible_profiles
from portal.renewal import consent
from portal.renewal.credentials import current_credential
from portal.renewal.silent import renew_silently
from portal.tenancy import organization_required
from portal.web import owned_or_404, redirect_after_post, render, safe_next

PENDING = "login_warning"  # session: set at sign-in, spent by the first page that shows the warning


def remember_after_sign_in():
    """Called at sign-in: the next page may show the warning."""
    session[PENDING] = True


@bp.app_context_processor
def login_warning_flag():
    return {"login_warning_pending": lambda: bool(session.get(PENDING))}


def wants_warning(user_id, organization_id):
    """The person's "Show me tokens at risk every time I log in" (the
    all-profiles preference; on unless switched off)."""
    preference = get_session().exec(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.organization_id == organization_id,
            NotificationPreference.profile_id.is_(None),
        )
    ).first()
    return preference is None or preference.login_warning


def at_risk():
    """Rows of the profiles at risk that the person may renew, most urgent first."""
    return [row for row in visible_profiles(g.membership, g.organization)
            if row.status.needs_attention and row.renew]


@bp.route("/notifications/login-warning")
@login_required
@organization_required
def login_warning():
    """The dialog, once: the flag is spent whether or not there is anything to show."""
    if not session.pop(PENDING, False) or not wants_warning(current_user.id, g.organization.id):
        return "", 204
    rows = at_risk()
    if not rows:
        return "", 204
    return render("notifications/login_warning.html", rows=rows, next_url=url_for("home.index"))


@bp.route("/notifications/login-warning/<int:profile_id>/renew", methods=["POST"])
@login_required
@organization_required
def renew(profile_id):
    """Renew from the dialog: silently where the network allows (the item
    turns green in place), else on to the network's consent page."""
    profile = owned_or_404(SocialProfile, profile_id)
    level = get_session().exec(
        select(ProfileAccess.level).where(ProfileAccess.profile_id == profile.id,
                                          ProfileAccess.user_id == current_user.id)
    ).first()
    if not may_renew(g.membership, level):
        abort(403)
    next_url = safe_next(request.form.get("next"), url_for("home.index"))
    adapter = adapter_for(profile.network)
    credential = current_credential(get_session(), profile.id)
    get_session().commit()  # the renewal takes its own lock
    if credential is not None and not credential.is_invalid:
        try:
            outcome = renew_silently(profile.id, adapter, seen_version=credential.version, force=True,
                                     user_id=current_user.id)
        except Transient:
            outcome = None
        if outcome is not None and outcome.renewed:
            if request.headers.get("HX-Request") == "true":
                response = render("notifications/renewed_item.html", profile=profile)
                response.headers["HX-Trigger"] = TOKENS_CHANGED
                return response
            flash(_("The token of %(name)s is renewed.", name=profile.name), "success")
            return redirect_after_post(next_url)
    return redirect_after_post(consent.start(adapter, profile, next_url, user_id=current_user.id))
