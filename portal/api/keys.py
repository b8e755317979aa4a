"""API keys in the database: made, found by their secret, listed, revoked,
and their last use written down.

A key's secret is 256 random bits behind a recognisable prefix; the row
keeps only its HMAC-SHA256 under the app's SECRET_KEY. A fast keyed hash is
right for a secret this long (nothing to guess by brute force, unlike a
password), and a copy of the database alone cannot check guesses. Changing
SECRET_KEY therefore ends every key.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, or_, update
from sqlmodel import select

from portal.api.rules import KEY_PREFIX, LAST_USE_EVERY, SHOWN_PREFIX_LENGTH
from portal.db import utcnow
from portal.models import ApiKey, Brand, Organization

# Longer than any key we make, shorter than anything worth hashing.
MAX_SECRET_LENGTH = 100


def hash_key(secret):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def create(session, organization_id, name, scopes, brand_id=None, expires_at=None, created_by_id=None):
    """A new key; returns (secret, key). The secret is shown once and kept
    nowhere. The caller commits."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(organization_id=organization_id, name=name, prefix=secret[:SHOWN_PREFIX_LENGTH],
                 secret_hash=hash_key(secret), scopes=" ".join(scopes), brand_id=brand_id,
                 expires_at=expires_at, created_by_id=created_by_id)
    session.add(key)
    session.flush()
    return secret, key


@dataclass(frozen=True)
class Tenant:
    """The organization of a key, as much of it as the API reads."""

    id: int
    name: str
    expiry_window_days: int


@cache
def by_hash():
    # Built once, read as plain rows: every request of the API runs it.
    return (
        select(ApiKey.id, ApiKey.organization_id, ApiKey.name, ApiKey.prefix, ApiKey.secret_hash, ApiKey.scopes,
               ApiKey.brand_id, ApiKey.expires_at, ApiKey.revoked_at, ApiKey.last_used_at,
               Organization.name.label("organization_name"), Organization.expiry_window_days)
        .join(Organization, Organization.id == ApiKey.organization_id)
        .where(ApiKey.secret_hash == bindparam("digest"))
    )


def find(session, secret):
    """(key, its organization) of `secret`, or None: a key of any state
    (revoked, expired), for the caller to judge. The key is a row of
    `by_hash()`'s columns."""
    if not secret or len(secret) > MAX_SECRET_LENGTH or not secret.startswith(KEY_PREFIX):
        return None
    digest = hash_key(secret)
    row = session.connection().execute(by_hash(), {"digest": digest}).first()
    # The index found it by equality; the comparison that decides is constant-time.
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        return None
    return row, Tenant(row.organization_id, row.organization_name, row.expiry_window_days)


def keys_of(session, organization_id):
    """The organization's keys with their brand's name (or None), newest first."""
    return session.exec(
        select(ApiKey, Brand.name).outerjoin(Brand, Brand.id == ApiKey.brand_id)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


def revoke(session, key, now=None):
    """Revoke `key`; False if it was revoked already. The caller commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now or utcnow()
    session.add(key)
    return True


def record_use(session, key_id, address, now=None):
    """Write the key's last use unless another request did within the last
    minute (a conditional update: requests racing write once). True if this
    one wrote it. The caller commits."""
    now = now or utcnow()
    result = session.exec(
        update(ApiKey)
        .where(ApiKey.id == key_id,
               or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USE_EVERY))
        .values(last_used_at=now, last_used_address=(address or "")[:45] or None)
    )
    return result.rowcount == 1
