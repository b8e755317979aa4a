"""The words of an in-app notice, from the status words every page uses."""
from flask_babel import gettext as _

from portal.networks import network
from portal.notifications.rules import KIND_EXPIRED, KIND_INVALID
from portal.status import Status, TokenStatus
from portal.templating import status_text


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
    if notification.kind == KIND_EXPIRED:
        return f"{label} · {_('Expired')}"
    return f"{label} · {status_text(notice_status(notification, credential), profile.network)}"
