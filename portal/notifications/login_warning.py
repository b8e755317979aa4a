"""The warning after sign-in: once per sign-in, if the person asked for it,
the tokens at risk among the profiles they may renew (the dialog is in
`views.warning_dialog`)."""
from flask import g, session
from sqlmodel import select

from portal.db import get_session
from portal.models import NotificationPreference
from portal.profiles import AT_RISK, Scope, visible_profiles

PENDING = "login_warning"  # session: set at sign-in, spent by the first page that shows the warning


def remember_after_sign_in():
    """Called at sign-in: the next page may show the warning."""
    session[PENDING] = True


def pending():
    return bool(session.get(PENDING))


def spend():
    """Whether the warning was still to come; it is not any more."""
    return session.pop(PENDING, False)


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
    return [row for row in visible_profiles(g.membership, g.organization, scope=Scope(statuses=AT_RISK))
            if row.renew]
