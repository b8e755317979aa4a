"""Token status: one pure rule, used by every page, job and notice.

| status             | rule                                                      |
|--------------------|-----------------------------------------------------------|
| expired            | invalid (any reason), or effective expiry not in the future |
|                    | (an invalid one's end is when it stopped: `ended_at`)     |
| expiring           | effective expiry within the organization's window          |
| valid              | effective expiry beyond the window                         |
| no_expiry          | no known expiry and the last health check passed           |

"Effective expiry" is when the portal loses access unless a person acts: for
a credential that can be refreshed silently, the end of its refresh token
(or none); otherwise the access token's expiry; and never later than the end
of its data access (Meta: 90 days after the person last went through Facebook
Login), which no refresh extends. A Facebook Page's token does not expire, so
its data access is its end.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from portal.models import InvalidReason

SECONDS_PER_DAY = 86400


class Status(StrEnum):
    EXPIRED = "expired"
    EXPIRING = "expiring"
    VALID = "valid"
    NO_EXPIRY = "no_expiry"


# Most urgent first: the order of the dropdown and of Manage Accounts.
URGENCY = {Status.EXPIRED: 0, Status.EXPIRING: 1, Status.NO_EXPIRY: 2, Status.VALID: 3}


@dataclass(frozen=True)
class TokenStatus:
    status: Status
    effective_expiry: datetime | None
    # Whole days left, rounded down (0: less than a day); None when unknown or expired.
    days_left: int | None
    reason: str | None = None

    @property
    def needs_attention(self):
        return self.status in (Status.EXPIRED, Status.EXPIRING)

    @property
    def changes_at(self):
        """When this status next changes with time alone, at that moment or
        just after it: a day left less, entering the window and expiring all
        fall on whole days before the effective expiry. None when it changes
        only by an event (expired, no expiration date)."""
        if self.days_left is None:
            return None
        return self.effective_expiry - timedelta(days=self.days_left)

    @property
    def urgency(self):
        """A sort key: expired first, then by the nearest effective expiry."""
        expiry = self.effective_expiry.timestamp() if self.effective_expiry else math.inf
        return (URGENCY[self.status], expiry)


def whole_days(left):
    """Whole days in the timedelta `left`, rounded down: "days left"."""
    return int(left.total_seconds() // SECONDS_PER_DAY)


def effective_expiry(credential):
    end = credential.refresh_expires_at if credential.can_refresh_silently else credential.expires_at
    data_access = credential.data_access_expires_at
    if data_access is not None and (end is None or data_access < end):
        return data_access
    return end


def ended_at(credential, now):
    """When an invalid credential stopped working, as every page, notice and
    payload tells it: when it was found dead, or its end if that came first.
    Never a moment to come: a dead token has no future expiry (None when
    neither is known)."""
    expiry = effective_expiry(credential)
    found = credential.invalidated_at
    if found is not None and (expiry is None or found < expiry):
        return found
    return expiry if expiry is not None and expiry <= now else None


def token_status(credential, now, window_days):
    """The status of `credential` at `now` (aware) for a window of `window_days`.

    `credential` needs: `is_invalid`, `invalid_reason`, `can_refresh_silently`,
    `expires_at`, `refresh_expires_at`, `data_access_expires_at`, `last_check_ok`. A profile without any
    credential is passed as None and reads as expired.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    if credential is None:
        return TokenStatus(Status.EXPIRED, None, None, InvalidReason.UNKNOWN)
    if credential.is_invalid:
        return TokenStatus(
            Status.EXPIRED, ended_at(credential, now), None, credential.invalid_reason or InvalidReason.UNKNOWN
        )
    expiry = effective_expiry(credential)
    if expiry is None:
        if credential.last_check_ok is False:
            return TokenStatus(Status.EXPIRED, None, None, InvalidReason.UNKNOWN)
        return TokenStatus(Status.NO_EXPIRY, None, None)
    left = expiry - now
    if left <= timedelta(0):
        return TokenStatus(Status.EXPIRED, expiry, None, InvalidReason.EXPIRED)
    days_left = whole_days(left)
    if left <= timedelta(days=window_days):
        return TokenStatus(Status.EXPIRING, expiry, days_left)
    return TokenStatus(Status.VALID, expiry, days_left)
