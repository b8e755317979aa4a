"""Reading and changing an organization's members, access, brands and
settings. Views call these; each change writes an `AuditEvent` in the same
transaction, and the caller commits."""
from collections import Counter

from sqlalchemy import delete, func
from sqlmodel import select

from portal.audit import audit
from portal.db import get_session, utcnow
from portal.models import (
    Brand,
    BrandProfile,
    Invitation,
    Membership,
    NotificationPreference,
    ProfileAccess,
    Role,
    SocialProfile,
    User,
)
from portal.profiles import matching
from portal.versions import changed

ROLE_ORDER = {Role.OWNER: 0, Role.MANAGER: 1, Role.MEMBER: 2}


# Members and invitations ----------------------------------------------------

def members_of(organization):
    """(membership, user) pairs: Owners, then Managers, then Members, by name."""
    rows = get_session().exec(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization.id)
    ).all()
    return sorted(rows, key=lambda row: (ROLE_ORDER.get(row[0].role, 9), row[1].display_name.lower()))


def member_row(membership):
    return membership, get_session().get(User, membership.user_id)


def owner_count(organization, lock=False):
    """How many Owners `organization` has. `lock` holds their rows until the
    transaction ends, so two Owners demoting each other at the same moment
    cannot leave none (PostgreSQL; SQLite's writers are serialized anyway)."""
    query = select(Membership.id).where(
        Membership.organization_id == organization.id, Membership.role == Role.OWNER
    )
    if lock:
        query = query.with_for_update()
    return len(get_session().exec(query).all())


def pending_invitations(organization):
    return get_session().exec(
        select(Invitation)
        .where(
            Invitation.organization_id == organization.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    ).all()


def change_role(membership, user, new_role):
    old = membership.role
    membership.role = new_role
    get_session().add(membership)
    changed(get_session(), organization_id=membership.organization_id)
    audit("member.role_changed", email=user.email, old=old, new=new_role)


def set_manage_profiles(membership, user, allowed):
    membership.can_manage_profiles = allowed
    get_session().add(membership)
    changed(get_session(), organization_id=membership.organization_id)
    audit("member.manage_profiles", email=user.email, allowed=bool(allowed))


def remove_member(membership, user):
    """End a membership, with the person's access and preferences in this
    organization (a later invitation starts afresh)."""
    session = get_session()
    organization_id = membership.organization_id
    profile_ids = select(SocialProfile.id).where(SocialProfile.organization_id == organization_id)
    session.exec(
        delete(ProfileAccess).where(ProfileAccess.user_id == user.id, ProfileAccess.profile_id.in_(profile_ids))
    )
    session.exec(
        delete(NotificationPreference).where(
            NotificationPreference.user_id == user.id,
            NotificationPreference.organization_id == organization_id,
        )
    )
    session.delete(membership)
    changed(session, organization_id=organization_id)
    audit("member.removed", email=user.email, role=membership.role)


# Profile access --------------------------------------------------------------

def profile_count(organization):
    return get_session().exec(
        select(func.count()).select_from(SocialProfile).where(SocialProfile.organization_id == organization.id)
    ).one()


def profiles_matching(organization, text="", in_brand=None, out_of_brand=None):
    """A SELECT of the profiles of `organization` whose name or handle holds
    `text`, only those in `in_brand` or not in `out_of_brand`, by name."""
    query = matching(select(SocialProfile).where(SocialProfile.organization_id == organization.id), text)
    if in_brand is not None:
        query = query.where(SocialProfile.id.in_(
            select(BrandProfile.profile_id).where(BrandProfile.brand_id == in_brand.id)))
    if out_of_brand is not None:
        query = query.where(SocialProfile.id.not_in(
            select(BrandProfile.profile_id).where(BrandProfile.brand_id == out_of_brand.id)))
    return query.order_by(SocialProfile.name, SocialProfile.id)


def access_levels(user_id, organization):
    """{profile id: level} of a user on the profiles of `organization`."""
    rows = get_session().exec(
        select(ProfileAccess)
        .join(SocialProfile, SocialProfile.id == ProfileAccess.profile_id)
        .where(ProfileAccess.user_id == user_id, SocialProfile.organization_id == organization.id)
    ).all()
    return {row.profile_id: row.level for row in rows}


def access_counts(organization):
    """{user id: Counter of levels} over the profiles of `organization`."""
    rows = get_session().exec(
        select(ProfileAccess.user_id, ProfileAccess.level)
        .join(SocialProfile, SocialProfile.id == ProfileAccess.profile_id)
        .where(SocialProfile.organization_id == organization.id)
    ).all()
    counts = {}
    for user_id, level in rows:
        counts.setdefault(user_id, Counter())[level] += 1
    return counts


def set_access(user, profile, level):
    """Give `user` `level` on `profile` (None: no access). True if it changed."""
    session = get_session()
    row = session.exec(
        select(ProfileAccess).where(ProfileAccess.user_id == user.id, ProfileAccess.profile_id == profile.id)
    ).first()
    old = row.level if row else None
    if old == (level or None):
        return False
    if not level:
        session.delete(row)
    elif row is None:
        session.add(ProfileAccess(user_id=user.id, profile_id=profile.id, level=level))
    else:
        row.level = level
        session.add(row)
    changed(session, organization_id=profile.organization_id)
    audit("access.changed", profile=profile, email=user.email, old=old or "", new=level or "")
    return True


# Brands ----------------------------------------------------------------------

def brands_with_counts(organization):
    """(brand, number of profiles enabled in it), by name."""
    return get_session().exec(
        select(Brand, func.count(BrandProfile.profile_id))
        .outerjoin(BrandProfile, BrandProfile.brand_id == Brand.id)
        .where(Brand.organization_id == organization.id)
        .group_by(Brand.id)
        .order_by(Brand.name)
    ).all()


def brand_named(organization, name, other_than=None):
    """The brand of `organization` called `name` (case-insensitive), if any."""
    query = select(Brand).where(
        Brand.organization_id == organization.id, func.lower(Brand.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(Brand.id != other_than.id)
    return get_session().exec(query).first()


def create_brand(organization, name):
    """A new brand of `organization` called `name`, in the activity log. The caller commits."""
    session = get_session()
    brand = Brand(organization_id=organization.id, name=name)
    session.add(brand)
    session.flush()
    changed(session, organization_id=organization.id)
    audit("brand.created", brand=brand.name)
    return brand


def profile_ids_in(brand, among=None):
    """The ids of the profiles enabled in `brand`, only those of `among` if given."""
    query = select(BrandProfile.profile_id).where(BrandProfile.brand_id == brand.id)
    if among is not None:
        query = query.where(BrandProfile.profile_id.in_(among))
    return set(get_session().exec(query).all())


def set_in_brand(brand, profile, enabled):
    """Enable or disable `profile` in `brand`. True if it changed."""
    session = get_session()
    row = session.get(BrandProfile, (brand.id, profile.id))
    if (row is not None) == enabled:
        return False
    if enabled:
        session.add(BrandProfile(brand_id=brand.id, profile_id=profile.id))
    else:
        session.delete(row)
    changed(session, organization_id=brand.organization_id)
    audit("brand.profile_enabled" if enabled else "brand.profile_disabled", profile=profile, brand=brand.name)
    return True


def delete_brand(brand):
    """Delete a brand and its links to profiles; the profiles stay."""
    session = get_session()
    session.exec(delete(BrandProfile).where(BrandProfile.brand_id == brand.id))
    session.delete(brand)
    changed(session, organization_id=brand.organization_id)
    audit("brand.deleted", brand=brand.name)
