"""Web push: browsers subscribe, the worker sends with pywebpush to the
subscription's endpoint (here a local server standing in for the push
service), and a browser the push service forgot is dropped."""
import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis import Redis
from sqlmodel import select

from jobs.scan import scan
from portal.models import Delivery, NotificationPreference, PushSubscription
from portal.notifications.webpush import new_vapid_keys
from tests import factories
from tests.conftest import run_jobs
from tests.receivers import Receiver

DAY = timedelta(days=1)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys():
    """A real P-256 key pair and auth secret, as a browser's subscription holds."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": b64url(public), "auth": b64url(b"0123456789abcdef")}


@pytest.fixture
def push_service():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def vapid(app_config):
    private, public = new_vapid_keys()
    app_config.update(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public, VAPID_SUBJECT="mailto:ops@example.test")
    return public


def subscriber(session, app):
    org = factories.organization(session, name="Northwind")
    owner = factories.member(session, org, role="owner", email="owner@example.test")
    page = factories.profile(session, org, name="Northwind Café")
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, email=False, push=True))
    session.commit()
    with app.app_context():
        factories.credential(session, page, expires_in=3 * DAY - timedelta(minutes=1))
    return org, owner, page


def subscribe(auth, client, endpoint):
    token = client.get("/settings/personal").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    return client.post("/notifications/push/subscriptions", json={"endpoint": endpoint, "keys": browser_keys()},
                       headers={"X-CSRFToken": token})


def fresh(session, model):
    session.commit()
    session.expire_all()
    return session.exec(select(model).order_by(model.id)).all()


def test_a_notice_is_pushed_with_vapid_and_an_encrypted_body(vapid, app, client, auth, session, push_service):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    html = client.get("/settings/personal").get_data(as_text=True)
    assert "Subscribe this browser" in html and f'data-public-key="{vapid}"' in html
    assert subscribe(auth, client, push_service.url("/push/abc")).status_code == 201
    assert subscribe(auth, client, push_service.url("/push/abc")).status_code == 201  # the same browser again

    with app.app_context():
        scan()
    run_jobs(app)

    [(path, headers, body)] = push_service.requests
    assert path == "/push/abc"
    assert headers["authorization"].startswith("vapid t=") and f"k={vapid}" in headers["authorization"]
    assert headers["content-encoding"] == "aes128gcm"
    assert b"Northwind" not in body and len(body) > 100  # encrypted for the browser's key
    [delivery] = fresh(session, Delivery)
    assert (delivery.channel, delivery.status) == ("push", "sent")
    assert len(fresh(session, PushSubscription)) == 1


def test_a_gone_subscription_is_deleted(vapid, app, client, auth, session, push_service):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    subscribe(auth, client, push_service.url("/push/old"))
    push_service.statuses = [410]
    with app.app_context():
        scan()
    run_jobs(app)
    assert fresh(session, PushSubscription) == []
    [delivery] = fresh(session, Delivery)
    assert delivery.status == "failed" and "410" in delivery.last_error


def test_push_switched_off_after_the_scan_is_not_sent(vapid, app, client, auth, session, push_service):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    subscribe(auth, client, push_service.url("/push/abc"))
    with app.app_context():
        scan()
    session.rollback()  # a snapshot after the scan's writes
    preference = session.exec(select(NotificationPreference).where(NotificationPreference.user_id == owner.id)).one()
    preference.push = False
    session.add(preference)
    session.commit()
    run_jobs(app)
    assert push_service.requests == []
    [delivery] = fresh(session, Delivery)
    assert delivery.status == "obsolete"


def test_bad_subscriptions_are_400(vapid, app, client, auth, session):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    token = client.get("/settings/personal").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    for data in (None, {"endpoint": "ftp://x"}, {"endpoint": "https://push.example.test/1", "keys": {"p256dh": "abc", "auth": "x"}}):
        response = client.post("/notifications/push/subscriptions", json=data, headers={"X-CSRFToken": token})
        assert response.status_code == 400
    assert fresh(session, PushSubscription) == []


def test_service_worker_is_served_from_the_root(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "notificationclick" in response.get_data(as_text=True)


def test_vapid_keys_command(runner):
    result = runner.invoke(args=["vapid-keys"])
    assert result.exit_code == 0
    assert "VAPID_PRIVATE_KEY=" in result.output and "VAPID_PUBLIC_KEY=" in result.output
