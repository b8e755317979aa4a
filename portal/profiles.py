"""Profiles as a user sees them: only those they may see, with the current
credential, their access level, brands and token status, in few queries."""
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import select

from portal.db import get_session, utcnow
from portal.models import Brand, BrandProfile, Credential, ProfileAccess, SocialProfile
from portal.permissions import manages_organization, may_renew
from portal.status import token_status


@dataclass
class ProfileRow:
    profile: SocialProfile
    credential: Credential | None
    access_level: str | None
    brands: list
    status: object  # portal.status.TokenStatus
    renew: object  # portal.permissions.Decision


def visible_profiles(membership, organization, brand=None, now=None):
    """Every profile of `organization` that `membership` may see, in `brand`
    if given, most urgent first."""
    session = get_session()
    now = now or utcnow()
    query = (
        select(SocialProfile, Credential, ProfileAccess.level)
        .outerjoin(
            Credential,
            and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)),
        )
        .outerjoin(
            ProfileAccess,
            and_(ProfileAccess.profile_id == SocialProfile.id, ProfileAccess.user_id == membership.user_id),
        )
        .where(SocialProfile.organization_id == organization.id)
    )
    if not manages_organization(membership):
        query = query.where(ProfileAccess.id.is_not(None))
    if brand is not None:
        query = query.join(BrandProfile, BrandProfile.profile_id == SocialProfile.id).where(
            BrandProfile.brand_id == brand.id
        )
    results = session.exec(query).all()
    brands = brands_by_profile([profile.id for profile, _, _ in results])
    rows = [
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
    rows.sort(key=lambda row: (row.status.urgency, row.profile.name.lower()))
    return rows


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
