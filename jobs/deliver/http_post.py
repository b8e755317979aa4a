"""One JSON POST to a receiver (Slack, an outgoing webhook), and how its
answer is handled."""
import httpx
from flask import current_app

from portal.notifications.events import http_failure_kind, resolves_inward


def post_json(url, content, headers=None):
    """POST `content` (bytes) as JSON; (failure kind or None, detail, HTTP status or None)."""
    if current_app.config["ENV_NAME"] == "production" and resolves_inward(url):
        return "permanent", "the receiver's name points at a private address", None
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    try:
        response = httpx.post(url, content=content, timeout=timeout, follow_redirects=False,
                              headers={"content-type": "application/json", "user-agent": "Keepalive",
                                       **(headers or {})})
    except httpx.TimeoutException:
        return "transient", "the receiver did not answer in time", None
    except httpx.HTTPError as error:
        return "transient", f"{type(error).__name__}: {error}", None
    kind = http_failure_kind(response.status_code)
    detail = None if kind is None else f"HTTP {response.status_code} {response.text[:200]}".strip()
    return kind, detail, response.status_code
