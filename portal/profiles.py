"""Profiles as a user sees them: only those they may see, with the current
credential, their access level, brands and token status, in few queries.

The pages filter, count, sort and page in the database: `urgency_sql` is
`portal.status.token_status` written as one SQL expression (a test holds the
two to each other on every boundary), so only the rows shown are built.
"""
from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, false, func, literal, or_, union_all
from sqlmodel import select

from portal.db import IN_CHUNK, UTCDateTime, columns_of, earliest, get_session, utcnow
from portal.extensions import kept_in_process
from portal.models import (AccessLevel, Brand, BrandProfile, Credential, CredentialFacts, CredentialState,
                           ProfileAccess, SocialProfile)
from portal.permissions import manages_organization, may_renew
from portal.status import URGENCY, Status, token_status, whole_days
from portal.versions import changes_shown

AT_RISK = (Status.EXPIRED, Status.EXPIRING)
STATUS_OF_URGENCY = {rank: status for status, rank in URGENCY.items()}


# The lists read a profile and its current credential as plain rows of their
# columns, not ORM entities: an entity's identity map entry and instance state
# cost more than the rest of its row, and a list builds dozens.
PROFILE_COLUMNS = tuple(getattr(SocialProfile, column.name) for column in SocialProfile.__table__.columns)
# A credential's sealed tokens stay in the database: whether it renews silently is all a list needs of them.
CREDENTIAL_COLUMNS = tuple(getattr(Credential, column.name) for column in Credential.__table__.columns
                           if not column.name.startswith("sealed_"))
CREDENTIAL_COLUMNS += (Credential.sealed_refresh_token.is_not(None).label("can_refresh_silently"),)
# Where a profile's columns end in a row of `ordered_rows_statement`, and its credential's (its id first).
PROFILE_END = len(PROFILE_COLUMNS)
CREDENTIAL_END = PROFILE_END + len(CREDENTIAL_COLUMNS)


class ProfileView(namedtuple("ProfileView", [column.key for column in PROFILE_COLUMNS])):
    """A profile's columns, read as they are (`SocialProfile`'s attributes)."""
    __slots__ = ()


class CredentialView(namedtuple("CredentialView", [column.key for column in CREDENTIAL_COLUMNS]),
                     CredentialFacts):
    """A current credential's columns but its sealed tokens, and what they
    say (`Credential`'s attributes and properties)."""
    __slots__ = ()


@dataclass
class ProfileRow:
    profile: ProfileView
    credential: CredentialView | None
    access_level: str | None
    brands: list
    status: object  # portal.status.TokenStatus
    renew: object  # portal.permissions.Decision


@dataclass(frozen=True)
class Scope:
    """Which of the visible profiles: in a brand, of a network, matching a
    text (in the name or handle, case aside, a leading "@" ignored), with one
    of some statuses, or among some ids. Empty parts select everything."""
    brand_id: int | None = None
    network: str | None = None
    text: str = ""
    statuses: tuple = ()
    ids: tuple | None = None


def effective_expiry_sql():
    """`portal.status.effective_expiry` in SQL."""
    end = case(
        (Credential.sealed_refresh_token.is_not(None), Credential.refresh_expires_at),
        else_=Credential.expires_at,
    )
    return earliest(end, Credential.data_access_expires_at)


def shown_expiry_sql(now):
    """`TokenStatus.effective_expiry` in SQL: the effective expiry, and for an
    invalid credential when it stopped (`portal.status.ended_at`)."""
    expiry = effective_expiry_sql()
    found = Credential.invalidated_at
    return case(
        (Credential.status != CredentialState.INVALID, expiry),
        (and_(found.is_not(None), or_(expiry.is_(None), found < expiry)), found),
        (expiry <= now, expiry),
        else_=None,
    )


def urgency_sql(now, window_days):
    """The `URGENCY` of each profile's token status at `now`, in SQL: the
    rule of `portal.status.token_status`, case by case."""
    return urgency_between(now, now + timedelta(days=window_days))


def urgency_between(now, horizon):
    """`urgency_sql` for the window that ends at `horizon` (values or bound
    parameters; never before `now`). A token beyond the window, the common
    case, is decided first: the database computes the expiry again at each
    case that names it, and it is named once before that one."""
    expiry = effective_expiry_sql()
    expired, expiring = URGENCY[Status.EXPIRED], URGENCY[Status.EXPIRING]
    return case(
        (Credential.id.is_(None), expired),
        (Credential.status == CredentialState.INVALID, expired),
        (expiry > horizon, URGENCY[Status.VALID]),
        (expiry.is_(None), case((Credential.last_check_ok.is_(False), expired), else_=URGENCY[Status.NO_EXPIRY])),
        (expiry <= now, expired),
        else_=expiring,
    )


def matching(query, text):
    """`query` narrowed to the profiles whose name or handle holds `text`
    (case aside, a leading "@" ignored, `%` and `_` taken literally)."""
    needle = text.lstrip("@")
    if not needle:
        return query
    return query.where(or_(SocialProfile.name.icontains(needle, autoescape=True),
                           SocialProfile.handle.icontains(needle, autoescape=True)))


# The pages read profiles with statements built once a process for each
# shape of question (who asks, what the scope narrows), their values bound
# at each call: SQLAlchemy keys each statement once, not at every execution.
NOW = bindparam("now", type_=UTCDateTime())
HORIZON = bindparam("horizon", type_=UTCDateTime())


def shape_of(membership, scope):
    """What the statement of `visible` depends on besides values."""
    return (manages_organization(membership), scope.brand_id is not None, scope.network is not None,
            bool(scope.text.lstrip("@")), tuple(scope.statuses), scope.ids is not None)


def values_of(membership, organization, scope, now):
    """The values of a `visible` statement's parameters."""
    needle = scope.text.lstrip("@")
    escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {
        "organization_id": organization.id, "user_id": membership.user_id, "brand_id": scope.brand_id,
        "network": scope.network, "needle": f"%{escaped}%", "ids": list(scope.ids or ()),
        "now": now, "horizon": now + timedelta(days=organization.expiry_window_days),
    }


def scoped(query, shape):
    """`query` over the visible profiles, narrowed by the scope of `shape`,
    with bound parameters for the values (`values_of`)."""
    manages, brand, network, text, statuses, ids = shape
    query = (
        query.select_from(SocialProfile)
        .outerjoin(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .where(SocialProfile.organization_id == bindparam("organization_id"))
    )
    if not manages:
        # A Member sees the profiles they have access to; an Owner or Manager every one, no access row read.
        query = query.outerjoin(ProfileAccess, and_(ProfileAccess.profile_id == SocialProfile.id,
                                                    ProfileAccess.user_id == bindparam("user_id")))
        query = query.where(ProfileAccess.id.is_not(None))
    if brand:
        query = query.where(SocialProfile.id.in_(
            select(BrandProfile.profile_id).where(BrandProfile.brand_id == bindparam("brand_id"))))
    if network:
        query = query.where(SocialProfile.network == bindparam("network"))
    if text:
        needle = func.lower(bindparam("needle"))
        query = query.where(or_(func.lower(SocialProfile.name).like(needle, escape="/"),
                                func.lower(SocialProfile.handle).like(needle, escape="/")))
    if statuses:
        query = query.where(urgency_between(NOW, HORIZON).in_([URGENCY[status] for status in statuses]))
    if ids:
        query = query.where(SocialProfile.id.in_(bindparam("ids", expanding=True)))
    return query


def visible(membership, organization, *columns, scope=Scope(), now=None):
    """A SELECT of `columns` over the profiles of `organization` that
    `membership` may see, joined to their current credential and the
    member's access, narrowed to `scope`."""
    query = scoped(select(*columns), shape_of(membership, scope))
    return query.params(values_of(membership, organization, scope, now or utcnow()))


def run(statement, membership, organization, scope, now, **values):
    """The rows of a statement of `scoped` for these values: columns, read
    on the session's connection (the ORM's loading has no entity to build)."""
    return columns_of(statement, {**values_of(membership, organization, scope, now), **values})


def counted(statement, membership, organization, scope, now):
    """The rows of a GROUP BY of `scoped` (counts by status), kept in this
    process while they cannot change: as long as the organization's version
    (`portal.versions`) and its time state (`time_state`) stay the same, as
    the pages' ETags are. Read again in a session that has changed what the
    pages show, since the organization's version it holds is then behind."""
    if changes_shown(get_session()):
        return run(statement, membership, organization, scope, now)
    key = (statement, organization.id, organization.version, organization.expiry_window_days,
           time_state(organization, now), membership.user_id, scope)
    kept = kept_in_process("keepalive.counts")
    if key not in kept:
        kept[key] = run(statement, membership, organization, scope, now)
    return kept[key]


@cache
def ordered_rows_statement(shape, limited):
    """The rows of `visible_profiles`, most urgent first. Ordered by the
    labels of the sort keys (no expiry without one last: NULLS LAST), so
    the database computes each key once a row, not again to order it."""
    urgency = urgency_between(NOW, HORIZON).label("urgency")
    expiry = shown_expiry_sql(NOW).label("shown_expiry")
    name = func.lower(SocialProfile.name).label("name")
    ordered = scoped(select(SocialProfile.id.label("profile_id"), urgency, expiry, name), shape)
    if limited:
        ordered = ordered.order_by(urgency, expiry.asc().nulls_last(), name, SocialProfile.id)
        ordered = ordered.limit(bindparam("limit")).offset(bindparam("offset"))
    ordered = ordered.subquery("ordered")
    return (
        select(*PROFILE_COLUMNS, *CREDENTIAL_COLUMNS, ProfileAccess.level)
        .select_from(ordered)
        .join(SocialProfile, SocialProfile.id == ordered.c.profile_id)
        .outerjoin(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .outerjoin(ProfileAccess,
                   and_(ProfileAccess.profile_id == SocialProfile.id, ProfileAccess.user_id == bindparam("user_id")))
        .order_by(ordered.c.urgency, ordered.c.shown_expiry.asc().nulls_last(), ordered.c.name, ordered.c.profile_id)
    )


@cache
def counts_statement(shape):
    urgency = urgency_between(NOW, HORIZON).label("urgency")
    return scoped(select(urgency, func.count()), shape).group_by(urgency)


@cache
def summary_statement(manages):
    """Counts by status and network, and by access level for a Member (an
    Owner or Manager may renew them all: no level to group by)."""
    urgency = urgency_between(NOW, HORIZON).label("urgency")
    level = ProfileAccess.level if not manages else literal(None).label("level")
    grouped = (urgency, SocialProfile.network) + ((ProfileAccess.level,) if not manages else ())
    return scoped(select(SocialProfile.network, level, urgency, func.count()),
                  (manages, False, False, False, (), False)).group_by(*grouped)


def renewable(membership, organization, *columns, scope=Scope()):
    """`visible`, narrowed to the profiles `membership` may renew:
    `portal.permissions.may_renew` in SQL."""
    query = visible(membership, organization, *columns, scope=scope)
    if manages_organization(membership):
        return query
    if not membership.can_manage_profiles:
        return query.where(false())
    return query.where(ProfileAccess.level == AccessLevel.ADMIN)


def visible_profiles(membership, organization, scope=Scope(), now=None, limit=None, offset=0):
    """The profiles of `organization` in `scope` that `membership` may see,
    most urgent first, `limit` of them from `offset`.

    The profiles are sorted by their ids and sort keys alone (each key
    computed once a row), then only those of the page are read whole, as
    plain rows (`ProfileView`, `CredentialView`)."""
    now = now or utcnow()
    statement = ordered_rows_statement(shape_of(membership, scope), limit is not None)
    results = run(statement, membership, organization, scope, now, limit=limit, offset=offset)
    brands = brands_by_profile([values[0] for values in results])
    rows = []
    for values in results:
        profile = ProfileView._make(values[:PROFILE_END])
        # No current credential: its columns, its id first, are all NULL.
        credential = None if values[PROFILE_END] is None else CredentialView._make(values[PROFILE_END:CREDENTIAL_END])
        level = values[CREDENTIAL_END]
        rows.append(ProfileRow(
            profile=profile,
            credential=credential,
            access_level=level,
            brands=brands.get(profile.id, []),
            status=token_status(credential, now, organization.expiry_window_days),
            renew=may_renew(membership, level),
        ))
    return rows


def status_counts(membership, organization, scope=Scope(), now=None):
    """{Status: how many of the visible profiles in `scope` have it}, every status present."""
    grouped = counted(counts_statement(shape_of(membership, scope)), membership, organization, scope, now or utcnow())
    counts = {status: 0 for status in URGENCY}
    for rank, count in grouped:
        counts[STATUS_OF_URGENCY[rank]] = count
    return counts


def time_state(organization, now):
    """A value that stays the same exactly as long as nothing the lists of
    `organization`'s profiles show changes with time alone, whoever looks: a
    token in the expiry window losing a day ("3 days left", just after a
    whole day before its end) or expiring (at its end), or one entering the
    window (at its end less the window). It is (the next moment a token in
    the window loses a day, the end of the nearest token beyond the window),
    either None when there is none; it stands in the pages' ETags
    (`portal.web.conditional`)."""
    window = timedelta(days=organization.expiry_window_days)
    key = (organization.id, organization.version, organization.expiry_window_days)
    kept = kept_in_process("keepalive.time_states")
    known = kept.get(key)
    if known is not None and known[0] <= now < known[1]:
        return known[2]
    losing_a_day, beyond = [], None
    ends = get_session().exec(time_change_statement(),
                              params={"organization_id": organization.id, "now": now, "horizon": now + window})
    for (end,) in ends.all():
        if end is None:
            continue
        if end > now + window:
            beyond = end  # it leaves this set as it enters the window
        else:  # its whole days left go down one just after each of these moments; it leaves the set as it expires
            losing_a_day.append(end - timedelta(days=whole_days(end - now)))
    state = min(losing_a_day, default=None), beyond
    # The same until a token of the window loses a day or expires, or the nearest beyond enters it, or
    # a write changes the organization's version: kept that long, in this process.
    until = min((moment for moment in (state[0], beyond and beyond - window) if moment is not None), default=FOREVER)
    kept[key] = (now, until, state)
    return state


# The app's time states (`current_app.extensions["keepalive.time_states"]`):
# {(organization id, version, window days): (computed at, valid until, time state)}.
FOREVER = datetime.max.replace(tzinfo=timezone.utc)


@cache
def time_change_statement():
    """The effective expiries within the window, and the nearest one beyond it."""
    expiry = effective_expiry_sql()
    current = (
        select(expiry)
        .select_from(SocialProfile)
        .join(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .where(SocialProfile.organization_id == bindparam("organization_id"),
               Credential.status != CredentialState.INVALID)
    )
    within = current.where(expiry > NOW, expiry <= HORIZON)
    beyond = current.with_only_columns(func.min(expiry)).where(expiry > HORIZON)
    return union_all(within, beyond)


@dataclass(frozen=True)
class NetworkSummary:
    present: frozenset  # the networks of the visible profiles
    to_renew: dict  # {network: profiles at risk that the member may renew}; networks with none left out
    counts: dict  # {Status: how many visible profiles have it}: `status_counts` of every visible profile


def network_summary(membership, organization, now=None):
    """Which networks the visible profiles are on, how many of each are at
    risk and renewable by `membership` (for "Try renewing all"), and how
    many have each status: one GROUP BY."""
    grouped = counted(summary_statement(manages_organization(membership)), membership, organization, Scope(),
                      now or utcnow())
    to_renew = defaultdict(int)
    counts = {status: 0 for status in URGENCY}
    for network_key, level, rank, count in grouped:
        status = STATUS_OF_URGENCY[rank]
        counts[status] += count
        if status in AT_RISK and may_renew(membership, level):
            to_renew[network_key] += count
    return NetworkSummary(present=frozenset(key for key, _, _, _ in grouped), to_renew=dict(to_renew), counts=counts)


@cache
def brand_names_statement():
    return (select(BrandProfile.profile_id, Brand.id, Brand.name)
            .join(Brand, Brand.id == BrandProfile.brand_id)
            .where(BrandProfile.profile_id.in_(bindparam("ids", expanding=True)))
            .order_by(Brand.name))


class BrandName(NamedTuple):
    """A brand as a list of profiles names it (no row to load for it)."""
    id: int
    name: str


def brands_by_profile(profile_ids):
    """{profile id: [BrandName, …] by name} for `profile_ids`."""
    if not profile_ids:
        return {}
    rows = []
    for start in range(0, len(profile_ids), IN_CHUNK):
        rows += columns_of(brand_names_statement(), {"ids": list(profile_ids[start:start + IN_CHUNK])})
    grouped = defaultdict(list)
    for profile_id, brand_id, name in rows:
        grouped[profile_id].append(BrandName(brand_id, name))
    return grouped
