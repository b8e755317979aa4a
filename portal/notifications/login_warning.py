"""The warning after sign-in: once per sign-in, if the person asked for it,
a dialog of the tokens at risk among the profiles they may renew, each with
a Renew Token button that works in the dialog."""
from flask import g, session, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from portal.accounts import TOKENS_CHANGED
from portal.db import get_session
from portal.models import NotificationPreference
from portal.notifications import bp
from portal.profiles import AT_RISK, Scope, visible_profiles
from portal.renewal import renewed_fragment
from portal.tenancy import organization_required
from portal.web import render

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


ITEM_TARGET_PREFIX = "login-warning-item-"


def at_risk():
    """Rows of the profiles at risk that the person may renew, most urgent first."""
    return [row for row in visible_profiles(g.membership, g.organization, scope=Scope(statuses=AT_RISK))
            if row.renew]


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


@renewed_fragment(ITEM_TARGET_PREFIX)
def renewed_item(profile, next_url):
    """A dialog item renewed silently: green in place, and the header told."""
    response = render("notifications/renewed_item.html", profile=profile)
    response.headers["HX-Trigger"] = TOKENS_CHANGED
    return response
