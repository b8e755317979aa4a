"""Pure rules of the organization's channels: outgoing webhook events in the
Standard Webhooks format, and the URLs an organization may send them to.

Nothing here touches the database, Flask or the network.
"""
import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from urllib.parse import urlsplit

from portal.notifications.rules import KIND_EXPIRED, KIND_EXPIRING, KIND_INVALID

TOKEN_EXPIRING = "token.expiring"
TOKEN_EXPIRED = "token.expired"
TOKEN_RENEWED = "token.renewed"
TOKEN_RENEW_FAILED = "token.renew_failed"
EVENT_TYPES = (TOKEN_EXPIRING, TOKEN_EXPIRED, TOKEN_RENEWED, TOKEN_RENEW_FAILED)
# Sent by "Send a test" to one endpoint, whatever events it chose: tells nothing of a token.
WEBHOOK_TEST = "webhook.test"

SECRET_PREFIX = "whsec_"
SLACK_PREFIX = "https://hooks.slack.com/"


def event_for_notice(kind):
    """The event a scan notice becomes: an invalid token is expired too."""
    return {KIND_EXPIRING: TOKEN_EXPIRING, KIND_EXPIRED: TOKEN_EXPIRED, KIND_INVALID: TOKEN_EXPIRED}[kind]


def event_for_attempt(mode, outcome):
    """The event of a renewal attempt, or None: a health check is not a renewal
    (what it finds reaches receivers as `token.expired` through the scan)."""
    if mode not in ("silent", "interactive"):
        return None
    if outcome == "renewed":
        return TOKEN_RENEWED
    if outcome == "failed":
        return TOKEN_RENEW_FAILED
    return None


def subscribed(endpoint_events, event_type):
    return event_type in endpoint_events


def parse_events(values):
    """The chosen event types, in their canonical order; ValueError on an unknown one or none."""
    chosen = set(values)
    if not chosen or not chosen <= set(EVENT_TYPES):
        raise ValueError(values)
    return [event for event in EVENT_TYPES if event in chosen]


def new_secret():
    """A signing secret as Standard Webhooks libraries read it: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id():
    return "msg_" + secrets.token_urlsafe(18)


def sign(secret, message_id, timestamp, body):
    """The `webhook-signature` header: "v1," + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"
    keyed with the secret's bytes (the base64 after "whsec_")."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret, message_id, timestamp, body):
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secret, message_id, int(timestamp), body),
    }


def body(event_type, timestamp, data):
    """The JSON body, as bytes: {"type", "timestamp", "data"}."""
    return json.dumps({"type": event_type, "timestamp": timestamp.isoformat(), "data": data},
                      separators=(",", ":"), sort_keys=True).encode()


def http_failure_kind(status):
    """How a receiver's HTTP answer is handled: None (delivered, 2xx),
    "transient" (408, 425, 429, 5xx: tried again later) or "permanent"
    (any other answer, redirects included: recorded, not retried)."""
    if 200 <= status < 300:
        return None
    if status in (408, 425, 429) or status >= 500:
        return "transient"
    return "permanent"


def url_problem(url, production, slack=False):
    """Why `url` cannot receive messages, as a message key, or None.

    In production a Slack URL must be Slack's incoming-webhook address and a
    webhook URL must be https to a public host; elsewhere (the sandbox, tests)
    any http(s) URL, so that a local server can stand in for the receiver.
    A name is checked again when it is sent to, by the address it resolves to
    then (`jobs.deliver.http_post`)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 1000:
        return "not_a_url"
    if not production:
        return None
    if slack:
        return None if url.startswith(SLACK_PREFIX) and parts.path.startswith("/services/") else "not_slack"
    if parts.scheme != "https":
        return "not_https"
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
        return "private_host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if address.is_global else "private_host"
