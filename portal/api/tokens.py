"""Live tokens out of Keepalive: refreshed on read under the lock the workers
take, the network fallback's fair choice, and reports of refused tokens.

Reading a token that lives long enough writes nothing. One that ends within
the caller's margin is refreshed by `renew_silently`, the workers' own path,
with the version the request saw: of any number of requests racing, the
first to take the lock refreshes and the others find the version moved and
read its result, so one refresh call reaches the network.
"""
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from rq import Retry

from portal.api import queries
from portal.api.rules import access_ended, dead_reason, needs_refresh
from portal.db import close_session, get_session, utcnow
from portal.models import InvalidReason, SocialProfile
from portal.networks import NotConfigured, adapter_for
from portal.networks.outcomes import Transient
from portal.queue import enqueue, queue, redis, redis_key
from portal.renewal.credentials import current_credential
from portal.renewal.policy import policy_for
from portal.renewal.rules import can_renew_silently
from portal.renewal.silent import RecheckLater, Result, renew_silently

# A refused token reported again within this long is not checked again.
REPORT_GATE_SECONDS = 60
# How many of a network's healthy profiles the fallback tries before it gives up.
FALLBACK_TRIES = 5
# When a profile was last handed out by the fallback is forgotten after this long unused.
HANDED_OUT_TTL = 30 * 86400
SECOND_LOOK_SECONDS = 10


class TokenDead(Exception):
    """A person must renew the token; `reason` says why (an InvalidReason)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Unavailable(Exception):
    """The token has ended and its network did not answer the refresh."""

    def __init__(self, retry_after=None):
        super().__init__(retry_after)
        self.retry_after = retry_after


class NoLiveToken(Exception):
    """No healthy profile of the network has a token to hand out."""


@dataclass(frozen=True)
class LiveToken:
    profile: SocialProfile
    credential: object  # portal.models.Credential
    refreshed: bool


def live_token(profile, credential, min_valid_seconds=0, force=False):
    """The profile's credential, refreshed first when its access token ends
    within `min_valid_seconds` (or `force`) and the network allows; raises
    TokenDead or Unavailable."""
    now = utcnow()
    reason = dead_reason(credential, now)
    if reason:
        raise TokenDead(reason)
    if not (force or needs_refresh(credential, now, min_valid_seconds)):
        return LiveToken(profile, credential, False)
    try:
        adapter = adapter_for(profile.network)
    except NotConfigured:
        adapter = None
    if adapter is None or not can_renew_silently(credential, policy_for(adapter)):
        if access_ended(credential, now):
            raise TokenDead(InvalidReason.EXPIRED)
        return LiveToken(profile, credential, False)
    return refreshed(profile, credential, adapter)


def refreshed(profile, credential, adapter):
    """Refresh under the credential's lock, then read what is current."""
    # The request's connection goes back to the pool before the lock is
    # waited for: requests each holding one while waiting for a second could
    # take every connection of a small pool and wait for each other for ever.
    close_session()
    try:
        outcome = renew_silently(profile.id, adapter, seen_version=credential.version, force=True)
    except RecheckLater:
        # A doubtful answer (LinkedIn's "revoked" for fresh tokens): looked at again later, as workers do.
        queue().enqueue_in(timedelta(seconds=SECOND_LOOK_SECONDS), "jobs.renewal.renew_profile",
                           profile.id, None, True, True)
        outcome, retry_after = None, SECOND_LOOK_SECONDS
    except Transient as error:
        outcome, retry_after = None, error.retry_after
    now = utcnow()
    fresh = current_credential(get_session(), profile.id)
    reason = dead_reason(fresh, now)
    if reason or (outcome is not None and outcome.result in (Result.INVALID, Result.NEEDS_CONSENT)):
        raise TokenDead(reason or (outcome.reason if outcome else None) or InvalidReason.UNKNOWN)
    if access_ended(fresh, now):
        raise Unavailable(retry_after if outcome is None else None)
    return LiveToken(profile, fresh, fresh.version != credential.version)


# --- the network fallback ------------------------------------------------------

# Of the candidates, the one handed out longest ago (never: first, in the
# order given), stamped now, in one atomic step: racing requests spread.
PICK = """
local best, best_score = nil, nil
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  score = score and tonumber(score) or -1
  if best == nil or score < best_score then best, best_score = ARGV[i], score end
end
if best then
  redis.call('ZADD', KEYS[1], ARGV[1], best)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return best
"""


def handed_out_key(organization_id, network):
    return redis_key(f"api:handed-out:{organization_id}:{network}")


@cache
def pick_script(connection):
    return connection.register_script(PICK)


def pick(organization_id, network, candidates):
    """The candidate profile id handed out longest ago (now stamped), or None."""
    if not candidates:
        return None
    chosen = pick_script(redis())(keys=[handed_out_key(organization_id, network)],
                                  args=[time.time(), HANDED_OUT_TTL, *candidates])
    return int(chosen) if chosen is not None else None


def fallback(key, organization, network, brand_id=None, exclude=(), min_valid_seconds=0):
    """A live token of a healthy profile of `network` that `key` reaches,
    the one handed out longest ago first; dead ones are skipped."""
    candidates = queries.healthy_candidates(get_session(), key, organization, network, utcnow(),
                                            min_valid_seconds, brand_id=brand_id, exclude=exclude)
    for _ in range(FALLBACK_TRIES):
        chosen = pick(organization.id, network, candidates)
        if chosen is None:
            break
        candidates.remove(chosen)
        found = queries.profile_with_credential(get_session(), key, chosen)
        if found is None or found[1] is None:
            continue
        try:
            return live_token(found[0], found[1], min_valid_seconds)
        except (TokenDead, Unavailable):
            continue
    raise NoLiveToken()


# --- reports of refused tokens -----------------------------------------------

def report(profile_id):
    """Have a worker check the profile's token with its network at once;
    "already_checking" when it was reported within the last minute."""
    if not redis().set(redis_key(f"api:reported:{profile_id}"), 1, nx=True, ex=REPORT_GATE_SECONDS):
        return "already_checking"
    enqueue("jobs.scan.check_reported", profile_id, retry=Retry(max=3, interval=[30, 120, 600]))
    return "checking"

