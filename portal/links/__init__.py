"""Single-use links (the URL carries a random secret, the database its hash),
and the renewal-link pages: a member's emailed link, and the link an agency
sends to a client's account owner."""
import hashlib
import hmac
import secrets

from flask import Blueprint


def new_secret():
    """A fresh URL-safe secret and the hash to store for it."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(secret, stored_hash):
    return hmac.compare_digest(hash_secret(secret), stored_hash)


bp = Blueprint("links", __name__)

from portal.links import views  # noqa: E402,F401
