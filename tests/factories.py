"""Builders of domain rows for tests. Each call commits once, whatever it
builds: the rows of an `agency` are written in one transaction."""
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache, wraps
from itertools import count

from portal.auth.passwords import hasher
from portal.crypto import cipher
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
from portal.versions import changed

PASSWORD = "correct horse battery staple"
# The tests' apps hash passwords with this profile (set in `tests/conftest.py`):
# the cheapest Argon2id, so that a sign-in costs no more than a page.
PASSWORD_HASH_PROFILE = "CHEAPEST"
_ids = count(1)


@lru_cache
def _default_hash():
    return hasher(PASSWORD_HASH_PROFILE).hash(PASSWORD)


def builder(build):
    """Commit when the outermost builder returns: rows made by a builder that
    another one calls are flushed (they get their ids) and committed with it.
    A new transaction is then begun (SQLite reads nothing until asked), so
    that the test's `session.rollback()` expires every row it holds and the
    next read sees what the app committed since."""

    @wraps(build)
    def wrapper(session, *args, **kwargs):
        outermost = not session.info.get("building")
        session.info["building"] = True
        try:
            made = build(session, *args, **kwargs)
        finally:
            session.info["building"] = not outermost
        if outermost:
            session.commit()
            session.connection()
        return made

    return wrapper


def _add(session, row):
    session.add(row)
    session.flush()
    # As the app's own writes do: what the organization's pages show changed (`portal.versions`).
    changed(session, organization_id=getattr(row, "organization_id", None), profile_id=getattr(row, "profile_id", None))
    return row


def _seal(session, token):
    """Sealed with the key of the test's app (kept on the `session` fixture), or of the app in context."""
    return (session.info.get("cipher") or cipher()).seal(token)


@builder
def organization(session, name=None, **fields):
    return _add(session, Organization(name=name or f"Agency {next(_ids)}", **fields))


@builder
def user(session, email=None, password=PASSWORD, **fields):
    password_hash = _default_hash() if password == PASSWORD else hasher(PASSWORD_HASH_PROFILE).hash(password)
    return _add(
        session,
        User(email=email or f"user{next(_ids)}@example.test", password_hash=password_hash, **fields),
    )


@builder
def member(session, org, role="member", email=None, can_manage_profiles=False, **fields):
    """A user who belongs to `org` with `role`."""
    person = user(session, email=email, **fields)
    _add(
        session,
        Membership(user_id=person.id, organization_id=org.id, role=role,
                   can_manage_profiles=can_manage_profiles),
    )
    return person


@builder
def brand(session, org, name=None):
    return _add(session, Brand(organization_id=org.id, name=name or f"Brand {next(_ids)}"))


@builder
def profile(session, org, network="facebook", name=None, brands=(), **fields):
    n = next(_ids)
    row = _add(
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
        _add(session, BrandProfile(brand_id=b.id, profile_id=row.id))
    return row


@builder
def credential(session, prof, access_token=None, refresh_token=None, expires_in=timedelta(days=30), **fields):
    """The current credential of `prof`."""
    if "expires_at" not in fields:
        fields["expires_at"] = utcnow() + expires_in if expires_in is not None else None
    return _add(
        session,
        Credential(
            profile_id=prof.id,
            sealed_access_token=_seal(session, access_token or f"access-{next(_ids)}"),
            sealed_refresh_token=_seal(session, refresh_token),
            **fields,
        ),
    )


@builder
def access(session, person, prof, level="admin"):
    return _add(session, ProfileAccess(user_id=person.id, profile_id=prof.id, level=level))


@dataclass
class Agency:
    org: Organization
    people: dict = field(default_factory=dict)  # key -> User
    brands: dict = field(default_factory=dict)  # key -> Brand
    profiles: dict = field(default_factory=dict)  # key -> SocialProfile
    credentials: dict = field(default_factory=dict)  # key of the profile -> Credential

    @property
    def owner(self):
        return self.people["owner"]


@builder
def agency(session, name="Northwind Agency", people=None, brands=(), profiles=None, rights=(), **org_fields):
    """An organization with its people, brands and profiles, in one commit.

    `people`: key -> role, or key -> fields of `member` (`role` among them);
    the email is `<key>@example.test` unless given. Default: one Owner.
    `brands`: keys, or key -> name. `profiles`: key -> fields of `profile`,
    with `brands` as keys and `credential` as fields of `credential` (None:
    no credential; `granted_by`: a person's key). `rights`: (person key,
    profile key, level) of `access`.
    """
    made = Agency(org=organization(session, name=name, **org_fields))
    for key, spec in ({"owner": "owner"} if people is None else people).items():
        spec = {"role": spec} if isinstance(spec, str) else dict(spec)
        spec.setdefault("email", f"{key}@example.test")
        made.people[key] = member(session, made.org, **spec)
    for key, brand_name in (brands.items() if isinstance(brands, dict) else ((b, b) for b in brands)):
        made.brands[key] = brand(session, made.org, brand_name)
    for key, spec in (profiles or {}).items():
        spec = dict(spec)
        credential_fields = spec.pop("credential", None)
        spec["brands"] = [made.brands[b] for b in spec.get("brands", ())]
        made.profiles[key] = profile(session, made.org, **spec)
        if credential_fields is not None:
            credential_fields = dict(credential_fields)
            if "granted_by" in credential_fields:
                credential_fields["granted_by_id"] = made.people[credential_fields.pop("granted_by")].id
            made.credentials[key] = credential(session, made.profiles[key], **credential_fields)
    for person, prof, level in rights:
        access(session, made.people[person], made.profiles[prof], level)
    return made
