"""Small builders of domain rows for tests; each commits what it makes."""
from datetime import timedelta
from functools import lru_cache
from itertools import count

from portal.auth.passwords import hash_password
from portal.crypto import seal
from portal.db import utcnow
from portal.models import (
    Brand,
    BrandProfile,
    Credential,
    Membership,
    Organization,
    ProfileAccess,
    SocialProfile,
    User,
)

PASSWORD = "correct horse battery staple"
_ids = count(1)


@lru_cache
def _default_hash():
    return hash_password(PASSWORD)


def _save(session, row):
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def organization(session, name=None, **fields):
    return _save(session, Organization(name=name or f"Agency {next(_ids)}", **fields))


def user(session, email=None, password=PASSWORD, **fields):
    password_hash = _default_hash() if password == PASSWORD else hash_password(password)
    return _save(
        session,
        User(email=email or f"user{next(_ids)}@example.test", password_hash=password_hash, **fields),
    )


def member(session, org, role="member", email=None, can_manage_profiles=False, **fields):
    """A user who belongs to `org` with `role`."""
    person = user(session, email=email, **fields)
    _save(
        session,
        Membership(user_id=person.id, organization_id=org.id, role=role,
                   can_manage_profiles=can_manage_profiles),
    )
    return person


def brand(session, org, name=None):
    return _save(session, Brand(organization_id=org.id, name=name or f"Brand {next(_ids)}"))


def profile(session, org, network="facebook", name=None, brands=(), **fields):
    n = next(_ids)
    row = _save(
        session,
        SocialProfile(
            organization_id=org.id,
            network=network,
            external_id=fields.pop("external_id", f"ext-{n}"),
            name=name or f"Profile {n}",
            handle=fields.pop("handle", f"@profile{n}"),
            **fields,
        ),
    )
    for b in brands:
        session.add(BrandProfile(brand_id=b.id, profile_id=row.id))
    session.commit()
    return row


def credential(session, prof, access_token=None, refresh_token=None, expires_in=timedelta(days=30), **fields):
    """The current credential of `prof` (needs an app context, to seal tokens)."""
    if "expires_at" not in fields:
        fields["expires_at"] = utcnow() + expires_in if expires_in is not None else None
    return _save(
        session,
        Credential(
            profile_id=prof.id,
            sealed_access_token=seal(access_token or f"access-{next(_ids)}"),
            sealed_refresh_token=seal(refresh_token),
            **fields,
        ),
    )


def access(session, person, prof, level="admin"):
    return _save(session, ProfileAccess(user_id=person.id, profile_id=prof.id, level=level))
