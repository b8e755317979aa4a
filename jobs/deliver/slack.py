"""Slack: one message per notice to the organization's incoming webhook."""
import json

from jobs import in_app_context
from jobs.deliver.http_post import post_json
from portal.crypto import unseal
from portal.db import get_session
from portal.models import Organization
from portal.notifications import messages
from portal.notifications.relevance import relevant_notices


def send_slack(session, delivery_ids, batch):
    notices = relevant_notices(session, delivery_ids, "slack")
    for delivery_id in delivery_ids:
        if not batch.claim(delivery_id):
            continue
        notice = notices.get(delivery_id)
        if notice is None:
            batch.obsolete(delivery_id)
            continue
        post = batch.alone(delivery_id, slack_post, notice)
        batch.commit()  # no transaction stays open while Slack answers
        answer = batch.alone(delivery_id, post_json, *post) if post is not None else None
        if answer is not None:
            kind, detail, _ = answer
            batch.settle(delivery_id, kind, detail)
    batch.commit()


def slack_post(notice):
    """(the organization's webhook URL, the message of `notice` as JSON bytes)."""
    message = messages.slack_message(notice.notification, notice.profile, notice.organization)
    return unseal(notice.organization.sealed_slack_webhook_url), json.dumps(message).encode()


@in_app_context
def send_slack_test(organization_id):
    """"Send a test" of Settings → Integrations: one message, not tried again
    (the person sees whether it came, and sends another). Returns what Slack said."""
    organization = get_session().get(Organization, organization_id)
    if organization is None or not organization.sealed_slack_webhook_url:
        return "no Slack webhook"
    message = json.dumps(messages.slack_test_message(organization))
    kind, detail, _ = post_json(unseal(organization.sealed_slack_webhook_url), message.encode())
    return detail if kind else "sent"
