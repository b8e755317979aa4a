"""Profiles as a user sees them: only those they may see, with the current
credential, their access level, brands and token status, in few queries.

The pages filter, count, sort and page in the database: `urgency_sql` is
`portal.status.token_status` written as one SQL expression (a test holds the
two to each other on every boundary), so only the rows shown are built.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, false, func, literal, or_, union_all
from sqlmodel import select

from portal.db import get_session, utcnow
from portal.models import (AccessLevel, Brand, BrandProfile, Credential, CredentialState, ProfileAccess,
                           SocialProfile)
from portal.permissions import manages_organization, may_renew
from portal.status import URGENCY, Status, token_status

AT_RISK = (Status.EXPIRED, Status.EXPIRING)
STATUS_OF_URGENCY = {rank: status for status, rank in URGENCY.items()}


@dataclass
class ProfileRow:
    profile: SocialProfile
    credential: Credential | None
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
    data_access = Credential.data_access_expires_at
    return case(
        (data_access.is_(None), end),
        (or_(end.is_(None), data_access < end), data_access),
        else_=end,
    )


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
    expiry = effective_expiry_sql()
    expired, expiring = URGENCY[Status.EXPIRED], URGENCY[Status.EXPIRING]
    return case(
        (Credential.id.is_(None), expired),
        (Credential.status == CredentialState.INVALID, expired),
        (expiry.is_(None), case((Credential.last_check_ok.is_(False), expired), else_=URGENCY[Status.NO_EXPIRY])),
        (expiry <= now, expired),
        (expiry <= now + timedelta(days=window_days), expiring),
        else_=URGENCY[Status.VALID],
    )


def matching(query, text):
    """`query` narrowed to the profiles whose name or handle holds `text`
    (case aside, a leading "@" ignored, `%` and `_` taken literally)."""
    needle = text.lstrip("@")
    if not needle:
        return query
    return query.where(or_(SocialProfile.name.icontains(needle, autoescape=True),
                           SocialProfile.handle.icontains(needle, autoescape=True)))


def visible(membership, organization, *columns, scope=Scope(), now=None):
    """A SELECT of `columns` over the profiles of `organization` that
    `membership` may see, joined to their current credential and the
    member's access, narrowed to `scope`."""
    query = (
        select(*columns)
        .select_from(SocialProfile)
        .outerjoin(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .outerjoin(ProfileAccess,
                   and_(ProfileAccess.profile_id == SocialProfile.id, ProfileAccess.user_id == membership.user_id))
        .where(SocialProfile.organization_id == organization.id)
    )
    if not manages_organization(membership):
        query = query.where(ProfileAccess.id.is_not(None))
    if scope.brand_id is not None:
        query = query.where(SocialProfile.id.in_(
            select(BrandProfile.profile_id).where(BrandProfile.brand_id == scope.brand_id)))
    if scope.network is not None:
        query = query.where(SocialProfile.network == scope.network)
    query = matching(query, scope.text)
    if scope.statuses:
        urgency = urgency_sql(now or utcnow(), organization.expiry_window_days)
        query = query.where(urgency.in_([URGENCY[status] for status in scope.statuses]))
    if scope.ids is not None:
        query = query.where(SocialProfile.id.in_(scope.ids))
    return query


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
    most urgent first, `limit` of them from `offset`."""
    now = now or utcnow()
    expiry = shown_expiry_sql(now)
    query = visible(membership, organization, SocialProfile, Credential, ProfileAccess.level,
                    scope=scope, now=now).order_by(
        urgency_sql(now, organization.expiry_window_days), expiry.is_(None), expiry,
        func.lower(SocialProfile.name), SocialProfile.id,
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    results = get_session().exec(query).all()
    brands = brands_by_profile([profile.id for profile, _, _ in results])
    return [
        ProfileRow(
            profile=profile,
            credential=credential,
            access_level=level,
            brands=brands.get(profile.id, []),
            status=token_status(credential, now, organization.expiry_window_days),
            renew=may_renew(membership, level),
        )
        for profile, credential, level in results
    ]


def status_counts(membership, organization, scope=Scope(), now=None):
    """{Status: how many of the visible profiles in `scope` have it}, every status present."""
    urgency = urgency_sql(now or utcnow(), organization.expiry_window_days).label("urgency")
    counted = get_session().exec(
        visible(membership, organization, urgency, func.count(), scope=scope).group_by(urgency)
    ).all()
    counts = {status: 0 for status in URGENCY}
    for rank, count in counted:
        counts[STATUS_OF_URGENCY[rank]] = count
    return counts


def next_status_change(membership, organization, now):
    """The first moment after `now` when a visible profile's status changes
    with time alone: a token entering the expiry window or expiring. Counts
    and lists of statuses hold until then (None: until something happens)."""
    expiry = effective_expiry_sql()
    horizon = now + timedelta(days=organization.expiry_window_days)
    expires, enters_window = get_session().exec(
        visible(membership, organization,
                func.min(case((expiry > now, expiry))), func.min(case((expiry > horizon, expiry))))
        .where(Credential.status != CredentialState.INVALID)
    ).one()
    moments = [expires, enters_window and enters_window - timedelta(days=organization.expiry_window_days)]
    return min((moment for moment in moments if moment is not None), default=None)


def next_time_change(organization, now):
    """The moment from which something the lists of `organization`'s profiles
    show changes with time alone, whoever looks: a token in the expiry window
    losing a day ("3 days left") or expiring, or a token entering the window
    (None: nothing will). It stays the same until that moment has passed, so
    it stands in the pages' ETags (`portal.web.conditional`)."""
    expiry = effective_expiry_sql()
    window = timedelta(days=organization.expiry_window_days)
    current = (
        select(expiry)
        .select_from(SocialProfile)
        .join(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .where(SocialProfile.organization_id == organization.id, Credential.status != CredentialState.INVALID)
    )
    within = current.where(expiry > now, expiry <= now + window)
    beyond = current.with_only_columns(func.min(expiry)).where(expiry > now + window)
    moments = []
    for (end,) in get_session().exec(union_all(within, beyond)).all():
        if end is None:
            continue
        if end > now + window:
            moments.append(end - window)  # enters the window
        else:  # its whole days left go down one at each of these moments, the last when it expires
            moments.append(end - timedelta(days=(end - now) // timedelta(days=1)))
    return min(moments, default=None)


@dataclass(frozen=True)
class NetworkSummary:
    present: frozenset  # the networks of the visible profiles
    to_renew: dict  # {network: profiles at risk that the member may renew}; networks with none left out


def network_summary(membership, organization, now=None):
    """Which networks the visible profiles are on, and how many of each are
    at risk and renewable by `membership` (for "Try renewing all")."""
    urgency = urgency_sql(now or utcnow(), organization.expiry_window_days)
    at_risk = case((urgency.in_([URGENCY[status] for status in AT_RISK]), literal(1)), else_=literal(0))
    grouped = get_session().exec(
        visible(membership, organization, SocialProfile.network, ProfileAccess.level, func.sum(at_risk))
        .group_by(SocialProfile.network, ProfileAccess.level)
    ).all()
    to_renew = defaultdict(int)
    for network_key, level, count in grouped:
        if count and may_renew(membership, level):
            to_renew[network_key] += count
    return NetworkSummary(present=frozenset(key for key, _, _ in grouped), to_renew=dict(to_renew))


def brands_by_profile(profile_ids):
    if not profile_ids:
        return {}
    pairs = get_session().exec(
        select(BrandProfile.profile_id, Brand)
        .join(Brand, Brand.id == BrandProfile.brand_id)
        .where(BrandProfile.profile_id.in_(profile_ids))
        .order_by(Brand.name)
    ).all()
    grouped = defaultdict(list)
    for profile_id, brand in pairs:
        grouped[profile_id].append(brand)
    return grouped
