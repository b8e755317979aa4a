"""The periodic scan: renew what can be renewed silently, then tell people
about every token that crossed a notice threshold or stopped working.

Idempotent by construction: every notice and delivery has a unique key
(credential, effective expiry, threshold or "invalid", recipient, channel)
and is written with an insert-if-absent, so a second scan, or two scans at
once, write and send nothing twice. Notices and deliveries of one scan are
written in one transaction and enqueued only after it committed.
"""
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from jobs import in_app_context
from jobs.renewal import renew_due, validate
from portal.db import keys_in_ranges, locked_session, rows_by_key, utcnow
from portal.models import (
    Credential,
    CredentialState,
    Delivery,
    DeliveryStatus,
    Membership,
    Notification,
    NotificationPreference,
    Organization,
    ProfileAccess,
    SocialProfile,
    User,
    WebhookDelivery,
    current_credential,
)
from portal.notifications import outbox, rules
from portal.queue import LAST_SCAN, redis, redis_key
from portal.versions import changed

log = logging.getLogger("keepalive.scan")

# An "at expiry" notice is still sent this long after the expiry (a scan
# that was down for a while catches up); older expiries are not looked at.
LOOKBACK = timedelta(days=3)
# Invalidations are looked for since the last scan, less this overlap (a
# transaction that set `invalidated_at` may commit after a scan read).
INVALID_OVERLAP = timedelta(hours=1)
# A pending delivery never tried this long after it was written lost its
# job (the scan stopped between commit and enqueue): it is enqueued again.
STALE_PENDING = timedelta(minutes=10)
STALE_LIMIT = 1000
INSERT_CHUNK = 500


@dataclass
class ScanReport:
    renewals: int = 0
    credentials: int = 0
    notifications: int = 0
    deliveries: list = field(default_factory=list)  # ids of deliveries written by this scan
    webhooks: list = field(default_factory=list)  # ids of webhook deliveries written or re-enqueued
    requeued: list = field(default_factory=list)  # ids of stale pending deliveries enqueued again


@in_app_context
def scan(now=None):
    """Renew silently what is due, write the notices that are due, enqueue their deliveries."""
    now = now or utcnow()
    report = ScanReport(renewals=renew_due(now))
    since = invalid_since(now)
    with locked_session() as session:
        due = due_credentials(session, now, since)
        report.credentials = len(due)
        report.notifications, report.deliveries = write_notices(session, due, now)
        report.webhooks = insert_absent(session, WebhookDelivery, outbox.notice_rows(session, due, now))
        session.commit()
        report.requeued = stale_deliveries(session, now, exclude=set(report.deliveries))
        report.webhooks += [i for i in outbox.stale_webhooks(session, now, STALE_PENDING) if i not in report.webhooks]
    outbox.enqueue_deliveries(report.deliveries + report.requeued)
    outbox.enqueue_webhooks(report.webhooks)
    redis().set(redis_key(LAST_SCAN), now.isoformat())
    log.info("scan: %d renewal(s), %d credential(s) due, %d notice(s), %d deliveries, %d re-enqueued",
             report.renewals, report.credentials, report.notifications, len(report.deliveries),
             len(report.requeued))
    return report


@in_app_context
def check_reported(profile_id, second_look=False):
    """A tool said the network refused this profile's token (the token API):
    validate it now. A dead one is marked, and its people are told at once,
    as the scan tells them; the scan finds those notices written and sends
    nothing twice. A live one is left alone."""
    outcome = validate(profile_id, second_look, "jobs.scan.check_reported")
    if outcome == "invalid":
        notify_now(profile_id)
    return outcome


def notify_now(profile_id, now=None):
    """The notices of the profile's current credential, if it is due one,
    written and enqueued as the scan does, without waiting for it."""
    now = now or utcnow()
    with locked_session() as session:
        row = session.exec(
            select(Credential, SocialProfile, Organization)
            .join(SocialProfile, SocialProfile.id == Credential.profile_id)
            .join(Organization, Organization.id == SocialProfile.organization_id)
            .where(Credential.profile_id == profile_id, Credential.superseded_at.is_(None))
        ).first()
        if row is None:
            return
        credential, profile, organization = row
        notice = rules.due_notice(credential, now, organization.thresholds, invalid_since=now - INVALID_OVERLAP)
        if notice is None:
            return
        due = [(notice, credential, profile, organization)]
        _, deliveries = write_notices(session, due, now)
        webhooks = insert_absent(session, WebhookDelivery, outbox.notice_rows(session, due, now))
        session.commit()
    outbox.enqueue_deliveries(deliveries)
    outbox.enqueue_webhooks(webhooks)


def invalid_since(now):
    """From when to look for newly invalid credentials: the last scan (never
    later than now), less an overlap; without a last scan, LOOKBACK."""
    value = redis().get(redis_key(LAST_SCAN))
    try:
        last = datetime.fromisoformat(value.decode()) if value else None
    except (ValueError, UnicodeDecodeError):
        last = None
    if last is None or last.tzinfo is None:
        return now - LOOKBACK
    return min(last, now) - INVALID_OVERLAP


def due_credentials(session, now, since):
    """(notice, credential, profile, organization) of every current credential
    due a notice now. Only indexed ranges are read: credentials whose
    effective expiry (or end of data access) lies between now - LOOKBACK and
    now + the largest threshold, and those invalidated since `since`; the cost
    follows what is due, not how many credentials there are."""
    organizations = {o.id: o for o in session.exec(select(Organization)).all()}
    if not organizations:
        return []
    horizon = now + timedelta(days=max((max(o.thresholds, default=0) for o in organizations.values()), default=0))
    earliest = now - LOOKBACK
    active = Credential.status == CredentialState.ACTIVE
    ids = session.exec(keys_in_ranges(
        Credential.id,
        [current_credential(refreshable=False), active,
         Credential.expires_at > earliest, Credential.expires_at <= horizon],
        [current_credential(refreshable=True), active,
         Credential.refresh_expires_at > earliest, Credential.refresh_expires_at <= horizon],
        [Credential.superseded_at.is_(None), active,
         Credential.data_access_expires_at > earliest, Credential.data_access_expires_at <= horizon],
        [Credential.superseded_at.is_(None), Credential.status == CredentialState.INVALID,
         Credential.invalidated_at >= since],
    )).scalars().all()
    with_profile = select(Credential, SocialProfile).join(SocialProfile, SocialProfile.id == Credential.profile_id)
    rows = rows_by_key(session, with_profile, Credential.id, ids)
    told_dead = told_dead_of(session, [credential.id for credential, _ in rows if credential.is_invalid])
    due = []
    for credential, profile in rows:
        organization = organizations[profile.organization_id]
        notice = rules.due_notice(credential, now, organization.thresholds, invalid_since=since,
                                  told_dead=credential.id in told_dead)
        if notice is not None:
            due.append((notice, credential, profile, organization))
    return due


def told_dead_of(session, credential_ids):
    """Those of `credential_ids` whose people were already told they are dead
    (at their expiry, or when found invalid): a failed renewal that marks an
    expired token invalid tells nobody a second time."""
    if not credential_ids:
        return set()
    told = select(Notification.credential_id).where(Notification.kind.in_([rules.KIND_EXPIRED, rules.KIND_INVALID]))
    return set(rows_by_key(session, told.distinct(), Notification.credential_id, credential_ids))


def write_notices(session, due, now):
    """Insert the in-app notices and the deliveries of `due` if absent;
    returns (notices inserted, ids of deliveries inserted)."""
    if not due:
        return 0, []
    from jobs.deliver import SENDERS  # the channels that have a sender

    audience = Audience(session, due)
    personal = tuple(channel for channel in SENDERS if channel in rules.PERSONAL_CHANNELS)
    notifications, deliveries = [], []
    for notice, credential, profile, organization in due:
        people = audience.recipients(profile)
        if people and organization.sealed_slack_webhook_url and "slack" in SENDERS:
            # One Slack message per notice, tied to the first recipient's notice for its content.
            deliveries.append({
                "key": rules.organization_delivery_key(credential.id, notice, organization.id, "slack"),
                "notification_key": rules.notification_key(credential.id, notice, people[0].id),
                "channel": "slack", "recipient": f"organization:{organization.id}",
            })
        for user in people:
            key = rules.notification_key(credential.id, notice, user.id)
            notifications.append({
                "key": key, "user_id": user.id, "organization_id": organization.id,
                "profile_id": profile.id, "credential_id": credential.id, "kind": notice.kind,
                "threshold_days": notice.threshold_days, "expires_at": notice.expires_at, "created_at": now,
            })
            choice = rules.preference_for(audience.preferences(user.id, organization.id), profile.id)
            for channel in rules.channels_for(choice, available=personal):
                deliveries.append({
                    "key": rules.delivery_key(credential.id, notice, user.id, channel),
                    "notification_key": key, "channel": channel, "recipient": user.email,
                })
    inserted = insert_absent(session, Notification, notifications)
    for organization_id in {row["organization_id"] for row in notifications} if inserted else ():
        changed(session, organization_id=organization_id)  # new notices, as a scan that ran before would not
    ids = notification_ids(session, [row["key"] for row in notifications])
    rows = [
        {"key": d["key"], "notification_id": ids[d["notification_key"]], "channel": d["channel"],
         "recipient": d["recipient"], "status": DeliveryStatus.PENDING, "attempts": 0, "created_at": now}
        for d in deliveries
    ]
    return len(inserted), insert_absent(session, Delivery, rows)


class Audience:
    """Who may renew the profiles of `due`, and their preferences, read in
    a few queries for the whole scan."""

    def __init__(self, session, due):
        organization_ids = {organization.id for _, _, _, organization in due}
        profile_ids = {profile.id for _, _, profile, _ in due}
        self.memberships = defaultdict(list)
        self.users = {}
        for membership, user in session.exec(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id.in_(organization_ids))
        ).all():
            self.memberships[membership.organization_id].append(membership)
            self.users[user.id] = user
        self.levels = defaultdict(dict)
        for access in session.exec(select(ProfileAccess).where(ProfileAccess.profile_id.in_(profile_ids))).all():
            self.levels[access.profile_id][access.user_id] = access.level
        self._preferences = defaultdict(list)
        for preference in session.exec(
            select(NotificationPreference).where(
                NotificationPreference.organization_id.in_(organization_ids),
                or_(NotificationPreference.profile_id.is_(None), NotificationPreference.profile_id.in_(profile_ids)),
            )
        ).all():
            self._preferences[(preference.user_id, preference.organization_id)].append(preference)

    def recipients(self, profile):
        return rules.recipients(self.memberships[profile.organization_id], self.levels[profile.id], self.users)

    def preferences(self, user_id, organization_id):
        return self._preferences[(user_id, organization_id)]


def dialect_insert(session, model):
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite, PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"insert-if-absent is not written for {name}")


def insert_absent(session, model, rows):
    """Insert `rows` whose unique `key` is not there yet; rows already
    written (by an earlier or a concurrent scan) are left alone. Returns
    the ids of the rows inserted."""
    new_ids = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        statement = dialect_insert(session, model).values(chunk).on_conflict_do_nothing(index_elements=["key"])
        new_ids.extend(session.execute(statement.returning(model.id)).scalars().all())
    return sorted(new_ids)


def notification_ids(session, keys):
    return dict(rows_by_key(session, select(Notification.key, Notification.id), Notification.key, keys))


def stale_deliveries(session, now, exclude=()):
    """Pending deliveries never tried, written long enough ago that their job was lost."""
    ids = session.exec(
        select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.attempts == 0, Delivery.created_at < now - STALE_PENDING)
        .order_by(Delivery.id)
        .limit(STALE_LIMIT)
    ).all()
    return [delivery_id for delivery_id in ids if delivery_id not in exclude]
