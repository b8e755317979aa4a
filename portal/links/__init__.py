"""Single-use links: the URL carries a random secret, the database its hash."""
import hashlib
import hmac
import secrets


def new_secret():
    """A fresh URL-safe secret and the hash to store for it."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(secret, stored_hash):
    return hmac.compare_digest(hash_secret(secret), stored_hash)
