"""Web push keys and subscriptions: pure helpers (no database, no Flask)."""
import base64
import binascii
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_vapid_keys():
    """(private, public): the raw P-256 private number and the uncompressed
    public point, base64url, as `PushManager.subscribe` and pywebpush read them."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(private), b64url(public)


def subscription_problem(data, production):
    """Why a browser's subscription (PushSubscription.toJSON()) cannot be
    stored, as a message key, or None."""
    if not isinstance(data, dict):
        return "bad_subscription"
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        return "bad_subscription"
    parts = urlsplit(endpoint)
    if parts.scheme not in (("https",) if production else ("https", "http")) or not parts.hostname:
        return "bad_subscription"
    try:
        p256dh = b64url_decode(keys.get("p256dh") or "")
        auth = b64url_decode(keys.get("auth") or "")
    except (binascii.Error, ValueError, TypeError):
        return "bad_subscription"
    if len(p256dh) != 65 or p256dh[0] != 4 or len(auth) != 16:
        return "bad_subscription"
    return None
