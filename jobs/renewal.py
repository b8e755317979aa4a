"""Silent renewal and health checks, in the worker."""
import logging
from datetime import timedelta

from rq import Retry, get_current_job
from sqlalchemy import func, or_
from sqlmodel import select

from jobs import in_app_context
from portal import app_settings
from portal.db import get_session, keys_in_ranges, rows_by_key, utcnow
from portal.models import Credential, CredentialState, Membership, Organization, SocialProfile, current_credential
from portal.networks import adapter_for, network
from portal.networks.outcomes import Transient
from portal.profiles import AT_RISK, Scope, effective_expiry_sql, visible_profiles
from portal.queue import enqueue, queue
from portal.renewal.health import check_credential
from portal.renewal.policy import policy_for
from portal.renewal.rules import (HEALTH_CHECK_EVERY, KEEPALIVE_EVERY, MARGIN, SHORT_LIVED, health_check_quota,
                                  refresh_due)
from portal.renewal.silent import SECOND_LOOK_SECONDS, RecheckLater, renew_silently
from portal.status import Status

log = logging.getLogger("keepalive.renewal")

# Transient failures: try again after 30 s, 2 min, 10 min, 30 min, 1 h; or
# later, when the network said when to come back.
BACKOFF = Retry(max=5, interval=[30, 120, 600, 1800, 3600])
LONGEST_WAIT = 6 * 3600  # however long a network asks, a job is tried again within this


def wait_as_told(error):
    """The network said how long to wait (`Retry-After`, its usage headers): the
    current job's next try waits at least that long. RQ schedules a retry from
    the job's `retry_intervals`, read when the failure is handled."""
    job = get_current_job()
    if job is None or not error.retry_after or not job.retries_left or not job.retry_intervals:
        return
    intervals = list(job.retry_intervals)
    index = max(len(intervals) - job.retries_left, 0)
    intervals[index] = max(intervals[index], min(int(error.retry_after), LONGEST_WAIT))
    job.retry_intervals = intervals


def enqueue_renewal(profile_id, seen_version=None, force=False):
    return enqueue("jobs.renewal.renew_profile", profile_id, seen_version, force, retry=BACKOFF)


@in_app_context
def renew_profile(profile_id, seen_version=None, force=False, second_look=False):
    """Renew one profile's credential silently; a busy network raises for RQ to retry."""
    profile = get_session().get(SocialProfile, profile_id)
    if profile is None:
        return "no_profile"
    try:
        outcome = renew_silently(profile_id, adapter_for(profile.network), seen_version=seen_version,
                                 force=force, second_look=second_look)
    except RecheckLater:
        queue().enqueue_in(
            timedelta(seconds=SECOND_LOOK_SECONDS), "jobs.renewal.renew_profile", profile_id, None, True, True
        )
        return "recheck"
    except Transient as error:
        log.info("renewal of profile %s postponed: %s", profile_id, error.detail)
        wait_as_told(error)
        raise
    job = get_current_job()
    if job is not None:
        job.meta["outcome"] = outcome.result
        job.save_meta()
    return outcome.result


def may_be_due(now):
    """Ids of what `refresh_due` could find due, one index range per case, so
    that the scan reads what is close to an end, never every credential there is."""
    soon = now + MARGIN
    stale = now - KEEPALIVE_EVERY
    alone, refreshable = current_credential(refreshable=False), current_credential(refreshable=True)
    active = Credential.status == CredentialState.ACTIVE
    alive = or_(Credential.refresh_expires_at.is_(None), Credential.refresh_expires_at > now)
    return keys_in_ranges(
        Credential.id,
        # An access token that extends itself, ending soon.
        [alone, active, Credential.expires_at > now, Credential.expires_at <= soon],
        # A long-lived access token beside a refresh token (LinkedIn), ending
        # soon: short-lived ones (X, Google, TikTok) always end within a day.
        [refreshable, active, Credential.expires_at > now + SHORT_LIVED, Credential.expires_at <= soon],
        # A refresh token ending soon.
        [refreshable, active, Credential.refresh_expires_at > now, Credential.refresh_expires_at <= soon],
        # A grant not exercised for a month: refreshed, or else granted, that long ago.
        [refreshable, active, Credential.last_refreshed_at <= stale, alive],
        [refreshable, active, Credential.last_refreshed_at.is_(None), Credential.created_at <= stale, alive],
    )


@in_app_context
def renew_due(now=None):
    """Enqueue a renewal for every credential whose silent renewal is due."""
    now = now or utcnow()
    session = get_session()
    rows = rows_by_key(
        session,
        select(Credential, SocialProfile.network).join(SocialProfile, SocialProfile.id == Credential.profile_id),
        Credential.id,
        session.exec(may_be_due(now)).scalars().all(),
    )
    policies = {}  # one adapter per network, not one per credential
    enqueued = 0
    for credential, network_key in rows:
        if network_key not in policies:
            policies[network_key] = policy_for(adapter_for(network_key))
        if refresh_due(credential, policies[network_key], now):
            enqueue_renewal(credential.profile_id, seen_version=credential.version)
            enqueued += 1
    return enqueued


@in_app_context
def renew_all(organization_id, network_key, user_id):
    """Try renewing all: every token at risk of one network that `user_id` may
    renew, silently where the network allows; progress in `job.meta` for the
    page that polls it."""
    session = get_session()
    organization = session.get(Organization, organization_id)
    membership = session.exec(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).first()
    job = get_current_job()
    meta = {"organization_id": organization_id, "network": network_key, "done": 0, "total": 0,
            "renewed": [], "needs_consent": [], "refreshed": [], "failed": [], "finished": False}
    # The tokens at risk (expired or expiring) that this person may renew:
    # what the button counted.
    rows = [] if organization is None or membership is None else [
        row for row in visible_profiles(membership, organization, Scope(network=network_key, statuses=AT_RISK))
        if row.renew
    ]
    meta["total"] = len(rows)
    _save_progress(job, meta)
    adapter = adapter_for(network_key)
    for row in rows:
        profile_id = row.profile.id
        if row.credential is None or row.credential.is_invalid or row.status.status == Status.EXPIRED:
            meta["needs_consent"].append(profile_id)
        else:
            try:
                outcome = renew_silently(profile_id, adapter, seen_version=row.credential.version, force=True,
                                         user_id=user_id)
            except Transient as error:
                meta["failed"].append([profile_id, "unavailable"])
                log.info("renew-all: profile %s postponed: %s", profile_id, error.detail)
            else:
                if outcome.renewed:
                    meta["renewed"].append(profile_id)
                elif outcome.result in ("not_yet", "app_settings"):
                    meta["failed"].append([profile_id, outcome.result])
                else:
                    # Refreshed without moving the connection's end: a consent renews it.
                    meta["needs_consent"].append(profile_id)
                    if outcome.result == "refreshed":
                        meta["refreshed"].append(profile_id)
        meta["done"] += 1
        _save_progress(job, meta)
    meta["finished"] = True
    _save_progress(job, meta)
    return meta


def _save_progress(job, meta):
    if job is not None:
        job.meta.update(meta)
        job.save_meta()


@in_app_context
def check_health(now=None):
    """Enqueue validations of the current credentials not checked for a day,
    every kind (a fixed end without a refresh token too: a password changed
    at the network kills it early), those past their end aside: per network
    at most its hourly quota (`rules.health_check_quota`), never-checked
    first, then the soonest-ending."""
    now = now or utcnow()
    session = get_session()
    populations = session.exec(
        select(SocialProfile.network, func.count()).join(Credential, Credential.profile_id == SocialProfile.id)
        .where(*checkable(now)).group_by(SocialProfile.network)
    ).all()
    enqueued = 0
    for network_key, population in populations:
        quota = health_check_quota(population, network(network_key).health_checks_per_hour)
        for profile_id in session.exec(due_for_check(network_key, now).limit(quota)).all():
            enqueue("jobs.renewal.check_profile", profile_id, retry=BACKOFF)
            enqueued += 1
    return enqueued


def checkable(now):
    """A current credential that a check can tell something of: not known dead, not past its end."""
    expiry = effective_expiry_sql()
    return (Credential.superseded_at.is_(None), Credential.status == CredentialState.ACTIVE,
            or_(expiry.is_(None), expiry > now))


def due_for_check(network_key, now):
    """Profile ids of the network's credentials due a check, in the order they are checked."""
    expiry = effective_expiry_sql()
    return (
        select(Credential.profile_id).join(SocialProfile, SocialProfile.id == Credential.profile_id)
        .where(SocialProfile.network == network_key, *checkable(now),
               or_(Credential.last_checked_at.is_(None), Credential.last_checked_at <= now - HEALTH_CHECK_EVERY))
        .order_by(Credential.last_checked_at.is_not(None), expiry.is_(None), expiry, Credential.last_checked_at,
                  Credential.id)
    )


@in_app_context
def check_profile(profile_id, second_look=False):
    """Validate one profile's token with its network (debug_token, introspection,
    tokeninfo, /me); a dead one is marked invalid at once."""
    return validate(profile_id, second_look, "jobs.renewal.check_profile")


def validate(profile_id, second_look, job_name):
    """`check_credential` of one profile; a doubtful answer runs `job_name`
    again a little later, a busy network raises for RQ to retry."""
    profile = get_session().get(SocialProfile, profile_id)
    if profile is None:
        return "no_profile"
    try:
        return check_credential(profile_id, adapter_for(profile.network), second_look=second_look)
    except RecheckLater:
        queue().enqueue_in(timedelta(seconds=SECOND_LOOK_SECONDS), job_name, profile_id, True)
        return "recheck"
    except Transient as error:
        wait_as_told(error)
        raise


@in_app_context
def warn_before_graph_version_ends():
    """Tell the Owners once when the configured Graph API version ends within 30 days."""
    return app_settings.warn_before_graph_version_ends()
