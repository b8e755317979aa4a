"""The profiles an API key reaches: those of its organization, and of its
brand when it is limited to one; filtered and paged in the database."""
import base64
import binascii
from datetime import timedelta

from sqlalchemy import and_, exists, or_
from sqlmodel import select

from portal.api.rules import ApiStatus
from portal.models import BrandProfile, Credential, CredentialState, SocialProfile
from portal.profiles import matching, urgency_sql
from portal.status import URGENCY, Status


def in_brand(brand_id):
    return exists().where(BrandProfile.profile_id == SocialProfile.id, BrandProfile.brand_id == brand_id)


def reachable(key, *columns):
    """A SELECT of `columns` over the profiles `key` reaches, joined to their
    current credential."""
    query = (
        select(*columns).select_from(SocialProfile)
        .outerjoin(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .where(SocialProfile.organization_id == key.organization_id)
    )
    if key.brand_id is not None:
        query = query.where(in_brand(key.brand_id))
    return query


def with_status(query, status, now, window_days):
    """`query` narrowed to profiles whose token is in `status` (an ApiStatus)."""
    invalid = Credential.status == CredentialState.INVALID
    if status == ApiStatus.INVALID:
        return query.where(invalid)
    urgency = urgency_sql(now, window_days)
    if status == ApiStatus.EXPIRED:
        return query.where(urgency == URGENCY[Status.EXPIRED], or_(Credential.id.is_(None), ~invalid))
    return query.where(urgency == URGENCY[Status(str(status))])


def encode_cursor(profile_id):
    return base64.urlsafe_b64encode(f"p{profile_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The profile id after which the next page starts; None if `cursor` is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("p") or not text[1:].isdigit() or len(text) > 20:
        return None
    return int(text[1:])


def profiles_page(session, key, organization, now, network=None, brand_id=None, status=None, text="",
                  after=None, limit=50):
    """(rows of (profile, credential), whether more follow): the profiles in
    id order from after `after`, one more read than shown to know."""
    query = reachable(key, SocialProfile, Credential)
    if network is not None:
        query = query.where(SocialProfile.network == network)
    if brand_id is not None:
        query = query.where(in_brand(brand_id))
    if status is not None:
        query = with_status(query, status, now, organization.expiry_window_days)
    query = matching(query, text or "")
    if after is not None:
        query = query.where(SocialProfile.id > after)
    rows = session.exec(query.order_by(SocialProfile.id).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit


def profile_with_credential(session, key, profile_id):
    """(profile, current credential or None) if `key` reaches the profile, else None."""
    return session.exec(reachable(key, SocialProfile, Credential).where(SocialProfile.id == profile_id)).first()


def healthy_candidates(session, key, organization, network, now, min_valid_seconds, brand_id=None, exclude=()):
    """Ids of the profiles of `network` that `key` reaches whose token is
    neither dead nor expiring (valid, or with no known end and not failing
    its last check), and whose access token lives at least `min_valid_seconds`
    or can be refreshed, in id order."""
    urgency = urgency_sql(now, organization.expiry_window_days)
    refreshable = Credential.sealed_refresh_token.is_not(None)
    query = reachable(key, SocialProfile.id).where(
        SocialProfile.network == network,
        Credential.status == CredentialState.ACTIVE,
        urgency.in_([URGENCY[Status.VALID], URGENCY[Status.NO_EXPIRY]]),
        or_(Credential.expires_at.is_(None), refreshable,
            Credential.expires_at > now + timedelta(seconds=min_valid_seconds)),
    )
    if brand_id is not None:
        query = query.where(in_brand(brand_id))
    if exclude:
        query = query.where(SocialProfile.id.not_in(list(exclude)))
    return list(session.exec(query.order_by(SocialProfile.id)).all())

