"""What the token-health pages read besides `visible_profiles`: who renewed
last, a profile's history, and the people who relate to a profile. Each
function reads a fixed number of queries, whatever the number of rows."""
from dataclasses import dataclass
from functools import cache
from datetime import datetime

from sqlalchemy import bindparam, func, or_
from sqlmodel import select

from portal.db import columns_of, get_session
from portal.models import (
    AccessLevel,
    Credential,
    Membership,
    NativeRole,
    ProfileAccess,
    RenewalAttempt,
    Role,
    User,
)
from portal.profiles import Scope, visible_profiles

RENEWED = "renewed"
HISTORY_LIMIT = 25


@dataclass(frozen=True)
class LastRenewal:
    when: datetime
    user: User | None  # the person who renewed (or granted), if one did
    # "silent" (Keepalive, without a person), "link" (a client, through a
    # renewal link), "person" (a person in Keepalive), "grant" (a grant no
    # attempt tells of: its granter, if known, is all there is to say).
    how: str = "person"


def users_by_id(user_ids):
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in get_session().exec(users_query(), params={"ids": sorted(ids)}).all()}


# Built once: the pages of many rows run them on every view.
@cache
def users_query():
    return select(User).where(User.id.in_(bindparam("ids", expanding=True)))


@cache
def latest_renewals_query():
    """The columns a row's "Last renewed" needs of each profile's latest
    successful attempt (plain rows: no attempt object to build per row)."""
    latest = (
        select(func.max(RenewalAttempt.id).label("id"))
        .where(RenewalAttempt.profile_id.in_(bindparam("ids", expanding=True)), RenewalAttempt.outcome == RENEWED)
        .group_by(RenewalAttempt.profile_id)
        .subquery()
    )
    return select(RenewalAttempt.profile_id, RenewalAttempt.started_at, RenewalAttempt.finished_at,
                  RenewalAttempt.user_id, RenewalAttempt.mode).where(RenewalAttempt.id.in_(select(latest.c.id)))


def last_renewals(rows):
    """{profile id: LastRenewal} for `rows` (ProfileRow): the later of the
    latest successful renewal attempt and the current credential's grant.
    Every silent refresh records an attempt, so a credential's own refresh
    time says nothing more (a grant's is its creation, not a refresh)."""
    profile_ids = [row.profile.id for row in rows]
    if not profile_ids:
        return {}
    attempts = {
        attempt.profile_id: attempt
        for attempt in columns_of(latest_renewals_query(), {"ids": profile_ids})
    }
    people = users_by_id(
        [attempt.user_id for attempt in attempts.values()]
        + [row.credential.granted_by_id for row in rows if row.credential is not None]
    )
    result = {}
    for row in rows:
        profile_id, credential = row.profile.id, row.credential
        attempt = attempts.get(profile_id)
        renewed_at = None if attempt is None else attempt.finished_at or attempt.started_at
        # On a tie the attempt wins: it knows who renewed.
        if credential is not None and (attempt is None or credential.created_at > renewed_at):
            result[profile_id] = LastRenewal(credential.created_at, people.get(credential.granted_by_id), "grant")
        elif attempt is not None:
            result[profile_id] = LastRenewal(renewed_at, people.get(attempt.user_id), renewed_how(attempt))
    return result


def renewed_how(attempt):
    """How a successful attempt renewed: by a person, silently, or by a client's link."""
    if attempt.user_id is not None:
        return "person"
    return "link" if attempt.mode == "interactive" else "silent"


def credential_history(profile_id):
    """Every grant of a profile, newest first, with the person who granted it."""
    session = get_session()
    return session.exec(
        select(Credential, User)
        .outerjoin(User, User.id == Credential.granted_by_id)
        .where(Credential.profile_id == profile_id)
        .order_by(Credential.created_at.desc(), Credential.id.desc())
    ).all()


def renewal_attempts(profile_id, limit=HISTORY_LIMIT):
    return get_session().exec(
        select(RenewalAttempt, User)
        .outerjoin(User, User.id == RenewalAttempt.user_id)
        .where(RenewalAttempt.profile_id == profile_id)
        .order_by(RenewalAttempt.started_at.desc(), RenewalAttempt.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class Manager:
    user: User
    role: str  # Keepalive role in the organization
    can_manage_profiles: bool
    access_level: str | None  # on this profile
    native_role: NativeRole | None


def profile_managers(profile):
    """The organization's people who relate to `profile`: Owners, Managers,
    the profile's Admins, and anyone the network told us about (NativeRole),
    those who can renew natively first."""
    session = get_session()
    rows = session.exec(
        select(User, Membership, ProfileAccess.level, NativeRole)
        .join(Membership, (Membership.user_id == User.id) & (Membership.organization_id == profile.organization_id))
        .outerjoin(ProfileAccess, (ProfileAccess.user_id == User.id) & (ProfileAccess.profile_id == profile.id))
        .outerjoin(NativeRole, (NativeRole.user_id == User.id) & (NativeRole.profile_id == profile.id))
        .where(
            or_(
                Membership.role.in_([Role.OWNER, Role.MANAGER]),
                ProfileAccess.level == AccessLevel.ADMIN,
                NativeRole.id.is_not(None),
            )
        )
    ).all()
    # Likeliest to renew first: known able, held a token, never observed, known unable.
    order = {"yes": 0, "unknown": 1, None: 2, "no": 3}
    rank = {Role.OWNER: 0, Role.MANAGER: 1, Role.MEMBER: 2}
    managers = [
        Manager(user=user, role=membership.role, can_manage_profiles=membership.can_manage_profiles,
                access_level=level, native_role=native)
        for user, membership, level, native in rows
    ]
    managers.sort(key=lambda m: (order.get(m.native_role.can_renew if m.native_role else None, 3),
                                 rank.get(m.role, 3), m.user.display_name.casefold()))
    return managers


def profile_row(membership, organization, profile_id, now=None):
    """The ProfileRow of one profile, if `membership` may see it (else None)."""
    rows = visible_profiles(membership, organization, scope=Scope(ids=(profile_id,)), now=now)
    return rows[0] if rows else None
