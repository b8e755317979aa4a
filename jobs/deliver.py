"""Delivering the outbox: workers send pending deliveries written by the scan.

Each delivery is claimed before it is sent (pending -> sending, a
conditional UPDATE that one worker wins) and marked sent after, so a job
that runs again (a retry, an abandoned job requeued, a duplicate enqueue)
skips everything already sent or being sent elsewhere.

The one window no outbox can close: the SMTP server has accepted a message
(its "250" after DATA) and the worker dies before the commit that marks the
delivery sent. That delivery stays "sending". When RQ requeues the dead
worker's job (its StartedJobRegistry cleanup, once the heartbeat lapsed),
the job finds the delivery it had in flight in its own `job.meta` and sends
it again: the recipient may then get that one message twice, which is
preferred to losing a notice. Every other delivery is sent exactly once.
"""
import logging
import smtplib
import socket
from collections import Counter

from flask import current_app
from flask_mail import Connection
from rq import Retry, get_current_job
from sqlalchemy import update
from sqlmodel import select

from jobs import in_app_context
from portal.db import get_session, utcnow
from portal.links import service as links
from portal.links.rules import Purpose
from portal.models import Delivery, Membership, Notification, Organization, ProfileAccess, SocialProfile, User
from portal.notify import messages
from portal.notify.rules import failure_kind, still_relevant
from portal.permissions import may_renew
from portal.queue import enqueue
from portal.renewal.credentials import current_credential

log = logging.getLogger("keepalive.deliver")

PENDING, SENDING, SENT, FAILED, OBSOLETE = "pending", "sending", "sent", "failed", "obsolete"
# Transient failures (4xx, connection lost): try again after 1 min, 5 min, 15 min, 1 h, 3 h.
BACKOFF = [60, 300, 900, 3600, 10800]
JOB_TIMEOUT = 600
IN_FLIGHT = "in_flight"  # job.meta: the delivery being sent, for a requeued job to resume


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
    session = get_session()
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
    """Claims and outcomes of the deliveries of one job, each committed at once."""

    def __init__(self, session, job):
        self.session, self.job = session, job
        self.resumable = job.meta.get(IN_FLIGHT) if job is not None else None
        # Without retries left (or without RQ), a transient failure is final.
        self.final = job is None or not job.retries_left

    def claim(self, delivery_id):
        """Take the delivery for this job; False if it is sent, failed, or
        being sent by another job. The delivery this job had in flight when
        its worker died is taken back."""
        states = (PENDING, SENDING) if delivery_id == self.resumable else (PENDING,)
        result = self.session.exec(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status.in_(states))
            .values(status=SENDING, attempts=Delivery.attempts + 1)
        )
        self.session.commit()
        if result.rowcount != 1:
            return False
        if self.job is not None:
            self.job.meta[IN_FLIGHT] = delivery_id
            self.job.save_meta()
        return True

    def finish(self, delivery_id, status, error=None):
        values = {"status": status, "last_error": error}
        if status == SENT:
            values["sent_at"] = utcnow()
        if status == PENDING and self.final:
            values["status"] = FAILED
        self.session.exec(
            update(Delivery).where(Delivery.id == delivery_id, Delivery.status == SENDING).values(**values)
        )
        self.session.commit()
        if self.job is not None:
            self.job.meta.pop(IN_FLIGHT, None)
            self.job.save_meta()
        return values["status"]


def send_emails(session, delivery_ids, batch, counts):
    """Send email deliveries over one SMTP connection; True if some must be retried."""
    connection = None
    retry = False
    try:
        for delivery_id in delivery_ids:
            if not batch.claim(delivery_id):
                counts["skipped"] += 1
                continue
            message = email_of(session, delivery_id)
            if message is None:
                batch.finish(delivery_id, OBSOLETE)
                counts[OBSOLETE] += 1
                continue
            try:
                if connection is None:
                    connection = smtp_connection().__enter__()
                connection.send(message)
            except (smtplib.SMTPException, OSError) as error:
                kind = failure_kind(error)
                detail = describe(error)
                if kind == "permanent":
                    batch.finish(delivery_id, FAILED, detail)
                    counts[FAILED] += 1
                    log.warning("delivery %s failed for good: %s", delivery_id, detail)
                    continue
                status = batch.finish(delivery_id, PENDING, detail)
                counts["retry" if status == PENDING else FAILED] += 1
                retry |= status == PENDING
                log.info("delivery %s postponed: %s", delivery_id, detail)
                if kind == "connection":
                    connection = close(connection)
                    # The rest stay pending for the retry.
                    remaining = delivery_ids[delivery_ids.index(delivery_id) + 1:]
                    counts["retry"] += len(remaining)
                    retry |= bool(remaining)
                    break
                continue
            batch.finish(delivery_id, SENT)
            counts[SENT] += 1
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


def email_of(session, delivery_id):
    """The message of an email delivery, with a fresh renewal link; None if
    the notice no longer applies (renewed meanwhile, or the person may no
    longer renew the profile)."""
    delivery = session.get(Delivery, delivery_id)
    notification = session.get(Notification, delivery.notification_id) if delivery.notification_id else None
    if notification is None:
        return None
    user = session.get(User, notification.user_id)
    profile = session.get(SocialProfile, notification.profile_id)
    if user is None or not user.active or profile is None:
        return None
    credential = current_credential(session, profile.id)
    if not still_relevant(notification, credential):
        return None
    membership = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == profile.organization_id)
    ).first()
    level = session.exec(
        select(ProfileAccess.level).where(ProfileAccess.user_id == user.id, ProfileAccess.profile_id == profile.id)
    ).first()
    if not may_renew(membership, level):
        return None
    organization = session.get(Organization, profile.organization_id)
    secret, _ = links.issue(session, profile, user.email, Purpose.MEMBER)
    # Committed before the SMTP conversation: no transaction stays open while the server answers.
    session.commit()
    return messages.token_notice(notification, user, profile, organization, credential, secret)


# The channels that have a sender; the scan writes deliveries for these only.
SENDERS = {"email": send_emails}
