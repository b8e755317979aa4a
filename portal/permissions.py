"""Who may do what: pure rules over memberships and profile access levels."""
from dataclasses import dataclass

from portal.models import AccessLevel, Role


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a message key saying why not

    def __bool__(self):
        return self.allowed


ALLOWED = Decision(True)


def manages_organization(membership):
    """Owners and Managers run the organization and see every profile."""
    return membership is not None and membership.role in (Role.OWNER, Role.MANAGER)


def may_see_profile(membership, access_level):
    if manages_organization(membership):
        return True
    return membership is not None and access_level is not None


def may_renew(membership, access_level):
    """Owners and Managers renew any profile; a Member needs "manage social
    profiles" and Admin on that profile."""
    if membership is None:
        return Decision(False, "not_a_member")
    if manages_organization(membership):
        return ALLOWED
    if not membership.can_manage_profiles:
        return Decision(False, "no_manage_profiles")
    if access_level != AccessLevel.ADMIN:
        return Decision(False, "not_profile_admin")
    return ALLOWED


def may_connect_profiles(membership):
    """Connecting (and removing) social profiles: Owners, Managers, and Members
    with "manage social profiles"."""
    if membership is None:
        return Decision(False, "not_a_member")
    if manages_organization(membership) or membership.can_manage_profiles:
        return ALLOWED
    return Decision(False, "no_manage_profiles")


def may_remove_profile(membership, access_level):
    """Removing a profile: those who connect profiles, and a Member only one
    they administer (as renewing it takes)."""
    decision = may_connect_profiles(membership)
    return may_renew(membership, access_level) if decision else decision


def may_change_role(actor, target, new_role):
    """Only an Owner makes or unmakes Owners; nobody demotes the last Owner
    (checked by the caller, who can count them)."""
    if not manages_organization(actor):
        return False
    if Role.OWNER in (target.role, new_role):
        return actor.role == Role.OWNER
    return True
