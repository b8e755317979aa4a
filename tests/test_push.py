"""Web push: browsers subscribe, the worker sends with pywebpush to the
subscription's endpoint (here a local server standing in for the push
service, allowed by PUSH_EXTRA_HOSTS), and a browser the push service forgot
is dropped. Only the browsers' push services receive anything: no other host,
no redirect."""
import base64
from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis import Redis
from sqlmodel import select

from jobs.scan import scan
from portal.models import Delivery, NotificationPreference, PushSubscription
from portal.notifications.webpush import endpoint_problem, new_vapid_keys
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
    app_config.update(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public, VAPID_SUBJECT="mailto:ops@example.test",
                      PUSH_EXTRA_HOSTS=["127.0.0.1"])
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


def scan_and_send(app):
    with app.app_context():
        scan()
    run_jobs(app)


def forgotten_and_failed(session):
    """The error of the one push delivery, which failed, once its browser was forgotten."""
    assert fresh(session, PushSubscription) == []
    [delivery] = fresh(session, Delivery)
    assert delivery.status == "failed"
    return delivery.last_error


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
    scan_and_send(app)
    assert forgotten_and_failed(session) == "HTTP 410: the browser unsubscribed"


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


@pytest.mark.parametrize("endpoint,problem", [
    ("https://fcm.googleapis.com/fcm/send/abc:APA91b", None),
    ("https://fcm.googleapis.com:443/wp/abc", None),
    ("https://jmt17.google.com/fcm/send/abc", None),
    ("https://updates.push.services.mozilla.com/wpush/v2/abc", None),
    ("https://web.push.apple.com/QGx1Yz", None),
    ("https://wns2-par02p.notify.windows.com/w/?token=BQYAAA", None),
    ("https://push.example.test/1", "unknown_push_service"),
    ("https://fcm.googleapis.com.example.test/fcm/send/abc", "unknown_push_service"),
    ("https://evilfcm.googleapis.com/fcm/send/abc", "unknown_push_service"),
    ("https://storage.googleapis.com/bucket/abc", "unknown_push_service"),
    ("https://push.apple.com/abc", "unknown_push_service"),  # the domain itself is no push service
    ("https://notify.windows.com.example.test/w/", "unknown_push_service"),
    ("https://fcm.googleapis.com:8443/fcm/send/abc", "unknown_push_service"),
    ("https://127.0.0.1:8443/push", "unknown_push_service"),
    ("https://169.254.169.254/latest/meta-data", "unknown_push_service"),
    ("http://fcm.googleapis.com/fcm/send/abc", "bad_subscription"),  # https only, in production
    ("https://fcm.googleapis.com\\@evil.example.test/", "bad_subscription"),
    ("https://user@fcm.googleapis.com/fcm/send/abc", "bad_subscription"),
    ("https://fcm.googleapis.com:99999/x", "bad_subscription"),
    ("https://fcm.googleapis.com/" + "a" * 1000, "bad_subscription"),
    (None, "bad_subscription"),
])
def test_only_the_browsers_push_services_are_endpoints(endpoint, problem):
    assert endpoint_problem(endpoint, production=True) == problem


def test_push_extra_hosts_add_a_local_stand_in_outside_production():
    local = "http://127.0.0.1:8000/push/abc"
    assert endpoint_problem(local, production=False) == "unknown_push_service"
    assert endpoint_problem(local, production=False, extra_hosts=["127.0.0.1"]) is None
    assert endpoint_problem(local, production=True, extra_hosts=["127.0.0.1"]) == "bad_subscription"  # https only
    assert endpoint_problem("https://push.example.test/1", production=True, extra_hosts=["*.example.test"]) is None


def test_a_subscription_to_an_unknown_push_service_is_refused_and_says_why(vapid, app, client, auth, session):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    token = client.get("/settings/personal").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]

    response = client.post("/notifications/push/subscriptions", headers={"X-CSRFToken": token, "Accept-Language": "de"},
                           json={"endpoint": "https://push.example.test/1", "keys": browser_keys()})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "unknown_push_service",
        "message": "Der Push-Dienst dieses Browsers gehört nicht zu denen, an die Keepalive Benachrichtigungen sendet."}
    assert fresh(session, PushSubscription) == []


def test_a_stored_subscription_outside_the_push_services_gets_nothing(vapid, app, client, auth, session, push_service):
    """A row stored before the rule, or under other settings, is forgotten at
    send time without a request."""
    org, owner, page = subscriber(session, app)
    session.add(PushSubscription(user_id=owner.id, endpoint=push_service.url("/push/old"), **browser_keys()))
    session.commit()
    app.config["PUSH_EXTRA_HOSTS"] = []
    scan_and_send(app)
    assert push_service.requests == []
    assert forgotten_and_failed(session) == "not a push service Keepalive sends to: the browser is forgotten"


def test_a_push_service_that_redirects_is_not_followed(vapid, app, client, auth, session, push_service):
    org, owner, page = subscriber(session, app)
    auth.login(owner.email)
    subscribe(auth, client, push_service.url("/push/abc"))
    with Receiver() as elsewhere:
        push_service.statuses = [(307, elsewhere.url("/stolen"))]
        scan_and_send(app)
        assert elsewhere.requests == []
    [(path, _, _)] = push_service.requests
    assert path == "/push/abc"
    [delivery] = fresh(session, Delivery)
    assert delivery.status == "failed" and "HTTP 307" in delivery.last_error


def test_a_browser_whose_keys_are_no_key_is_forgotten_alone(vapid, app, client, auth, session, push_service):
    """Keys of the right length that are not on the curve (stored as they came) make pywebpush raise:
    that browser alone is forgotten, the person's other browser gets the notice, the job ends."""
    org, owner, page = subscriber(session, app)
    session.add(PushSubscription(user_id=owner.id, endpoint=push_service.url("/push/bad"),
                                 p256dh=b64url(b"\x04" + bytes(64)), auth=b64url(b"0123456789abcdef")))
    session.add(PushSubscription(user_id=owner.id, endpoint=push_service.url("/push/good"), **browser_keys()))
    session.commit()

    with app.app_context():
        scan()
    assert run_jobs(app) == (1, 0)

    assert [path for path, _, _ in push_service.requests] == ["/push/good"]
    assert [s.endpoint for s in fresh(session, PushSubscription)] == [push_service.url("/push/good")]
    [delivery] = fresh(session, Delivery)
    assert delivery.status == "sent"
