"""The words of an in-app notice, from the status words every page uses."""
from flask_babel import gettext as _, lazy_gettext as _l

from portal.networks import network
from portal.notifications.rules import KIND_EXPIRED, KIND_EXPIRING, KIND_INVALID, KIND_LINK_FAILED, KIND_LINK_RENEWED
from portal.status import Status, TokenStatus
from portal.templating import status_text

# Notices that are not about a token's end: how a client's renewal link went.
LINK_NOTICES = {
    KIND_LINK_RENEWED: _l("Renewed by the client through a renewal link"),
    KIND_LINK_FAILED: _l("The client's renewal through a renewal link failed"),
}
# A kind this version does not know (written by a newer one): still shown.
UNKNOWN_NOTICE = _l("Open the profile to see what changed")


def notice_status(notification, credential):
    """The TokenStatus the notice told of (not the token's status now)."""
    if notification.kind == KIND_INVALID:
        reason = credential.invalid_reason if credential is not None else None
        return TokenStatus(Status.EXPIRED, notification.expires_at, None, reason)
    if notification.kind == KIND_EXPIRED:
        return TokenStatus(Status.EXPIRED, notification.expires_at, None, "expired")
    return TokenStatus(Status.EXPIRING, notification.expires_at, notification.threshold_days)


def notice_text(notification, profile, credential):
    """"Facebook · Expires in 3 days", "Facebook · Expired · Password changed on Facebook"."""
    label = network(profile.network).label
    kind = notification.kind
    if kind in LINK_NOTICES:
        return f"{label} · {LINK_NOTICES[kind]}"
    if kind == KIND_EXPIRED:
        return f"{label} · {_('Expired')}"
    if kind in (KIND_INVALID, KIND_EXPIRING) and (kind == KIND_INVALID or notification.threshold_days is not None):
        return f"{label} · {status_text(notice_status(notification, credential), profile.network)}"
    return f"{label} · {UNKNOWN_NOTICE}"
