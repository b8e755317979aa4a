"""The profiles an API key reaches: those of its organization, and of its
brand when it is limited to one; filtered and paged in the database."""
import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, exists, or_
from sqlmodel import select

from portal.api.rules import ApiStatus
from portal.models import BrandProfile, Credential, CredentialState, SocialProfile
from portal.db import UTCDateTime
from portal.numbers import whole_number
from portal.profiles import effective_expiry_sql, matching, urgency_sql
from portal.status import URGENCY, Status


def in_brand(brand_id):
    return exists().where(BrandProfile.profile_id == SocialProfile.id, BrandProfile.brand_id == brand_id)


def reachable(key, *columns):
    """A SELECT of `columns` over the profiles `key` reaches, joined to their
    current credential."""
    return within(key.organization_id, key.brand_id, *columns)


def within(organization_id, brand_id, *columns):
    """A SELECT of `columns` over the profiles of an organization (and of a
    brand, unless None), joined to their current credential."""
    query = (
        select(*columns).select_from(SocialProfile)
        .outerjoin(Credential, and_(Credential.profile_id == SocialProfile.id, Credential.superseded_at.is_(None)))
        .where(SocialProfile.organization_id == organization_id)
    )
    if brand_id is not None:
        query = query.where(in_brand(brand_id))
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
    return whole_number(text[1:]) if text.startswith("p") else None


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


@dataclass(frozen=True)
class StoredProfile:
    id: int
    network: str
    external_id: str
    name: str
    handle: str


@dataclass(frozen=True)
class StoredToken:
    """What the token routes read of a current credential: its columns, and
    the properties of `Credential` the status rule and the renewal rules read."""

    sealed_access_token: str
    token_type: str
    scopes: str
    expires_at: datetime | None
    refresh_expires_at: datetime | None
    data_access_expires_at: datetime | None
    last_check_ok: bool | None
    status: str
    invalid_reason: str | None
    invalidated_at: datetime | None
    version: int
    can_refresh_silently: bool
    superseded_at: None = None

    @property
    def is_invalid(self):
        return self.status == CredentialState.INVALID


PROFILE_COLUMNS = (SocialProfile.id, SocialProfile.network, SocialProfile.external_id, SocialProfile.name,
                   SocialProfile.handle)
TOKEN_COLUMNS = (Credential.sealed_access_token, Credential.token_type, Credential.scopes, Credential.expires_at,
                 Credential.refresh_expires_at, Credential.data_access_expires_at, Credential.last_check_ok,
                 Credential.status, Credential.invalid_reason, Credential.invalidated_at, Credential.version,
                 Credential.sealed_refresh_token.is_not(None).label("can_refresh_silently"))


@cache
def token_statement(brand_restricted):
    # Built once per kind of key, read as plain rows: what nearly every call of the token routes runs.
    brand = bindparam("brand") if brand_restricted else None
    return within(bindparam("organization"), brand, *PROFILE_COLUMNS, Credential.id.label("credential_id"),
                  *TOKEN_COLUMNS).where(SocialProfile.id == bindparam("profile"))


def stored_token(session, key, profile_id):
    """(StoredProfile, StoredToken or None) if `key` reaches the profile, else None: one query."""
    row = session.connection().execute(
        token_statement(key.brand_id is not None),
        {"organization": key.organization_id, "brand": key.brand_id, "profile": profile_id},
    ).first()
    if row is None:
        return None
    profile = StoredProfile(*row[:len(PROFILE_COLUMNS)])
    if row.credential_id is None:
        return profile, None
    return profile, StoredToken(*row[len(PROFILE_COLUMNS) + 1:])


@cache
def candidates_statement(brand_restricted, in_one_brand):
    """The profiles of a network whose token is neither dead nor expiring: valid
    (an effective expiry beyond the window), or with no known end and not
    failing its last check (`portal.status.token_status`), and whose access
    token lives long enough or can be refreshed. Built once per kind, its
    moments given as values: the network fallback runs it on every call."""
    expiry = effective_expiry_sql()
    healthy = or_(and_(expiry.is_(None), or_(Credential.last_check_ok.is_(None), Credential.last_check_ok)),
                  expiry > bindparam("horizon", type_=UTCDateTime))
    lives = or_(Credential.expires_at.is_(None), Credential.sealed_refresh_token.is_not(None),
                Credential.expires_at > bindparam("soon", type_=UTCDateTime))
    brand = bindparam("brand") if brand_restricted else None
    query = within(bindparam("organization"), brand, SocialProfile.id).where(
        SocialProfile.network == bindparam("network"), Credential.status == CredentialState.ACTIVE, healthy, lives,
        SocialProfile.id.not_in(bindparam("exclude", expanding=True)))
    if in_one_brand:
        query = query.where(in_brand(bindparam("in_brand")))
    return query.order_by(SocialProfile.id)


def healthy_candidates(session, key, organization, network, now, min_valid_seconds, brand_id=None, exclude=()):
    """Ids of the profiles of `network` that `key` reaches (in `brand_id` if
    given, none of `exclude`) whose token may be handed out, in id order."""
    statement = candidates_statement(key.brand_id is not None, brand_id is not None)
    return list(session.connection().execute(statement, {
        "organization": key.organization_id, "brand": key.brand_id, "in_brand": brand_id, "network": network,
        "horizon": now + timedelta(days=organization.expiry_window_days),
        "soon": now + timedelta(seconds=min_valid_seconds), "exclude": list(exclude),
    }).scalars())
