"""Delivering the outbox: workers send pending deliveries written by the scan.

Each delivery is claimed before it is sent (pending -> sending, a
conditional UPDATE that one worker wins) and marked sent after, so a job
that runs again (a retry, an abandoned job requeued, a duplicate enqueue)
skips everything already sent or being sent elsewhere. A job reads what its
batch needs at once, then spends one commit per delivery: its claim, which
also records how the delivery before it went (the batch's last outcome has
a commit of its own).

The one window no outbox can close: the SMTP server has accepted a message
(its "250" after DATA) and the worker dies before the commit that marks the
delivery sent (the next claim's). That delivery stays "sending". When RQ
requeues the dead worker's job (its StartedJobRegistry cleanup, once the
heartbeat lapsed), the job finds the delivery it had in flight in its own
`job.meta` and sends it again: the recipient may then get that one message
twice, which is preferred to losing a notice. Every other delivery is sent
exactly once.
"""
import json
import logging
import smtplib
import socket
import time
from collections import Counter, defaultdict
from typing import NamedTuple

import httpx
import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from flask import current_app
from flask_mail import Connection
from rq import Retry, get_current_job
from sqlalchemy import delete, or_, update
from sqlmodel import select

from jobs import in_app_context
from portal.db import get_session, utcnow
from portal.links import service as links
from portal.crypto import unseal
from portal.models import (
    Credential,
    Delivery,
    Membership,
    Notification,
    NotificationPreference,
    Organization,
    ProfileAccess,
    PushSubscription,
    SocialProfile,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.notify.events import http_failure_kind, resolves_inward, signed_headers
from portal.notify import messages
from portal.notify.rules import failure_kind, preference_for, still_relevant
from portal.permissions import may_renew
from portal.queue import enqueue
from portal.renewal.credentials import current_credential

log = logging.getLogger("keepalive.deliver")

PENDING, SENDING, SENT, FAILED, OBSOLETE = "pending", "sending", "sent", "failed", "obsolete"
# Transient failures (4xx, connection lost): try again after 1 min, 5 min, 15 min, 1 h, 3 h.
BACKOFF = [60, 300, 900, 3600, 10800]
JOB_TIMEOUT = 600
IN_FLIGHT = "in_flight"  # job.meta: the deliveries a dead worker may have left "sending", for a requeued job
# The claims' and outcomes' UPDATEs leave alone any object of their row in the
# session (a sender reads a delivery's row after claiming it, never after it).
UNSYNCHRONIZED = {"synchronize_session": False}


class TransientDeliveryError(Exception):
    """Some deliveries of the batch could not be sent yet; RQ retries the job."""


def enqueue_batch(delivery_ids):
    return enqueue(
        "jobs.deliver.deliver", list(delivery_ids),
        retry=Retry(max=len(BACKOFF), interval=list(BACKOFF)),
        job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
    )


class TimedConnection(Connection):
    """Flask-Mail's connection with a time-out on every SMTP call.

    Flask-Mail 0.10 opens `smtplib.SMTP(server, port)` with no time-out, so
    a silent server would hold a worker forever. smtplib applies the
    `timeout` given at construction to the connect and to every later read
    and write on that socket (kept through STARTTLS); nothing global changes.
    """

    def configure_host(self):
        mail, timeout = self.mail, current_app.config["MAIL_TIMEOUT"]
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=timeout)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=timeout)
        host.set_debuglevel(int(mail.debug))
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


def smtp_connection():
    """What `mail.connect()` returns, with the time-out of TimedConnection."""
    return TimedConnection(current_app.extensions["mail"])


@in_app_context
def deliver(delivery_ids):
    """Send the deliveries `delivery_ids` (a batch); returns counts by outcome.

    Raises TransientDeliveryError when some must be tried again, which RQ
    does with backoff; on the last try they are marked failed instead.
    """
    # Reads, then claims: on SQLite the transaction takes the write lock at
    # its start, or a claim after another worker's commit fails outright.
    session = get_session(writes=True)
    job = get_current_job()
    channels = dict(session.exec(select(Delivery.id, Delivery.channel).where(Delivery.id.in_(delivery_ids))).all())
    counts = Counter()
    retry = False
    for channel, send in SENDERS.items():
        ids = [delivery_id for delivery_id in delivery_ids if channels.get(delivery_id) == channel]
        if ids:
            retry |= send(session, ids, Batch(session, job), counts)
    if retry:
        raise TransientDeliveryError(f"{counts['retry']} delivery(ies) to try again")
    return dict(counts)


class Batch:
    """Claims and outcomes of the deliveries of one job.

    Nothing is written until `commit`, which a sender calls before it talks
    to the outside world: a claim is committed before its delivery is sent,
    and an outcome with the next claim (or the batch's last commit).
    """

    def __init__(self, session, job, model=Delivery):
        self.session, self.job, self.model = session, job, model
        self.resumable = set(job.meta.get(IN_FLIGHT) or ()) if job is not None else set()
        # Without retries left (or without RQ), a transient failure is final.
        self.final = job is None or not job.retries_left
        self.outcomes = []  # (delivery id, values) to write with the next commit
        self.written = []  # ids whose outcome is written in the open transaction
        self.claimed = None  # claimed by this job, outcome not known yet

    def claim(self, delivery_id):
        """Take the delivery for this job; False if it is sent, failed, or
        being sent by another job. The delivery this job had in flight when
        its worker died is taken back."""
        self._write_outcomes()
        states = (PENDING, SENDING) if delivery_id in self.resumable else (PENDING,)
        model = self.model
        result = self.session.exec(
            update(model)
            .where(model.id == delivery_id, model.status.in_(states))
            .values(status=SENDING, attempts=model.attempts + 1)
            .execution_options(**UNSYNCHRONIZED)
        )
        if result.rowcount != 1:
            return False
        self.claimed = delivery_id
        return True

    def finish(self, delivery_id, status, error=None, **extra):
        """Record how a claimed delivery went (written by the next commit);
        returns the status recorded."""
        values = {"status": status, "last_error": error, **extra}
        if status == SENT:
            values["sent_at"] = utcnow()
        if status == PENDING and self.final:
            values["status"] = FAILED
        self.outcomes.append((delivery_id, values))
        if delivery_id == self.claimed:
            self.claimed = None
        return values["status"]

    def commit(self):
        """Write the claims and outcomes so far. Before that, job.meta names
        every delivery this commit moves out of "sending" or leaves in it, so
        that whether the worker dies before or after the commit, a requeued
        job takes back what it left "sending" (one it finds sent is passed
        over)."""
        self._write_outcomes()
        in_flight = self.written + ([self.claimed] if self.claimed is not None else [])
        if self.job is not None and self.job.meta.get(IN_FLIGHT) != in_flight:
            self.job.meta[IN_FLIGHT] = in_flight
            self.job.save_meta()
        self.session.commit()
        self.written = []

    def _write_outcomes(self):
        model = self.model
        for delivery_id, values in self.outcomes:
            self.session.exec(
                update(model).where(model.id == delivery_id, model.status == SENDING).values(**values)
                .execution_options(**UNSYNCHRONIZED)
            )
            self.written.append(delivery_id)
        self.outcomes.clear()


def settle(batch, delivery_id, kind, detail, counts, **extra):
    """Record how a send went (`kind`: None when it was taken, else the
    failure's kind, with its detail); True if it must be tried again."""
    if kind is None:
        batch.finish(delivery_id, SENT, **extra)
        counts[SENT] += 1
        return False
    if kind == "permanent":
        batch.finish(delivery_id, FAILED, detail, **extra)
        counts[FAILED] += 1
        log.warning("delivery %s failed for good: %s", delivery_id, detail)
        return False
    status = batch.finish(delivery_id, PENDING, detail, **extra)
    counts["retry" if status == PENDING else FAILED] += 1
    log.info("delivery %s postponed: %s", delivery_id, detail)
    return status == PENDING


def send_emails(session, delivery_ids, batch, counts):
    """Send email deliveries over one SMTP connection; True if some must be retried."""
    notices = email_notices(session, delivery_ids)
    connection = None
    retry = False
    try:
        with messages.url_context():
            for position, delivery_id in enumerate(delivery_ids):
                message = claimed_email(session, batch, delivery_id, notices.get(delivery_id), counts)
                if message is None:
                    continue
                kind = detail = None
                try:
                    if connection is None:
                        connection = smtp_connection().__enter__()
                    connection.send(message)
                except (smtplib.SMTPException, OSError) as error:
                    kind, detail = failure_kind(error), describe(error)
                retry |= settle(batch, delivery_id, kind, detail, counts)
                if kind == "connection":
                    connection = close(connection)
                    remaining = len(delivery_ids) - position - 1  # they stay pending for the retry
                    counts["retry"] += remaining
                    retry |= remaining > 0
                    break
        batch.commit()
    finally:
        close(connection)
    return retry


def close(connection):
    if connection is not None and connection.host is not None:
        try:
            connection.host.quit()
        except (smtplib.SMTPException, OSError):
            connection.host.close()
    return None


def describe(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout):
        return "SMTP server did not answer in time"
    return f"{type(error).__name__}: {error}"


class EmailNotice(NamedTuple):
    """What the email of one notice to one person is made of."""

    notification: Notification
    user: User
    profile: SocialProfile
    organization: Organization
    credential: Credential


def email_notices(session, delivery_ids):
    """{delivery id: EmailNotice} of the email deliveries whose notice still
    holds: the credential it spoke of is still current, in the same state,
    and its recipient is active, may still renew the profile and still wants
    email about it (a retry may come hours after the scan). Read for a whole
    batch at once, in five queries, when the batch starts: a renewal during
    the batch's few seconds no longer stops its notice."""
    rows = session.exec(
        select(Delivery.id, Notification, User, SocialProfile, Organization)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .join(SocialProfile, SocialProfile.id == Notification.profile_id)
        .join(Organization, Organization.id == SocialProfile.organization_id)
        .where(Delivery.id.in_(delivery_ids))
    ).all()
    user_ids = {user.id for _, _, user, _, _ in rows}
    profile_ids = {profile.id for _, _, _, profile, _ in rows}
    organization_ids = {organization.id for *_, organization in rows}
    credentials = {}
    for credential in session.exec(
        select(Credential)
        .where(Credential.profile_id.in_(profile_ids), Credential.superseded_at.is_(None))
        .order_by(Credential.id)
    ).all():
        credentials.setdefault(credential.profile_id, credential)
    memberships = {(m.user_id, m.organization_id): m for m in session.exec(
        select(Membership).where(Membership.user_id.in_(user_ids), Membership.organization_id.in_(organization_ids))
    ).all()}
    levels = {(a.user_id, a.profile_id): a.level for a in session.exec(
        select(ProfileAccess).where(ProfileAccess.user_id.in_(user_ids), ProfileAccess.profile_id.in_(profile_ids))
    ).all()}
    preferences = defaultdict(list)
    for preference in session.exec(
        select(NotificationPreference).where(
            NotificationPreference.user_id.in_(user_ids), NotificationPreference.organization_id.in_(organization_ids),
            or_(NotificationPreference.profile_id.is_(None), NotificationPreference.profile_id.in_(profile_ids)))
    ).all():
        preferences[(preference.user_id, preference.organization_id)].append(preference)
    notices = {}
    for delivery_id, notification, user, profile, organization in rows:
        credential = credentials.get(profile.id)
        if (user.active and still_relevant(notification, credential)
                and may_renew(memberships.get((user.id, organization.id)), levels.get((user.id, profile.id)))
                and preference_for(preferences[(user.id, organization.id)], profile.id).email):
            notices[delivery_id] = EmailNotice(notification, user, profile, organization, credential)
    return notices


def claimed_email(session, batch, delivery_id, notice, counts):
    """Claim an email delivery and write its renewal link, in one commit
    before the SMTP conversation; its message, or None if another job has
    it or its notice no longer holds (then marked obsolete)."""
    if not batch.claim(delivery_id):
        batch.commit()
        counts["skipped"] += 1
        return None
    if notice is None:
        batch.finish(delivery_id, OBSOLETE)
        batch.commit()
        counts[OBSOLETE] += 1
        return None
    secret = links.issue_member_link(session, notice.profile.id, notice.user.email)
    batch.commit()
    return messages.token_notice(*notice, secret)


# --- Slack, web push and outgoing webhooks: one HTTP request per message.

def notice_of(session, delivery_id):
    """(delivery, notification, profile, credential) of a delivery whose
    notice still holds; None if it is moot (renewed meanwhile, profile gone)."""
    delivery = session.get(Delivery, delivery_id)
    notification = session.get(Notification, delivery.notification_id) if delivery.notification_id else None
    if notification is None:
        return None
    profile = session.get(SocialProfile, notification.profile_id)
    if profile is None:
        return None
    credential = current_credential(session, profile.id)
    if not still_relevant(notification, credential):
        return None
    return delivery, notification, profile, credential


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


def send_slack(session, delivery_ids, batch, counts):
    """One message per notice to the organization's Slack incoming webhook."""
    retry = False
    for delivery_id in delivery_ids:
        if not batch.claim(delivery_id):
            counts["skipped"] += 1
            continue
        found = notice_of(session, delivery_id)
        organization = session.get(Organization, found[2].organization_id) if found else None
        if organization is None or not organization.sealed_slack_webhook_url:
            batch.finish(delivery_id, OBSOLETE)
            counts[OBSOLETE] += 1
            continue
        _, notification, profile, _ = found
        url = unseal(organization.sealed_slack_webhook_url)
        message = json.dumps(messages.slack_message(notification, profile, organization)).encode()
        batch.commit()  # no transaction stays open while Slack answers
        kind, detail, _ = post_json(url, message)
        retry |= settle(batch, delivery_id, kind, detail, counts)
    batch.commit()
    return retry


def still_may_renew(session, user, profile):
    membership = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == profile.organization_id)
    ).first()
    level = session.exec(
        select(ProfileAccess.level).where(ProfileAccess.user_id == user.id, ProfileAccess.profile_id == profile.id)
    ).first()
    return bool(may_renew(membership, level))


def still_wants(session, user, profile, channel):
    """Whether `user` still wants notices about `profile` on `channel`."""
    preferences = session.exec(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user.id,
            NotificationPreference.organization_id == profile.organization_id,
            or_(NotificationPreference.profile_id.is_(None), NotificationPreference.profile_id == profile.id))
    ).all()
    return getattr(preference_for(preferences, profile.id), channel)


def vapid_key():
    raw = current_app.config.get("VAPID_PRIVATE_KEY")
    return Vapid02.from_raw(raw.encode()) if raw else None


def send_push(session, delivery_ids, batch, counts):
    """Web push to every browser the person subscribed; a browser the push
    service no longer knows (404, 410) is forgotten."""
    retry = False
    key = vapid_key()
    for delivery_id in delivery_ids:
        if not batch.claim(delivery_id):
            counts["skipped"] += 1
            continue
        found = notice_of(session, delivery_id)
        user = session.get(User, found[1].user_id) if found else None
        if user is not None and not (still_may_renew(session, user, found[2])
                                     and still_wants(session, user, found[2], "push")):
            user = None
        subscriptions = session.exec(
            select(PushSubscription).where(PushSubscription.user_id == user.id).order_by(PushSubscription.id)
        ).all() if user is not None and user.active else []
        if not subscriptions or key is None:
            batch.finish(delivery_id, OBSOLETE, None if key else "VAPID keys are not configured")
            counts[OBSOLETE] += 1
            continue
        data = json.dumps(messages.push_message(found[1], user, found[2]))
        targets = [(s.id, {"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}})
                   for s in subscriptions]
        batch.commit()
        outcomes, gone = [], []
        for subscription_id, info in targets:
            kind, detail = push_to(info, data, key)
            if kind == "gone":
                gone.append(subscription_id)
            outcomes.append((kind, detail))
        if gone:
            session.exec(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            session.commit()
        if any(kind is None for kind, _ in outcomes):
            kind, detail = None, None
        elif any(kind == "transient" for kind, _ in outcomes):
            kind, detail = "transient", next(d for k, d in outcomes if k == "transient")
        else:
            kind, detail = "permanent", "; ".join(d for _, d in outcomes if d)
        retry |= settle(batch, delivery_id, kind, detail, counts)
    batch.commit()
    return retry


def push_to(subscription_info, data, key):
    """(None | "gone" | "transient" | "permanent", detail) of one push."""
    try:
        webpush(subscription_info, data=data, vapid_private_key=key,
                vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
                timeout=current_app.config["WEBHOOK_TIMEOUT"], ttl=86400)
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            return "gone", f"HTTP {status}: the browser unsubscribed"
        kind = http_failure_kind(status) if status else "transient"
        return kind or "transient", f"HTTP {status}" if status else str(error)[:200]
    except requests.RequestException as error:
        return "transient", f"{type(error).__name__}: {error}"[:300]
    return None, None


def enqueue_webhook(delivery_id):
    return enqueue(
        "jobs.deliver.deliver_webhook", delivery_id,
        retry=Retry(max=len(BACKOFF), interval=list(BACKOFF)),
        job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
    )


@in_app_context
def deliver_webhook(delivery_id):
    """Send one signed event to its endpoint (Standard Webhooks); RQ retries
    transient failures with backoff, the same `webhook-id` each time."""
    session = get_session(writes=True)
    batch = Batch(session, get_current_job(), model=WebhookDelivery)
    counts = Counter()
    if not batch.claim(delivery_id):
        return {"skipped": 1}
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        batch.finish(delivery_id, OBSOLETE, "the endpoint is switched off")
        batch.commit()
        return {OBSOLETE: 1}
    body = delivery.payload.encode()
    headers = signed_headers(unseal(endpoint.sealed_secret), delivery.message_id, time.time(), body)
    url = endpoint.url
    batch.commit()
    kind, detail, status = post_json(url, body, headers)
    retry = settle(batch, delivery_id, kind, detail, counts, response_status=status)
    batch.commit()
    if retry:
        raise TransientDeliveryError(detail)
    return dict(counts)


# The channels that have a sender; the scan writes deliveries for these only.
SENDERS = {"email": send_emails, "slack": send_slack, "push": send_push}
