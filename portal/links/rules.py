"""Pure rules of renewal links: who may send one, and why one no longer works."""
from datetime import timedelta
from enum import StrEnum

from portal.models import AccessLevel
from portal.permissions import manages_organization

LIFETIME = timedelta(days=7)


class Purpose(StrEnum):
    MEMBER = "member"  # emailed to a portal user with a notice; needs sign-in
    CLIENT = "client"  # sent to the client's account owner, who has no account


class Problem(StrEnum):
    UNKNOWN = "unknown"  # never issued, mistyped, altered, or meant for another page
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


# Not found for a link we never made; gone for one that existed.
HTTP_STATUS = {Problem.UNKNOWN: 404, Problem.USED: 410, Problem.EXPIRED: 410, Problem.REVOKED: 410}


def problem(link, purpose, now):
    """Why `link` cannot be followed at `now` for `purpose`, or None if it can."""
    if link is None or link.purpose != purpose:
        return Problem.UNKNOWN
    if link.revoked_at is not None:
        return Problem.REVOKED
    if link.used_at is not None:
        return Problem.USED
    if link.expires_at <= now:
        return Problem.EXPIRED
    return None


def may_send_link(membership, access_level):
    """Owners, Managers, and Admins of the profile send (and revoke) client links."""
    if membership is None:
        return False
    return manages_organization(membership) or access_level == AccessLevel.ADMIN
