"""Secrets a URL carries (renewal links, invitations, password resets, the
`state` of a consent): random, and stored only as their hash. The ids of
server-side sessions and of picks are looked up by their hash too."""
import hashlib
import secrets

# Longer than any secret made here, shorter than anything worth hashing.
MAX_LENGTH = 100


def new_secret():
    """A fresh URL-safe secret and the hash to store for it."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def plausible(secret):
    """False for what no secret of ours can be (nothing, or too long): not worth looking up."""
    return bool(secret) and len(secret) <= MAX_LENGTH
