"""One POST to a receiver (Slack, an outgoing webhook, a push service), and
how its answer is handled.

Every such request goes through `receiver_session()` (requests-hardened): a
redirect is never followed but recorded as the receiver's answer, and in
production the receiver's name is resolved once, the request refused unless
that address is public, and the connection made to that very address, the
certificate still checked against the name. A name that answers otherwise
between a check and the connection (DNS rebinding) reaches nothing private.
Elsewhere (the sandbox, tests) any address, so that a local server can stand
in for the receiver."""
import requests
from flask import current_app
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

from portal.notifications.events import http_failure_kind

PRIVATE_ADDRESS = "the receiver's name points at a private address"


def receiver_session():
    """A requests session for one receiver's requests, under the rules above."""
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    return Manager(Config(
        ip_filter_enable=current_app.config["ENV_NAME"] == "production", ip_filter_allow_loopback_ips=False,
        never_redirect=True, default_timeout=(timeout, timeout), user_agent_override="Keepalive",
    )).get_session()


def post_json(url, content, headers=None):
    """POST `content` (bytes) as JSON; (failure kind or None, detail, HTTP status or None)."""
    try:
        with receiver_session() as session:
            response = session.post(url, data=content, headers={"content-type": "application/json", **(headers or {})})
    except InvalidIPAddress:
        return "permanent", PRIVATE_ADDRESS, None
    except requests.Timeout:
        return "transient", "the receiver did not answer in time", None
    except requests.RequestException as error:
        return "transient", f"{type(error).__name__}: {error}"[:300], None
    kind = http_failure_kind(response.status_code)
    detail = None if kind is None else f"HTTP {response.status_code} {response.text[:200]}".strip()
    return kind, detail, response.status_code
