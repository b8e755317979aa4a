"""Pure rules of the token API: what a key may do, when a token it asks for
is refreshed first, and what the API calls each token's state."""
from datetime import timedelta
from enum import StrEnum

from portal.models import ApiScope, InvalidReason
from portal.status import Status, token_status

# Every key's secret starts with this, so that one pasted where it should not
# be (a repository, a chat) is recognised as a Keepalive key.
KEY_PREFIX = "ka_live_"
# How much of the secret the list of keys shows to tell keys apart.
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 4
ALL_SCOPES = tuple(ApiScope)

# A key's last use is written at most this often: reading with a key costs
# no write in the common case.
LAST_USE_EVERY = timedelta(minutes=1)
# A token the caller asks for is refreshed first when it ends sooner than this.
DEFAULT_MIN_VALID_SECONDS = 600
MAX_MIN_VALID_SECONDS = 86400


class KeyProblem(StrEnum):
    UNKNOWN = "unknown"  # missing, malformed, or no such key
    REVOKED = "revoked"
    EXPIRED = "expired"


class ApiStatus(StrEnum):
    """A token's state as the API names it: the portal's status, with a dead
    grant (`invalid`) told apart from one that ran out (`expired`)."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    INVALID = "invalid"
    NO_EXPIRY = "no_expiry"


def key_problem(key, now):
    """Why `key` cannot be used at `now`, or None if it can."""
    if key is None:
        return KeyProblem.UNKNOWN
    if key.revoked_at is not None:
        return KeyProblem.REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return KeyProblem.EXPIRED
    return None


def use_due(last_used_at, now):
    """Whether this use of a key is written down (at most once a minute)."""
    return last_used_at is None or now - last_used_at >= LAST_USE_EVERY


def use_audited(last_used_at, now):
    """Whether this use goes into the activity log: a key's first use, and
    its first of each day (UTC), not every request."""
    return last_used_at is None or last_used_at.date() < now.date()


def api_status(credential, now, window_days):
    """(ApiStatus, reason) of a profile's current credential (None: none)."""
    status = token_status(credential, now, window_days)
    if credential is not None and credential.is_invalid:
        return ApiStatus.INVALID, status.reason
    return ApiStatus(str(status.status)), status.reason


def dead_reason(credential, now):
    """Why `credential` cannot be handed out at all (a person must renew
    it), or None. A window of 0: only what has ended counts."""
    status = token_status(credential, now, 0)
    if status.status == Status.EXPIRED:
        return status.reason or InvalidReason.UNKNOWN
    return None


def needs_refresh(credential, now, min_valid_seconds):
    """Whether the access token ends within `min_valid_seconds`."""
    return (credential.expires_at is not None
            and credential.expires_at - now < timedelta(seconds=min_valid_seconds))


def access_ended(credential, now):
    return credential.expires_at is not None and credential.expires_at <= now
