"""Live tokens out of Keepalive: refreshed on read under the lock the workers
take, the network fallback's fair choice, and reports of refused tokens.

Reading a token that lives long enough writes nothing. One that ends within
the caller's margin is refreshed by `renew_silently`, the workers' own path,
with the version the request saw: of any number of requests racing, the
first to take the lock refreshes and the others find the version moved and
read its result, so one refresh call reaches the network.
"""
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from rq import Retry

from portal.api import queries
from portal.api.rules import ApiStatus, access_ended, api_status, dead_reason, needs_refresh
from portal.db import close_session, get_session, utcnow
from portal.models import InvalidReason, SocialProfile
from portal.networks import NotConfigured, adapter_for
from portal.networks.outcomes import Transient
from portal.queue import enqueue, lua, queue, redis, redis_key
from portal.renewal.credentials import current_credential
from portal.renewal.policy import policy_for
from portal.renewal.rules import can_renew_silently
from portal.renewal.silent import SECOND_LOOK_SECONDS, RecheckLater, Result, renew_silently

# A refused token reported again within this long is not checked again.
REPORT_GATE_SECONDS = 60
# How many of a network's healthy profiles the fallback tries before it gives up.
FALLBACK_TRIES = 5
# When a profile was last handed out by the fallback is forgotten after this long unused.
HANDED_OUT_TTL = 30 * 86400


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

# Of the candidates, the `ARGV[4]` handed out longest ago (never: first, in
# the order given), stamped now (milliseconds, one apart) in that order, in
# one atomic step: racing requests, and processes, take different ones.
PICK = lua("""
local ids = {}
for id in string.gmatch(ARGV[3], '%d+') do ids[#ids + 1] = id end
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
local order = {}
for i = 1, #ids do order[i] = i end
table.sort(order, function(a, b)
  local sa, sb = tonumber(scores[a] or -1), tonumber(scores[b] or -1)
  if sa == sb then return a < b end
  return sa < sb
end)
local chosen = {}
for n = 1, math.min(tonumber(ARGV[4]), #ids) do
  chosen[n] = ids[order[n]]
  redis.call('ZADD', KEYS[1], ARGV[1] + n, chosen[n])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return chosen
""")
# A process takes this many picks from Redis at once and hands them out
# itself, within RESERVED_FOR_SECONDS; what it does not hand out by then was
# stamped all the same (it goes to the back of the queue once).
RESERVE = 10
RESERVED_FOR_SECONDS = 2


def handed_out_key(organization_id, network):
    return redis_key(f"api:handed-out:{organization_id}:{network}")


def pick(organization_id, network, candidates, count=1):
    """The `count` candidate profile ids handed out longest ago, now stamped, in that order."""
    if not candidates:
        return []
    # The ids as one argument: one string to send, not one per candidate.
    chosen = PICK(keys=[handed_out_key(organization_id, network)],
                  args=[time.time_ns() // 1_000_000, HANDED_OUT_TTL, ",".join(map(str, candidates)), count])
    return [int(profile_id) for profile_id in chosen]


_reserved = {}  # question -> (taken at, ids not handed out yet)
_reserved_lock = threading.Lock()


def next_pick(question, organization_id, network, candidates):
    """The next profile to hand out for `question`: from this process's
    reserve, else from a new one taken from Redis; None when none is left."""
    moment = time.monotonic()
    with _reserved_lock:
        taken_at, reserve = _reserved.get(question, (0, []))
        while moment - taken_at < RESERVED_FOR_SECONDS and reserve:
            profile_id = reserve.pop(0)
            if profile_id in candidates:
                return profile_id
    reserve = pick(organization_id, network, candidates, RESERVE)
    with _reserved_lock:
        if len(_reserved) >= CANDIDATES_KEPT:
            _reserved.clear()
        _reserved[question] = (moment, reserve[1:])
    return reserve[0] if reserve else None


def fallback(key, organization, network, brand_id=None, exclude=(), min_valid_seconds=0):
    """A live token of a healthy profile of `network` that `key` reaches,
    the one handed out longest ago first; dead and expiring ones are skipped."""
    now = utcnow()
    question = (redis_key("api"), key.organization_id, key.brand_id, network, brand_id, tuple(exclude),
                min_valid_seconds)
    candidates = list(healthy_candidates(question, key, organization, network, brand_id, tuple(exclude),
                                         min_valid_seconds, now))
    for _ in range(FALLBACK_TRIES):
        chosen = next_pick(question, organization.id, network, candidates)
        if chosen is None:
            break
        candidates.remove(chosen)
        # Read again whatever the list said: only a token healthy now is handed out.
        found = queries.stored_token(get_session(), key, chosen)
        if found is None or found[1] is None or found[0].network != network:
            continue
        status, _ = api_status(found[1], now, organization.expiry_window_days)
        if status not in (ApiStatus.VALID, ApiStatus.NO_EXPIRY):
            continue
        try:
            return live_token(found[0], found[1], min_valid_seconds)
        except (TokenDead, Unavailable):
            continue
    raise NoLiveToken()


# Which profiles of a network are healthy is read at most this often per
# process and question: the chosen one is read again before it is handed out.
CANDIDATES_FOR_SECONDS = 5
CANDIDATES_KEPT = 256
_candidates = {}  # question -> (read at, ids)
_candidates_lock = threading.Lock()


def healthy_candidates(question, key, organization, network, brand_id, exclude, min_valid_seconds, now):
    """`queries.healthy_candidates`, kept a few seconds for the same
    `question` (under this deployment's Redis prefix, so that apps sharing a
    process never meet)."""
    moment = time.monotonic()
    with _candidates_lock:
        kept = _candidates.get(question)
    if kept is not None and moment - kept[0] < CANDIDATES_FOR_SECONDS:
        return kept[1]
    ids = tuple(queries.healthy_candidates(get_session(), key, organization, network, now, min_valid_seconds,
                                           brand_id=brand_id, exclude=exclude))
    with _candidates_lock:
        if len(_candidates) >= CANDIDATES_KEPT:
            _candidates.clear()
        _candidates[question] = (moment, ids)
    return ids


# --- reports of refused tokens -----------------------------------------------

def report(profile_id):
    """Have a worker check the profile's token with its network at once;
    "already_checking" when it was reported within the last minute."""
    if not redis().set(redis_key(f"api:reported:{profile_id}"), 1, nx=True, ex=REPORT_GATE_SECONDS):
        return "already_checking"
    enqueue("jobs.scan.check_reported", profile_id, retry=Retry(max=3, interval=[30, 120, 600]))
    return "checking"

