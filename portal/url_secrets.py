"""Secrets a URL carries (renewal links, invitations, password resets, the
`state` of a consent): random, and stored only as their hash."""
import hashlib
import secrets


def new_secret():
    """A fresh URL-safe secret and the hash to store for it."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()
