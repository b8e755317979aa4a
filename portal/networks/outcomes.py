"""What a network's answer means: the pure error rules of docs/networks.md
("How answers are read" and each network's "Errors").

Each family has one `classify_*(status, body, stage=Stage.API) -> Outcome`
function. It reads the error body first and the HTTP status second (Meta
sends its token errors with HTTP 400). `stage` says which call answered:

- `Stage.TOKEN`: the token endpoint (code exchange, refresh, long-lived exchange);
- `Stage.API`: a call made with the access token;
- `Stage.RETRY`: the same call made again right after a successful refresh,
  where an access token refused once more means the grant itself is gone.

Only the renew-needed signatures below ever produce `Kind.RENEW`; anything
not recognised is `Kind.ERROR`, which never marks a token dead.

The exceptions the adapters raise are here too, so that a caller needs one
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


# --- shared reading of bodies ---------------------------------------------

def _server_side(status):
    if status == 429:
        return transient("rate limited (HTTP 429)")
    if status is not None and status >= 500:
        return transient(f"the network failed (HTTP {status})")
    return None


def _reason_from_text(text):
    text = (text or "").lower()
    if "password" in text:
        return InvalidReason.PASSWORD_CHANGED
    if "expired" in text:
        return InvalidReason.EXPIRED
    if "revoked" in text or "not authorized" in text or "deauthorized" in text:
        return InvalidReason.PERMISSION_REVOKED
    return InvalidReason.UNKNOWN


def _oauth_error(body):
    """(error, description) of an RFC 6749 error body, or (None, "")."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("error_description") or body.get("message") or "")
    return None, ""


def _is_success(status):
    return status is not None and 200 <= status < 300


# --- Meta: facebook, instagram_business, instagram, threads ----------------

META_SUBCODE_REASONS = {
    458: InvalidReason.APP_REMOVED,
    459: InvalidReason.CHECKPOINT,  # the person must log in at the network
    460: InvalidReason.PASSWORD_CHANGED,
    463: InvalidReason.EXPIRED,
    464: InvalidReason.CHECKPOINT,  # unconfirmed user: log in and confirm the account
    467: InvalidReason.UNKNOWN,  # session invalidated, e.g. logged out
    492: InvalidReason.ROLE_CHANGED,  # no longer a Page admin, editor or moderator
}
META_TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613}


def meta_error(body):
    """Meta's `error` object of a body (also debug_token's `data.error`), or None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return error
    data = body.get("data")
    if isinstance(data, dict) and data.get("is_valid") is False:
        error = data.get("error")
        return error if isinstance(error, dict) else {"code": 190, "message": "token is not valid"}
    return None


def classify_meta(status, body, stage=Stage.API):
    error = meta_error(body)
    if error is None:
        if _is_success(status):
            return OK
        return _server_side(status) or unexpected(f"HTTP {status}")
    try:
        code = int(error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    try:
        subcode = int(error.get("error_subcode") or error.get("subcode") or 0)
    except (TypeError, ValueError):
        subcode = 0
    message = str(error.get("message") or "")
    detail = f"Meta error {code}" + (f"/{subcode}" if subcode else "") + (f": {message}" if message else "")
    if code in (190, 102):
        if subcode in META_SUBCODE_REASONS:
            return renew(META_SUBCODE_REASONS[subcode], detail)
        return renew(_meta_reason_from_message(message), detail)
    if "client secret" in message.lower():
        # Code 1 as well, but no retry mends a wrong secret: say so instead.
        return unexpected(detail)
    if code in META_TRANSIENT_CODES or error.get("is_transient") is True:
        return transient(detail)
    if code == 10 or 200 <= code <= 299:
        return permission(detail)
    return _server_side(status) or unexpected(detail)


def _meta_reason_from_message(message):
    text = message.lower()
    if "has not authorized application" in text or "deauthorized" in text:
        return InvalidReason.APP_REMOVED
    if "must be an administrator" in text or "must be an admin" in text:
        return InvalidReason.ROLE_CHANGED
    return _reason_from_text(text)


# --- X ---------------------------------------------------------------------

def classify_x(status, body, stage=Stage.API):
    error, description = _oauth_error(body)
    if error == "invalid_grant":
        return renew(_reason_from_text(description), f"X: invalid_grant {description}".strip())
    if error == "invalid_request" and "token was invalid" in description.lower():
        return renew(InvalidReason.UNKNOWN, f"X: {description}")
    server = _server_side(status)
    if server:
        return server
    if status == 401:
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "X refused the access token again after a refresh")
        if stage == Stage.API:
            return refresh_first("X refused the access token")
    if status == 403:
        return permission(_describe(body, "X: forbidden"))
    if error or not _is_success(status):
        return unexpected(f"X: {error or 'HTTP ' + str(status)} {description}".strip())
    return OK


# --- LinkedIn --------------------------------------------------------------

LINKEDIN_REVOKED = 65601
LINKEDIN_INVALID = 65600
LINKEDIN_EXPIRED = 65602


def classify_linkedin(status, body, stage=Stage.API):
    body = body if isinstance(body, dict) else {}
    code = body.get("serviceErrorCode")
    message = str(body.get("message") or "")
    error, description = _oauth_error(body)
    if code == LINKEDIN_REVOKED:
        return renew(InvalidReason.PERMISSION_REVOKED, f"LinkedIn 65601: {message}", recheck=True)
    if code == LINKEDIN_INVALID:
        return renew(_reason_from_text(message), f"LinkedIn 65600: {message}")
    if code == LINKEDIN_EXPIRED or (status == 401 and "expired" in message.lower()):
        return renew(InvalidReason.EXPIRED, f"LinkedIn: {message}")
    if error in ("invalid_grant", "invalid_token") or (
        error == "invalid_request" and "refresh token" in description.lower()
    ):
        return renew(_reason_from_text(description), f"LinkedIn: {error} {description}".strip())
    server = _server_side(status)
    if server:
        return server
    if status == 401 and stage != Stage.TOKEN and not error:
        return renew(_reason_from_text(message), f"LinkedIn: {message or 'HTTP 401'}")
    if status == 403:
        return permission(f"LinkedIn: {message or 'forbidden'}")
    if error or not _is_success(status):
        return unexpected(f"LinkedIn: {error or 'HTTP ' + str(status)} {description or message}".strip())
    return OK


# --- Google (youtube, google_business) --------------------------------------

GOOGLE_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError"}


def classify_google(status, body, stage=Stage.API):
    error, description = _oauth_error(body)
    if error == "invalid_grant":
        return renew(_reason_from_text(description), f"Google: invalid_grant {description}".strip())
    if error == "invalid_token" or (stage != Stage.TOKEN and status == 401):
        # An access token past its hour, or revoked: only a refresh tells which.
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "Google refused the access token again after a refresh")
        if stage == Stage.API:
            return refresh_first("Google refused the access token")
    server = _server_side(status)
    if server:
        return server
    api_error = body.get("error") if isinstance(body, dict) else None
    if status == 403 and isinstance(api_error, dict):
        reasons = {e.get("reason") for e in api_error.get("errors") or [] if isinstance(e, dict)}
        if reasons & GOOGLE_RATE_REASONS or api_error.get("status") == "RESOURCE_EXHAUSTED":
            return transient(f"Google: {api_error.get('message', 'rate limited')}")
        return permission(f"Google: {api_error.get('message', 'forbidden')}")
    if status == 403:
        return permission("Google: forbidden")
    if error in ("invalid_client", "unauthorized_client"):
        return unexpected(f"Google: {error} {description}".strip())
    if error or not _is_success(status):
        return unexpected(f"Google: {error or 'HTTP ' + str(status)} {description}".strip())
    return OK


# --- TikTok ------------------------------------------------------------------

TIKTOK_PERMISSION_CODES = {"scope_not_authorized", "scope_permission_missed"}
TIKTOK_TRANSIENT_CODES = {"rate_limit_exceeded", "internal_error"}


def classify_tiktok(status, body, stage=Stage.API):
    error, description = _oauth_error(body)
    if error == "invalid_grant":
        return renew(_reason_from_text(description), f"TikTok: invalid_grant {description}".strip())
    api_error = body.get("error") if isinstance(body, dict) else None
    code = api_error.get("code") if isinstance(api_error, dict) else error
    message = api_error.get("message", "") if isinstance(api_error, dict) else description
    if code in TIKTOK_PERMISSION_CODES:
        return permission(f"TikTok: {code} {message}".strip())
    if code == "access_token_invalid":
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "TikTok refused the access token again after a refresh")
        return refresh_first(f"TikTok: access_token_invalid {message}".strip())
    if code in TIKTOK_TRANSIENT_CODES:
        return transient(f"TikTok: {code}")
    server = _server_side(status)
    if server:
        return server
    if code not in (None, "ok") or not _is_success(status):
        return unexpected(f"TikTok: {code or 'HTTP ' + str(status)} {message}".strip())
    return OK


# --- Pinterest -------------------------------------------------------------

def classify_pinterest(status, body, stage=Stage.API):
    server = _server_side(status)
    if server:
        return server
    if _is_success(status) and not _oauth_error(body)[0]:
        return OK
    code = body.get("code") if isinstance(body, dict) else None
    message = str((body or {}).get("message") or _oauth_error(body)[1]) if isinstance(body, dict) else ""
    if stage == Stage.TOKEN:
        # Any refused refresh means the grant is gone.
        return renew(_reason_from_text(message), f"Pinterest: refresh refused {message}".strip())
    if status == 401 or code == 2:
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, f"Pinterest: {message or 'authentication failed'} after a refresh")
        return refresh_first(f"Pinterest: {message or 'authentication failed'}")
    if status == 403:
        return permission(f"Pinterest: {message or 'forbidden'}")
    return unexpected(f"Pinterest: HTTP {status} {message}".strip())


def _describe(body, default):
    if isinstance(body, dict):
        for key in ("detail", "title", "message", "error_description"):
            if body.get(key):
                return f"{default}: {body[key]}"
    return default
