"""Password hashing with Argon2id."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing stays cheap.
MAX_LENGTH = 1024


def hash_password(password):
    return _hasher.hash(password)


def spend_verify_time(password):
    """As long as a real check: an unknown email answers no faster than a wrong password."""
    try:
        _hasher.verify(_dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        pass


@lru_cache(maxsize=1)
def _dummy_hash():
    return _hasher.hash("not the password of anyone")


def verify_password(user, password):
    """Check `password`; upgrade the stored hash if its parameters are old."""
    if not user.password_hash:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True
