"""Outgoing webhooks: one signed event to its endpoint (Standard Webhooks)."""
import time
from collections import Counter

from rq import get_current_job

from jobs import in_app_context
from jobs.deliver.batch import Batch, TransientDeliveryError
from jobs.deliver.http_post import post_json
from portal.crypto import unseal
from portal.db import get_session
from portal.models import WebhookDelivery, WebhookEndpoint
from portal.notifications.events import signed_headers


@in_app_context
def deliver_webhook(delivery_id):
    """Send one event; RQ retries transient failures with backoff, the same
    `webhook-id` each time. Returns counts by outcome."""
    session = get_session(writes=True)
    counts = Counter()
    batch = Batch(session, get_current_job(), counts, model=WebhookDelivery)
    if not batch.claim(delivery_id):
        return dict(counts)
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        batch.obsolete(delivery_id, "the endpoint is switched off")
        batch.commit()
        return dict(counts)
    body = delivery.payload.encode()
    headers = batch.alone(delivery_id, signed, endpoint.sealed_secret, delivery.message_id, body)
    url = endpoint.url
    batch.commit()
    answer = batch.alone(delivery_id, post_json, url, body, headers) if headers is not None else None
    if answer is not None:
        kind, detail, status = answer
        batch.settle(delivery_id, kind, detail, response_status=status)
    batch.commit()
    if batch.retry:
        raise TransientDeliveryError(answer[1])
    return dict(counts)


def signed(sealed_secret, message_id, body):
    """The Standard Webhooks headers of `body`, signed with the endpoint's secret."""
    return signed_headers(unseal(sealed_secret), message_id, time.time(), body)
