"""The words of an in-app notice, from the status words every page uses."""
from babel.lists import format_list
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext

from portal.networks import network
from portal.notifications.rules import (KIND_CLIENT_CONNECTED, KIND_EXPIRED, KIND_EXPIRING, KIND_INVALID,
                                        KIND_LINK_FAILED, KIND_LINK_RENEWED, KIND_LINK_UNSENT, told_at)
from portal.status import Status, TokenStatus
from portal.templating import status_text

# Notices that are not about a token's end: how a client's renewal link went,
# and profiles a client connected through an invitation.
LINK_NOTICES = {
    KIND_LINK_RENEWED: _l("Renewed by the client through a renewal link"),
    KIND_LINK_FAILED: _l("The client's renewal through a renewal link failed"),
    KIND_LINK_UNSENT: _l("The email with a renewal link could not be sent"),
    KIND_CLIENT_CONNECTED: _l("Connected by the client through an invitation"),
}
# A kind this version does not know (written by a newer one): still shown.
UNKNOWN_NOTICE = _l("Open the profile to see what changed")


def notice_status(notification, credential, now):
    """The TokenStatus the notice tells at `now`: the real days left, or
    expired once its end has come."""
    kind, days = told_at(notification.kind, notification.expires_at, now)
    if days is None:  # an expiring notice without its end (none is written so): its threshold
        days = notification.threshold_days
    if kind == KIND_INVALID:
        reason = credential.invalid_reason if credential is not None else None
        return TokenStatus(Status.EXPIRED, notification.expires_at, None, reason)
    if kind == KIND_EXPIRED:
        return TokenStatus(Status.EXPIRED, notification.expires_at, None, "expired")
    return TokenStatus(Status.EXPIRING, notification.expires_at, days)


def notice_text(notification, profile, credential, now):
    """"Facebook · Expires in 3 days", "Facebook · Expired · Password changed on Facebook".

    An open notice tells the time left at `now`; one a renewal resolved
    tells what it told when it was written."""
    label = network(profile.network).label
    kind = notification.kind
    if kind in LINK_NOTICES:
        return f"{label} · {LINK_NOTICES[kind]}"
    as_of = notification.created_at if notification.resolved_at is not None else now
    status = notice_status(notification, credential, as_of)
    if kind not in (KIND_EXPIRING, KIND_EXPIRED, KIND_INVALID) or (
            status.status == Status.EXPIRING and status.days_left is None):
        return f"{label} · {UNKNOWN_NOTICE}"
    if status.status == Status.EXPIRED and status.reason == "expired":
        return f"{label} · {_('Expired')}"
    return f"{label} · {status_text(status, profile.network)}"


def thresholds_text(thresholds):
    """"You are told 7, 3 and 1 day before a token expires, and when it expires."
    for an organization's thresholds (days before the end; 0: at the end)."""
    before = sorted((days for days in thresholds if days > 0), reverse=True)
    at_end = 0 in thresholds
    if not before:
        return _("You are told when a token expires.") if at_end else ""
    days = format_list([str(day) for day in before], locale=get_locale())
    if at_end:
        return ngettext("You are told %(days)s day before a token expires, and when it expires.",
                        "You are told %(days)s days before a token expires, and when it expires.",
                        before[-1], days=days)
    return ngettext("You are told %(days)s day before a token expires.",
                    "You are told %(days)s days before a token expires.", before[-1], days=days)
