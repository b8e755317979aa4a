"""When to renew silently, and how many health checks a run makes: pure
rules over a credential and what its network allows."""
import math
from dataclasses import dataclass
from datetime import timedelta

# Renew this long before the end, ahead of the first notice (7 days by default),
# so that people hear only of what a worker could not renew.
MARGIN = timedelta(days=10)
# Refresh a grant at least this often even when nothing is close to its end:
# Google drops refresh tokens unused for six months, Pinterest's continuous
# ones after 60 days.
KEEPALIVE_EVERY = timedelta(days=30)
# An access token living less than this is renewed on demand, not ahead.
SHORT_LIVED = timedelta(days=1)
# Never renew ahead more often than this: a refresh that cannot push an end
# further (LinkedIn's fixed refresh-token end) must not repeat every scan.
MIN_INTERVAL = timedelta(days=1)


# A renewal moves the end by more than this, or it did not renew: an end
# recomputed from "seconds left" (LinkedIn, TikTok) drifts by a few seconds.
MOVED_BY = timedelta(days=1)


def end_moved(before, after):
    """Whether a renewal moved the effective end (`portal.status.effective_expiry`)
    from `before` to `after`: later by more than MOVED_BY. A grant with no
    known end after it (X, Google) was exercised, which is all a renewal can do
    for it; one whose end was not known before has nothing to compare. A
    refresh that leaves the end where it was (a refresh token that itself
    ends soon, Meta's end of data access) did not renew the connection: only
    the network's consent does."""
    if after is None or before is None:
        return True
    return after - before > MOVED_BY


@dataclass(frozen=True)
class RefreshPolicy:
    """What a network allows, as the adapter states it."""

    extends_access_token: bool = False  # renewable without a refresh token (Meta, Instagram, Threads)
    min_token_age: timedelta = timedelta(0)  # Instagram and Threads: 24 hours


@dataclass(frozen=True)
class Due:
    due: bool
    not_before: object = None  # when it becomes renewable, if it is not yet

    def __bool__(self):
        return self.due


NOT_DUE = Due(False)


def can_renew_silently(credential, policy):
    if credential.is_invalid or credential.superseded_at is not None:
        return False
    return credential.can_refresh_silently or policy.extends_access_token


def refresh_due(credential, policy, now):
    """Whether a worker should renew `credential` now, ahead of any expiry."""
    if not can_renew_silently(credential, policy):
        return NOT_DUE
    issued = credential.last_refreshed_at or credential.created_at
    if now - issued < MIN_INTERVAL:
        return Due(False, not_before=issued + MIN_INTERVAL)
    if credential.can_refresh_silently:
        if credential.refresh_expires_at is not None and credential.refresh_expires_at - now <= MARGIN:
            return Due(credential.refresh_expires_at > now)
        if now - issued >= KEEPALIVE_EVERY:
            return Due(True)
        # A long-lived access token (LinkedIn's 60 days) is renewed in the days
        # before its last one (so the scan can tell it from the short-lived,
        # which always end within a day); once ended, the refresh token still
        # holds the grant, and the next health check or keep-alive renews it.
        expires = credential.expires_at
        long_lived = expires is not None and expires - issued > SHORT_LIVED
        return Due(long_lived and now + SHORT_LIVED < expires <= now + MARGIN)
    expires = credential.expires_at
    if expires is None or expires <= now or expires - now > MARGIN:
        return NOT_DUE
    ready = issued + policy.min_token_age
    if ready > now:
        return Due(False, not_before=ready)
    return Due(True)


# Every current credential is asked about about once a day (a password changed
# at the network kills a token with nothing else to show for it), by a run of
# the health check every hour.
HEALTH_CHECK_EVERY = timedelta(hours=24)
HEALTH_CHECK_RUNS_PER_DAY = 24
# A run checks at least this many of a network's credentials: a small
# agency's are all checked at once.
MIN_CHECKS_PER_RUN = 10


def health_check_quota(population, per_hour):
    """How many of a network's `population` current credentials one hourly
    run may check: twice the even share of the day (the checks spread over
    the day, and a backlog, all of them new, drains in half of it), at least
    MIN_CHECKS_PER_RUN, and never more than the network's cap `per_hour`
    (`Network.health_checks_per_hour`, within its rate limits)."""
    share = math.ceil(2 * population / HEALTH_CHECK_RUNS_PER_DAY)
    return min(per_hour, max(MIN_CHECKS_PER_RUN, share))

