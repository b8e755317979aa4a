"""Pure rules of the settings pages: who may change whom, and what an
organization's settings may hold. No Flask, no database."""
import re

from portal.models import Role
from portal.permissions import manages_organization, may_change_role

MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 60
MAX_THRESHOLD_DAYS = 90
WHOLE_NUMBER = re.compile(r"-?[0-9]+")

# Message keys, worded by the views (so the rules stay free of Flask-Babel).
ONLY_OWNERS_FOR_OWNERS = "only_owners_for_owners"
LAST_OWNER = "last_owner"
MANAGER_REMOVES_OWNER = "manager_removes_owner"


class ThresholdError(ValueError):
    """`args[0]` is a message key; `args[1]` the offending text, if any."""


def role_change_refusal(actor, target, new_role, owner_count):
    """Why `actor` may not give `target` the role `new_role`, or None."""
    if new_role == target.role:
        return None
    if not may_change_role(actor, target, new_role):
        return ONLY_OWNERS_FOR_OWNERS
    if target.role == Role.OWNER and owner_count <= 1:
        return LAST_OWNER
    return None


def removal_refusal(actor, target, owner_count):
    """Why `actor` may not remove `target` from the organization, or None."""
    if not manages_organization(actor):
        return ONLY_OWNERS_FOR_OWNERS
    if target.role == Role.OWNER:
        if actor.role != Role.OWNER:
            return MANAGER_REMOVES_OWNER
        if owner_count <= 1:
            return LAST_OWNER
    return None


def invitation_refusal(actor, role):
    """Only an Owner invites an Owner."""
    if not manages_organization(actor):
        return ONLY_OWNERS_FOR_OWNERS
    if role == Role.OWNER and actor.role != Role.OWNER:
        return ONLY_OWNERS_FOR_OWNERS
    return None


def parse_thresholds(text):
    """"7, 3,1,0,3" -> [7, 3, 1, 0]: whole days 0–90, de-duplicated, descending.

    Raises ThresholdError("empty"), ("not_a_number", part) or ("out_of_range", part).
    """
    parts = [part.strip() for part in (text or "").split(",")]
    if not any(parts):
        raise ThresholdError("empty", "")
    days = set()
    for part in parts:
        if not part:
            continue
        if not WHOLE_NUMBER.fullmatch(part):
            raise ThresholdError("not_a_number", part)
        day = int(part)
        if not 0 <= day <= MAX_THRESHOLD_DAYS:
            raise ThresholdError("out_of_range", part)
        days.add(day)
    return sorted(days, reverse=True)


def format_thresholds(days):
    return ",".join(str(day) for day in days)
