"""What a network's answer means, in the same words for every family: the
outcome kinds, the exceptions the adapters raise, and what every family's
error rules read alike. Each family's own rules (`classify_<family>`, from
docs/networks.md: "How answers are read" and each network's "Errors") live in
its adapter module, beside the calls they judge.

A rule is `classify_<family>(status, body, stage=Stage.API) -> Outcome`. It
reads the error body first and the HTTP status second (Meta sends its token
errors with HTTP 400). `stage` says which call answered:

- `Stage.TOKEN`: the token endpoint (code exchange, refresh, long-lived exchange);
- `Stage.API`: a call made with the access token;
- `Stage.RETRY`: the same call made again right after a successful refresh,
  where an access token refused once more means the grant itself is gone.

Only the renew-needed signatures of the rules ever produce `Kind.RENEW`;
anything not recognised is `Kind.ERROR`, which never marks a token dead. A
network refusing Keepalive's own settings (its client secret, its plan, its
API version) is `Kind.APP_SETTINGS`: a fault of the app is never a dead token.

The exceptions are here, not beside the rules, so that a caller needs one
import to handle every outcome.
"""
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from portal.models import InvalidReason


class Kind(StrEnum):
    OK = "ok"
    RENEW = "renew"  # a person must consent again: mark the credential invalid
    TRANSIENT = "transient"  # keep the token, retry later with backoff
    PERMISSION = "permission"  # the grant lacks a permission: re-consent asking for it
    REFRESH = "refresh"  # the access token was refused: refresh, then retry once
    ERROR = "error"  # an answer no rule recognises: report it, never flag the token
    APP_SETTINGS = "app_settings"  # the network refused the app's own settings: tell the Owners, flag no token


class Stage(StrEnum):
    TOKEN = "token"
    API = "api"
    RETRY = "retry"


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    reason: str | None = None  # an InvalidReason, for Kind.RENEW
    detail: str = ""
    # LinkedIn's 65601 also shows up on freshly issued tokens: the caller
    # should check again after a few seconds before flagging the credential.
    recheck: bool = False

    @property
    def ok(self):
        return self.kind == Kind.OK

    def error(self, retry_after=None):
        """The exception that carries this outcome (None when it is OK)."""
        if self.kind == Kind.OK:
            return None
        if self.kind == Kind.RENEW:
            return RenewNeeded(self.reason or InvalidReason.UNKNOWN, self.detail, recheck=self.recheck)
        if self.kind == Kind.TRANSIENT:
            return Transient(self.detail, retry_after=retry_after)
        if self.kind == Kind.PERMISSION:
            return PermissionMissing(self.detail)
        if self.kind == Kind.REFRESH:
            return AccessTokenRejected(self.detail)
        if self.kind == Kind.APP_SETTINGS:
            return AppSettingsRefused(self.detail)
        return UnexpectedResponse(self.detail)


OK = Outcome(Kind.OK)


def renew(reason, detail="", recheck=False):
    return Outcome(Kind.RENEW, InvalidReason(reason), detail, recheck)


def transient(detail):
    return Outcome(Kind.TRANSIENT, detail=detail)


def permission(detail):
    return Outcome(Kind.PERMISSION, detail=detail)


def refresh_first(detail):
    return Outcome(Kind.REFRESH, detail=detail)


def unexpected(detail):
    return Outcome(Kind.ERROR, detail=detail)


def app_settings(detail):
    return Outcome(Kind.APP_SETTINGS, detail=detail)


# --- exceptions -----------------------------------------------------------

class NetworkError(Exception):
    """A network call did not give what was asked. Messages never hold tokens."""

    kind = Kind.ERROR

    def __init__(self, detail=""):
        self.detail = scrub(str(detail or ""))
        super().__init__(self.detail)


class RenewNeeded(NetworkError):
    """A person must consent again; `reason` is an InvalidReason."""

    kind = Kind.RENEW

    def __init__(self, reason=InvalidReason.UNKNOWN, detail="", recheck=False):
        self.reason = InvalidReason(reason)
        self.recheck = recheck
        super().__init__(detail or self.reason.value)


class Transient(NetworkError):
    """The network could not answer now (5xx, 429, time-out, rate limit): keep the token."""

    kind = Kind.TRANSIENT

    def __init__(self, detail="", retry_after=None):
        self.retry_after = retry_after
        super().__init__(detail)


class AccessTokenRejected(Transient):
    """The access token was refused but the grant may live: refresh, then retry once.

    A Transient, so that a caller that does not refresh still keeps the token."""

    kind = Kind.REFRESH


class PermissionMissing(NetworkError):
    """The grant lacks a permission: the person must consent again, asking for it."""

    kind = Kind.PERMISSION


class UnexpectedResponse(NetworkError):
    """An answer no rule recognises (a misconfigured client, a changed API).

    Never a reason to mark a token dead; worth showing to whoever set things up."""


class AppSettingsRefused(NetworkError):
    """The network refused Keepalive's own settings: a wrong or rotated client
    secret, an app not approved for a product, a plan or project without the
    endpoint, an API version past its end. It says nothing about the person's
    token: nothing is flagged, and the Owners are told (`portal.app_settings`)."""

    kind = Kind.APP_SETTINGS


class NotASystemUserToken(NetworkError):
    """A token given as a Business Manager system user's that is not one, or
    not one of this app."""


class NotYetRefreshable(Exception):
    """Silent renewal is not possible yet (Instagram, Threads: token under 24 h old).

    Not a failure: nothing was sent to the network; try again after `not_before`."""

    def __init__(self, not_before: datetime | None):
        self.not_before = not_before
        super().__init__("The token can be refreshed once it is 24 hours old.")


# --- scrubbing ---------------------------------------------------------------

_SECRET_KEYS = (
    r"access_token|refresh_token|fb_exchange_token|input_token|client_secret|code_verifier|"
    r"code|token|id_token|password"
)
_QUERY_SECRET = re.compile(rf"(?i)\b({_SECRET_KEYS})=[^&\s\"'#]+")
_JSON_SECRET = re.compile(rf"(?i)(\"(?:{_SECRET_KEYS})\"\s*:\s*\")[^\"]*\"")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-|]+")


def scrub(text, secrets=()):
    """`text` with tokens, codes and secrets replaced by `[redacted]`."""
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    text = _QUERY_SECRET.sub(r"\1=[redacted]", text)
    text = _JSON_SECRET.sub(r'\1[redacted]"', text)
    return _BEARER.sub(r"\1 [redacted]", text)


# --- what every family's rules read alike ------------------------------------

def server_side(status):
    """Transient for a rate limit or an outage, whatever the body says; else None."""
    if status == 429:
        return transient("rate limited (HTTP 429)")
    if status is not None and status >= 500:
        return transient(f"the network failed (HTTP {status})")
    return None


def reason_from_text(text):
    """The InvalidReason an error description names in words."""
    text = (text or "").lower()
    if "password" in text:
        return InvalidReason.PASSWORD_CHANGED
    if "expired" in text:
        return InvalidReason.EXPIRED
    if "revoked" in text or "not authorized" in text or "deauthorized" in text:
        return InvalidReason.PERMISSION_REVOKED
    return InvalidReason.UNKNOWN


def oauth_error(body):
    """(error, description) of an RFC 6749 error body, or (None, "")."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("error_description") or body.get("message") or "")
    return None, ""


def is_success(status):
    return status is not None and 200 <= status < 300
