"""The outbox: deliveries of notices (written by the scan) and webhook
events, each sent by a job of `jobs.deliver`, enqueued by its name.

Webhook events are written in the transaction of what they tell (a scan's
notices, a renewal attempt), and enqueued once that transaction has committed.

Nothing is lost: a row is written with what it reports, or not at all; if
the process stops between the commit and the enqueue, the next scan finds
the row still pending and never tried, and enqueues it (`stale_webhooks`).
Nothing is sent twice: each row has a unique key (the notice's, or the
renewal attempt's id, and the endpoint), and a worker claims a row with a
conditional UPDATE before it sends it.
"""
import logging

import sqlalchemy as sa
from rq import Retry
from sqlmodel import Session, select

from portal.db import utcnow
from portal.models import Credential, DeliveryStatus, Organization, WebhookDelivery, WebhookEndpoint
from portal.notifications import events, rules
from portal.queue import enqueue
from portal.status import effective_expiry

log = logging.getLogger("keepalive.outbox")

PENDING_KEY = "keepalive.webhooks_to_enqueue"  # Session.info: ids to enqueue after commit
BATCH_SIZE = 50  # deliveries per job: one SMTP connection each
# Transient failures (4xx, connection lost): try again after 1 min, 5 min, 15 min, 1 h, 3 h.
BACKOFF = [60, 300, 900, 3600, 10800]
JOB_TIMEOUT = 600


def _enqueue_delivery(job_name, *args):
    return enqueue(job_name, *args, retry=Retry(max=len(BACKOFF), interval=list(BACKOFF)),
                   job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400)


def enqueue_batch(delivery_ids):
    """One job for the deliveries `delivery_ids` (`jobs.deliver.deliver`)."""
    return _enqueue_delivery("jobs.deliver.deliver", list(delivery_ids))


def enqueue_deliveries(delivery_ids):
    """One job per batch of deliveries (one SMTP connection each)."""
    return [enqueue_batch(delivery_ids[start:start + BATCH_SIZE])
            for start in range(0, len(delivery_ids), BATCH_SIZE)]


def enqueue_webhooks(delivery_ids):
    """One job per webhook delivery (`jobs.deliver.deliver_webhook`): each
    endpoint retries on its own schedule."""
    return [_enqueue_delivery("jobs.deliver.deliver_webhook", delivery_id) for delivery_id in delivery_ids]


def active_endpoints(session, organization_ids):
    """{organization_id: [endpoint, ...]} of the active endpoints."""
    found = {}
    if not organization_ids:
        return found
    for endpoint in session.exec(
        select(WebhookEndpoint).where(WebhookEndpoint.organization_id.in_(list(organization_ids)),
                                      WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    ).all():
        found.setdefault(endpoint.organization_id, []).append(endpoint)
    return found


def profile_data(profile):
    return {"id": profile.id, "network": profile.network, "name": profile.name, "handle": profile.handle}


def manage_url(profile_id):
    from flask import url_for

    from portal.notifications.messages import url_context

    with url_context():
        return url_for("accounts.profile", profile_id=profile_id, _external=True)


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def notice_data(notice, credential, profile, organization, now):
    """The `data` of a notice's event: the real days left at `now`, not the
    threshold that made it due."""
    kind, days_left = rules.told_at(notice.kind, notice.expires_at, now)
    return {
        "organization": {"id": organization.id, "name": organization.name},
        "profile": profile_data(profile),
        "status": "expiring" if kind == rules.KIND_EXPIRING else "expired",
        "reason": credential.invalid_reason if credential.is_invalid else None,
        "days_left": days_left,
        "expires_at": _iso(notice.expires_at),
        "url": manage_url(profile.id),
    }


def notice_rows(session, due, now):
    """Webhook rows (dicts for an insert-if-absent) of a scan's `due` notices:
    one per notice and subscribed endpoint."""
    endpoints = active_endpoints(session, {organization.id for *_, organization in due})
    rows = []
    for notice, credential, profile, organization in due:
        event_type = events.event_for_notice(notice.kind)
        for endpoint in endpoints.get(organization.id, []):
            if not events.subscribed(endpoint.event_types, event_type):
                continue
            data = notice_data(notice, credential, profile, organization, now)
            rows.append({
                "key": f"{notice_part(credential.id, notice)}:w{endpoint.id}",
                "endpoint_id": endpoint.id, "message_id": events.new_message_id(), "event_type": event_type,
                "payload": events.body(event_type, now, data).decode(), "status": DeliveryStatus.PENDING,
                "attempts": 0, "created_at": now,
            })
    return rows


def notice_part(credential_id, notice):
    expiry = str(int(notice.expires_at.timestamp())) if notice.expires_at is not None else "none"
    return f"c{credential_id}:{expiry}:{notice.marker}"


def renewal_event(session, profile, attempt):
    """Webhook rows for a renewal attempt, in the caller's transaction; they
    are enqueued when that transaction commits."""
    event_type = events.event_for_attempt(attempt.mode, attempt.outcome)
    if event_type is None:
        return []
    endpoints = [endpoint for endpoint in active_endpoints(session, {profile.organization_id}).get(
        profile.organization_id, []) if events.subscribed(endpoint.event_types, event_type)]
    if not endpoints:
        return []
    session.flush()  # the attempt's id makes the key
    organization = session.get(Organization, profile.organization_id)
    credential = None
    if attempt.credential_id is not None:
        credential = session.get(Credential, attempt.credential_id)
    data = {
        "organization": {"id": organization.id, "name": organization.name},
        "profile": profile_data(profile),
        "mode": attempt.mode,
        "reason": attempt.reason,
        "expires_at": _iso(effective_expiry(credential)) if credential is not None and event_type == events.TOKEN_RENEWED else None,
        "url": manage_url(profile.id),
    }
    now = attempt.finished_at or utcnow()
    rows = []
    for endpoint in endpoints:
        row = WebhookDelivery(
            key=f"a{attempt.id}:w{endpoint.id}", endpoint_id=endpoint.id, message_id=events.new_message_id(),
            event_type=event_type, payload=events.body(event_type, now, data).decode(), created_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).extend(row.id for row in rows)
    return rows


def test_event(session, endpoint, now=None):
    """A `webhook.test` event for `endpoint` alone, in the caller's
    transaction, enqueued when it commits: its delivery shows in the log."""
    now = now or utcnow()
    organization = session.get(Organization, endpoint.organization_id)
    message_id = events.new_message_id()
    data = {"organization": {"id": organization.id, "name": organization.name}, "test": True}
    row = WebhookDelivery(key=f"test:{message_id}", endpoint_id=endpoint.id, message_id=message_id,
                          event_type=events.WEBHOOK_TEST, payload=events.body(events.WEBHOOK_TEST, now, data).decode(),
                          created_at=now)
    session.add(row)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(row.id)
    return row


def _enqueue_after_commit(session):
    ids = session.info.pop(PENDING_KEY, None)
    if not ids:
        return
    try:
        enqueue_webhooks(ids)
    except Exception:  # noqa: BLE001 - the rows are committed: the next scan enqueues them
        log.exception("webhook deliveries %s not enqueued; the next scan will", ids)


def _forget(session, *args):
    session.info.pop(PENDING_KEY, None)


def init_app(app):
    """Enqueue a transaction's webhook rows when (and only when) it commits."""
    for name, handler in (("after_commit", _enqueue_after_commit), ("after_rollback", _forget)):
        if not sa.event.contains(Session, name, handler):
            sa.event.listen(Session, name, handler)


def stale_webhooks(session, now, older_than, limit=1000):
    """Pending webhook rows never tried, written long enough ago that their job was lost."""
    return session.exec(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.attempts == 0,
               WebhookDelivery.created_at < now - older_than)
        .order_by(WebhookDelivery.id).limit(limit)
    ).all()
