"""Password hashing with Argon2id, at the cost named by the
`PASSWORD_HASH_PROFILE` setting (one of argon2-cffi's profiles)."""
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

# argon2-cffi's own default (RFC 9106, low memory: 64 MiB, 3 passes, 4 lanes).
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"

MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing stays cheap.
MAX_LENGTH = 1024


@lru_cache
def hasher(profile=DEFAULT_PROFILE):
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def _profile():
    return current_app.config["PASSWORD_HASH_PROFILE"] if has_app_context() else DEFAULT_PROFILE


def _hasher():
    return hasher(_profile())


def hash_password(password):
    return _hasher().hash(password)


def spend_verify_time(password):
    """As long as a real check: an unknown email answers no faster than a wrong password."""
    profile = _profile()
    try:
        hasher(profile).verify(_dummy_hash(profile), password)
    except (VerificationError, InvalidHashError):
        pass


@lru_cache
def _dummy_hash(profile):
    return hasher(profile).hash("not the password of anyone")


def verify_password(user, password):
    """Check `password`; upgrade the stored hash if its parameters are old."""
    if not user.password_hash:
        return False
    current = _hasher()
    try:
        current.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if current.check_needs_rehash(user.password_hash):
        user.password_hash = current.hash(password)
    return True
