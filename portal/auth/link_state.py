"""Why a single-use link (password reset, invitation) no longer works.

A pure rule: the views turn the answer into a page and a status code.
"""
from enum import StrEnum


class LinkProblem(StrEnum):
    UNKNOWN = "unknown"  # never issued, mistyped or altered
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


# Not found for a link we never made; gone for one that existed.
HTTP_STATUS = {
    LinkProblem.UNKNOWN: 404,
    LinkProblem.USED: 410,
    LinkProblem.EXPIRED: 410,
    LinkProblem.REVOKED: 410,
}


def link_problem(*, now, expires_at, used_at, revoked_at=None):
    """The reason an issued link cannot be followed at `now`, or None if it can."""
    if revoked_at is not None:
        return LinkProblem.REVOKED
    if used_at is not None:
        return LinkProblem.USED
    if expires_at <= now:
        return LinkProblem.EXPIRED
    return None
