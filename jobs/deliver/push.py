"""Web push: each notice to every browser its recipient subscribed; a
browser the push service no longer knows (404, 410), or whose endpoint is
not on a push service Keepalive sends to (a row stored before the rule), is
forgotten. Requests go through `receiver_session` (no redirect, and in
production only to the public address that was checked)."""
import json
from collections import defaultdict

import requests
from flask import current_app
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from requests_hardened.ip_filter import InvalidIPAddress
from sqlalchemy import delete
from sqlmodel import select

from jobs.deliver.http_post import PRIVATE_ADDRESS, receiver_session
from portal.models import PushSubscription
from portal.notifications import messages
from portal.notifications.events import http_failure_kind
from portal.notifications.relevance import relevant_notices
from portal.notifications.webpush import endpoint_problem


def vapid_key():
    raw = current_app.config.get("VAPID_PRIVATE_KEY")
    return Vapid02.from_raw(raw.encode()) if raw else None


def send_push(session, delivery_ids, batch):
    key = vapid_key()
    notices = relevant_notices(session, delivery_ids, "push")
    subscriptions = subscriptions_of(session, {notice.user.id for notice in notices.values()})
    for delivery_id in delivery_ids:
        if not batch.claim(delivery_id):
            continue
        notice = notices.get(delivery_id)
        targets = subscriptions.get(notice.user.id) if notice is not None else None
        if not targets or key is None:
            batch.obsolete(delivery_id, None if key else "VAPID keys are not configured")
            continue
        data = batch.alone(delivery_id, push_data, notice)
        if data is None:
            continue
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
        batch.settle(delivery_id, *overall(outcomes))
    batch.commit()


def push_data(notice):
    return json.dumps(messages.push_message(notice.notification, notice.user, notice.profile))


def subscriptions_of(session, user_ids):
    """{user id: [(subscription id, what pywebpush reads), ...]} of the browsers they subscribed."""
    found = defaultdict(list)
    for s in session.exec(
        select(PushSubscription).where(PushSubscription.user_id.in_(user_ids)).order_by(PushSubscription.id)
    ).all():
        found[s.user_id].append((s.id, {"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}}))
    return found


def overall(outcomes):
    """(kind, detail) of a notice from those of its browsers: taken if one
    took it, else to try again if one may still, else refused."""
    if any(kind is None for kind, _ in outcomes):
        return None, None
    if any(kind == "transient" for kind, _ in outcomes):
        return "transient", next(d for k, d in outcomes if k == "transient")
    return "permanent", "; ".join(d for _, d in outcomes if d)


def push_to(subscription_info, data, key):
    """(None | "gone" | "transient" | "permanent", detail) of one push."""
    config = current_app.config
    if endpoint_problem(subscription_info["endpoint"], config["ENV_NAME"] == "production",
                        config["PUSH_EXTRA_HOSTS"]) is not None:
        return "gone", "not a push service Keepalive sends to: the browser is forgotten"
    try:
        with receiver_session() as session:
            webpush(subscription_info, data=data, vapid_private_key=key, vapid_claims={"sub": config["VAPID_SUBJECT"]},
                    timeout=config["WEBHOOK_TIMEOUT"], ttl=86400, requests_session=session)
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            return "gone", f"HTTP {status}: the browser unsubscribed"
        kind = http_failure_kind(status) if status else "transient"
        return kind or "transient", f"HTTP {status}" if status else str(error)[:200]
    except InvalidIPAddress:
        return "permanent", PRIVATE_ADDRESS
    except ValueError as error:  # keys of the right length that are no key (not on the curve): they never will be
        return "gone", f"the browser's keys cannot be used ({error}): the browser is forgotten"
    except requests.RequestException as error:
        return "transient", f"{type(error).__name__}: {error}"[:300]
    return None, None
