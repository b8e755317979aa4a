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


# The browsers' push services, which alone hand out the endpoints Keepalive
# posts to: Chrome and most Chromium browsers (Firebase Cloud Messaging),
# Chromium builds without Google's keys (jmt17.google.com), Firefox (Mozilla
# autopush), Safari (any subdomain of push.apple.com, as Apple asks) and
# Edge on Windows (Windows Notification Service). "*." stands for any name
# under the domain.
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "jmt17.google.com", "*.push.services.mozilla.com",
                      "*.push.apple.com", "*.notify.windows.com")
# What no endpoint a browser makes holds, and URL parsers read differently.
_AMBIGUOUS = set("\\@ \t\r\n")


def host_listed(host, patterns):
    """True if `host` is one of `patterns`: a name, or "*." and a domain for
    any name under it (not the domain itself)."""
    return any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
               for pattern in patterns)


def endpoint_problem(endpoint, production, extra_hosts=()):
    """Why Keepalive will not send to a push endpoint, as a message key, or
    None. An endpoint comes from the browser, so anyone signed in could name
    any URL: only a known push service on its https port is accepted, or a
    host the settings add (`PUSH_EXTRA_HOSTS`, a local stand-in in
    development), over http too outside production."""
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not endpoint.isascii() or _AMBIGUOUS & set(endpoint):
        return "bad_subscription"
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        return "bad_subscription"
    if parts.scheme not in (("https",) if production else ("https", "http")) or not parts.hostname:
        return "bad_subscription"
    if host_listed(parts.hostname, extra_hosts):
        return None
    if parts.scheme != "https" or port not in (None, 443) or not host_listed(parts.hostname, PUSH_SERVICE_HOSTS):
        return "unknown_push_service"
    return None


def subscription_problem(data, production, extra_hosts=()):
    """Why a browser's subscription (PushSubscription.toJSON()) cannot be
    stored, as a message key, or None."""
    if not isinstance(data, dict):
        return "bad_subscription"
    problem = endpoint_problem(data.get("endpoint"), production, extra_hosts)
    if problem is not None:
        return problem
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    try:
        p256dh = b64url_decode(keys.get("p256dh") or "")
        auth = b64url_decode(keys.get("auth") or "")
    except (binascii.Error, ValueError, TypeError):
        return "bad_subscription"
    if len(p256dh) != 65 or p256dh[0] != 4 or len(auth) != 16:
        return "bad_subscription"
    return None
