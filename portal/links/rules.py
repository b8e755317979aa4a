"""Pure rules of renewal links: who may send one, and why one no longer works."""
from datetime import timedelta
from enum import StrEnum

from portal.permissions import may_renew

LIFETIME = timedelta(days=7)
# Failed renewals through one client link, each hour: past them the link waits,
# and the agency hears of the failures once an hour, not once each.
FAILED_ATTEMPTS_PER_HOUR = 5


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
    """Sending (and revoking) a client's link is renewing by other hands: it takes
    what renewing takes (Owners, Managers, and Members with "manage social
    profiles" who are Admin of the profile)."""
    return bool(may_renew(membership, access_level))
