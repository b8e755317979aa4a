"""Delivering the outbox: workers send the deliveries the scan wrote
(`deliver`, a batch of them) and webhook events (`deliver_webhook`, one).

The batch protocol (claim, record, commit, and what a requeued job takes
back) is in `batch`; each channel has a module of its own. Jobs are
enqueued by name (`portal.notifications.outbox`).
"""
from collections import Counter

from rq import get_current_job
from sqlmodel import select

from jobs import in_app_context
from jobs.deliver.batch import Batch, TransientDeliveryError
from jobs.deliver.email import send_emails
from jobs.deliver.push import send_push
from jobs.deliver.slack import send_slack
from jobs.deliver.webhooks import deliver_webhook  # noqa: F401 - enqueued as jobs.deliver.deliver_webhook
from portal.db import get_session
from portal.models import Delivery

# The channels that have a sender; the scan writes deliveries for these only.
SENDERS = {"email": send_emails, "slack": send_slack, "push": send_push}


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
            batch = Batch(session, job, counts)
            send(session, ids, batch)
            retry |= batch.retry
    if retry:
        raise TransientDeliveryError(f"{counts['retry']} delivery(ies) to try again")
    return dict(counts)
