"""Connecting social profiles: a network's consent, started like a renewal's
(state, PKCE, one redirect URI per network), the profiles it covers kept
while the person picks (`picks`), and the chosen ones made profiles of the
agency with their credentials and native roles.

Profiles the consent covers that the agency already has are renewed when it
comes back, as any consent renews what it covers (`consent.renew_covered`).
"""
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from portal.audit import audit_in
from portal.connect import picks
from portal.db import get_session
from portal.models import (
    AccessLevel,
    Brand,
    BrandProfile,
    CanRenew,
    ProfileAccess,
    SocialProfile,
)
from portal.numbers import whole_number
from portal.permissions import manages_organization
from portal.renewal import consent
from portal.renewal.credentials import record_native_role, store_grant
from portal.settings.service import brand_named, create_brand
from portal.text import one_line, profile_name

BRAND_NAME_LENGTH = 120


@dataclass
class Outcome:
    """How a consent to connect came back: a pick to choose from, or why not."""

    ok: bool
    message_key: str
    pick_id: str | None = None
    renewed: list = field(default_factory=list)


def start(adapter, network_key, organization_id, next_url, user_id=None, invitation_id=None):
    """The network's consent URL for connecting the profiles it will cover."""
    return consent.begin(adapter, network_key, organization_id, next_url, user_id=user_id,
                         purpose=consent.CONNECT, invitation_id=invitation_id)


def finish(adapter, record, args):
    """Take the consent's answer: renew the profiles of the agency it covers
    and keep the others to pick from (a pick of every profile it covers)."""
    grant, failure = consent.exchange(adapter, record, args)
    if failure:
        return Outcome(False, failure)
    if not grant.profiles:
        return Outcome(False, "no_profiles")
    db = get_session()
    renewed = consent.renew_covered(db, grant, record.organization_id, record.user_id)
    db.commit()
    pick = picks.Pick(
        network=record.network, organization_id=record.organization_id,
        candidates=[picks.Candidate.of(granted) for granted in grant.profiles if granted.network == record.network],
        person_name=grant.person_name, user_id=record.user_id, nonce=record.nonce,
        invitation_id=record.invitation_id,
    )
    return Outcome(True, "chosen", pick_id=picks.keep(pick), renewed=renewed)


def connected(organization_id, network_key, external_ids):
    """{external id: profile id} of those of `external_ids` the agency already has."""
    if not external_ids:
        return {}
    return dict(get_session().exec(
        select(SocialProfile.external_id, SocialProfile.id).where(
            SocialProfile.organization_id == organization_id, SocialProfile.network == network_key,
            SocialProfile.external_id.in_(list(external_ids)))
    ).all())


def selectable(candidate, already):
    """Whether a candidate may be chosen: not connected yet, and the account
    may keep it alive (a profile without those rights could not be renewed)."""
    return candidate.external_id not in already and candidate.can_renew != CanRenew.NO


def matching(pick, text):
    """The candidates whose name or handle holds `text` (every one for none)."""
    text = text.casefold()
    return [c for c in pick.candidates if not text or text in c.name.casefold() or text in c.handle.casefold()]


def brand_of(organization, choice, new_name):
    """The brand chosen: None for none, an existing brand of the agency by
    id, or by name for a new one (the brand of that name whatever its case,
    if it exists, as Settings → Brands reads names). Raises LookupError for
    an id that is not the agency's."""
    if not choice:
        return None
    if choice == "new":
        name = one_line(new_name)
        return brand_named(organization, name) or create_brand(organization, name)
    brand_id = whole_number(choice)
    if brand_id is None:
        raise LookupError(choice)
    found = get_session().exec(
        select(Brand).where(Brand.organization_id == organization.id, Brand.id == brand_id)).first()
    if found is None:
        raise LookupError(choice)
    return found


def connect(pick, brand, membership=None, client=None):
    """Make the chosen candidates profiles of the agency, each with its
    credential and (for a person of the agency) their native role, in
    `brand`; a Member who connects a profile becomes its Admin. `client`:
    the address of the client who connected them through an invitation.
    Returns the profiles made; those connected meanwhile are left as they
    are. Commits."""
    db = get_session()
    already = connected(pick.organization_id, pick.network, pick.selected)
    made = []
    for external_id in pick.selected:
        candidate = pick.candidate(external_id)
        if candidate is None or not selectable(candidate, already):
            continue
        try:
            with db.begin_nested():
                made.append(_make_profile(db, pick, candidate, brand, membership, client))
        except IntegrityError:
            continue  # connected by someone else meanwhile
    db.commit()
    return made


def _make_profile(db, pick, candidate, brand, membership, client):
    name, handle = profile_name(candidate.name, candidate.handle, candidate.external_id)
    profile = SocialProfile(organization_id=pick.organization_id, network=pick.network,
                            external_id=candidate.external_id, name=name, handle=handle)
    db.add(profile)
    db.flush()
    if brand is not None:
        db.add(BrandProfile(brand_id=brand.id, profile_id=profile.id))
    store_grant(db, profile, candidate.token_set(), granted_by_id=pick.user_id)
    if pick.user_id is not None:
        record_native_role(db, profile.id, pick.user_id, candidate.native_role, candidate.can_renew)
        if not manages_organization(membership):
            db.add(ProfileAccess(user_id=pick.user_id, profile_id=profile.id, level=AccessLevel.ADMIN))
    db.flush()
    audit_in(db, "profile.connected", organization_id=pick.organization_id, profile=profile, user_id=pick.user_id,
             actor_name=client, brand=brand.name if brand is not None else None)
    return profile
