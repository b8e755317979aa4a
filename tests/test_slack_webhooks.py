"""Slack and outgoing webhooks, sent by the real worker to real HTTP servers
on loopback; webhook signatures verified with the `standardwebhooks` package."""
import ipaddress
import json
import re
import socket
from datetime import timedelta

import pytest
from redis import Redis
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from jobs.deliver.http_post import post_json
from jobs.scan import scan
from portal.models import Delivery, NotificationPreference, WebhookDelivery, WebhookEndpoint
from portal.notifications import events
from portal.renewal.credentials import record_attempt
from tests import factories
from tests.conftest import csrf_token, run_jobs, scheduled_now
from tests.receivers import Receiver
from tests.test_settings import audit_actions

DAY = timedelta(days=1)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def agency(session, owners=2):
    made = factories.agency(
        session, name="Northwind", people={f"owner{n}": "owner" for n in range(owners)},
        profiles={"page": {"name": "Northwind Café", "credential": {"expires_in": 3 * DAY - timedelta(minutes=1)}}},
    )
    return made.org, list(made.people.values()), made.profiles["page"], made.credentials["page"]


def fresh(session, model):
    session.commit()
    session.expire_all()
    return session.exec(select(model).order_by(model.id)).all()


def add_webhook(auth, url, events=("token.expiring", "token.expired", "token.renewed", "token.renew_failed")):
    response = auth.post("/settings/integrations/webhooks", {"url": url, "events": list(events)})
    assert response.status_code == 201
    return re.search(r'id="webhook-secret">(whsec_[^<]+)<', response.get_data(as_text=True)).group(1)


def test_one_slack_message_per_notice(smtp_server, app, client, auth, session, receiver):
    org, owners, page, _ = agency(session)
    auth.login(owners[0].email)
    assert auth.post("/settings/integrations/slack", {"slack_url": "ftp://nope"}).status_code == 400
    response = auth.post("/settings/integrations/slack", {"slack_url": receiver.url("/services/T/B/X")})
    assert response.status_code == 303

    with app.app_context():
        scan()
        scan()  # idempotent
    run_jobs(app)

    [(path, headers, body)] = receiver.requests
    assert path == "/services/T/B/X"
    text = json.loads(body)["text"]
    assert "Northwind Café" in text and "expires in 2 days" in text and f"/accounts/{page.id}|" in text
    slack = [d for d in fresh(session, Delivery) if d.channel == "slack"]
    assert [(d.status, d.attempts) for d in slack] == [("sent", 1)]
    assert len(smtp_server) == 2  # email is per person, as before


def test_slack_refusal_is_permanent_and_outage_is_retried(smtp_server, app, client, auth, session, receiver):
    org, owners, page, _ = agency(session, owners=1)
    auth.login(owners[0].email)
    auth.post("/settings/integrations/slack", {"slack_url": receiver.url("/services/x")})
    receiver.statuses = [503]
    with app.app_context():
        scan()
    run_jobs(app)
    [slack] = [d for d in fresh(session, Delivery) if d.channel == "slack"]
    assert (slack.status, slack.attempts) == ("pending", 1) and "503" in slack.last_error


def test_webhook_events_are_signed_and_verifiable(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    for owner in owners:  # no email here: only the webhook
        session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, email=False))
    session.commit()
    auth.login(owners[0].email)
    assert auth.post("/settings/integrations/webhooks", {"url": "not a url", "events": "token.expired"}).status_code == 400
    assert auth.post("/settings/integrations/webhooks", {"url": receiver.url("/in"), "events": "token.nope"}).status_code == 400
    secret = add_webhook(auth, receiver.url("/in"))

    with app.app_context():
        scan()
        scan()
    run_jobs(app)

    [(path, headers, body)] = receiver.requests
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "token.expiring"
    assert event["data"]["profile"]["name"] == "Northwind Café" and event["data"]["days_left"] == 2
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(Exception):
        Webhook(secret).verify(body.replace(b"Northwind", b"Southwind"), headers)
    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 1, 200)
    log = client.get(f"/settings/integrations/webhooks/{delivery.endpoint_id}").get_data(as_text=True)
    assert "token.expiring" in log and "Delivered" in log


def test_a_renewal_outcome_becomes_an_event_after_commit(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    secret = add_webhook(auth, receiver.url("/in"), events=("token.renewed", "token.renew_failed"))

    with app.app_context():
        with Session(app.extensions["keepalive.engine"]) as other:
            record_attempt(other, page, "silent", "renewed", credential)
            other.rollback()  # never committed: nothing to send
            record_attempt(other, page, "interactive", "failed", reason="denied")
            record_attempt(other, page, "health_check", "failed", credential)  # not a renewal
            other.commit()
    run_jobs(app)

    [(_, headers, body)] = receiver.requests
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "token.renew_failed" and event["data"]["reason"] == "denied"


def test_transient_failures_are_retried_and_permanent_ones_recorded(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    receiver.statuses = [500, 400]
    with app.app_context():
        with Session(app.extensions["keepalive.engine"]) as other:
            record_attempt(other, page, "silent", "renewed", credential)
            record_attempt(other, page, "silent", "renewed", credential)
            other.commit()
    run_jobs(app)
    first, second = fresh(session, WebhookDelivery)
    assert (first.status, first.attempts, first.response_status) == ("pending", 1, 500)
    assert (second.status, second.attempts, second.response_status) == ("failed", 1, 400)
    assert len({r[1]["webhook-id"] for r in receiver.requests}) == 2


def test_an_event_whose_secret_cannot_be_unsealed_fails_at_once_not_after_every_retry(
        app, client, auth, session, receiver):
    """An endpoint's secret sealed with a key since dropped: the event fails for good, alone."""
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    [endpoint] = fresh(session, WebhookEndpoint)
    endpoint.sealed_secret = "sealed with a key since dropped"
    session.add(endpoint)
    session.commit()
    renewed(app, page, credential)

    assert run_jobs(app) == (1, 0)

    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "InvalidToken")
    assert receiver.requests == []


def renewed(app, page, credential):
    """A silent renewal of `page`, committed: a token.renewed event."""
    with app.app_context():
        with Session(app.extensions["keepalive.engine"]) as other:
            record_attempt(other, page, "silent", "renewed", credential)
            other.commit()


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    secret = add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    receiver.statuses = ["hang"]
    renewed(app, page, credential)

    assert run_jobs(app) == (0, 1)

    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        "pending", 1, None, "the receiver did not answer in time")
    receiver.release.set()
    [(retried, _)] = scheduled_now(app)
    assert (retried.func_name, retried.args) == ("jobs.deliver.deliver_webhook", (delivery.id,))
    assert run_jobs(app) == (1, 0)
    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 2, 200)
    first, second = receiver.requests
    assert first[1]["webhook-id"] == second[1]["webhook-id"]  # the same event, as the receiver may dedupe
    assert Webhook(secret).verify(second[2], second[1])["type"] == "token.renewed"


def test_an_owner_edits_their_webhook(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed", "token.renew_failed"))
    [endpoint] = fresh(session, WebhookEndpoint)
    path = f"/settings/integrations/webhooks/{endpoint.id}"

    refused = auth.post(path, {"events": [], "active": "y"})
    assert refused.status_code == 400 and "Choose at least one event" in refused.get_data(as_text=True)
    switched_off = auth.post(path, {"events": ["token.renewed"]})
    assert switched_off.status_code == 303 and switched_off.headers["Location"] == path
    [endpoint] = fresh(session, WebhookEndpoint)
    assert (endpoint.events, endpoint.active) == ("token.renewed", False)
    renewed(app, page, credential)
    run_jobs(app)
    assert receiver.requests == []  # switched off: nothing is sent

    assert auth.post(path, {"events": ["token.renew_failed"], "active": "y"}).status_code == 303
    renewed(app, page, credential)
    run_jobs(app)
    assert receiver.requests == []  # on again, but not for this event
    assert auth.post(path, {"events": ["token.renewed"], "active": "y"}).status_code == 303
    renewed(app, page, credential)
    run_jobs(app)
    [(_, headers, body)] = receiver.requests
    assert json.loads(body)["type"] == "token.renewed"
    assert [a for a in audit_actions(session) if a.startswith("webhook.")] == [
        "webhook.created", "webhook.updated", "webhook.updated", "webhook.updated"]


def test_an_owner_deletes_their_webhook_and_its_log(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    renewed(app, page, credential)
    run_jobs(app)
    [endpoint_id] = [endpoint.id for endpoint in fresh(session, WebhookEndpoint)]
    assert len(fresh(session, WebhookDelivery)) == 1

    response = auth.post(f"/settings/integrations/webhooks/{endpoint_id}/delete")

    assert response.status_code == 303 and response.headers["Location"] == "/settings/integrations"
    assert fresh(session, WebhookEndpoint) == [] and fresh(session, WebhookDelivery) == []
    assert client.get(f"/settings/integrations/webhooks/{endpoint_id}").status_code == 404
    renewed(app, page, credential)
    run_jobs(app)
    assert len(receiver.requests) == 1  # nothing more is sent
    assert "webhook.deleted" in audit_actions(session)


def test_delete_webhook_asks_before_it_deletes(app, client, auth, session, receiver):
    """htmx asks (hx-confirm) only before a request it makes: the form posts
    through htmx, whose answer sends the browser to Integrations."""
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    [endpoint_id] = [endpoint.id for endpoint in fresh(session, WebhookEndpoint)]
    delete_url = f"/settings/integrations/webhooks/{endpoint_id}/delete"

    body = client.get(f"/settings/integrations/webhooks/{endpoint_id}").get_data(as_text=True)
    [form] = re.findall(r'<form[^>]*action="%s"[^>]*>' % re.escape(delete_url), body)
    assert f'hx-post="{delete_url}"' in form and 'hx-confirm="Delete this webhook?' in form
    response = auth.post(delete_url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/settings/integrations"
    assert fresh(session, WebhookEndpoint) == []


def test_another_agencys_webhook_is_neither_edited_nor_deleted(app, client, auth, session, receiver):
    """With a valid CSRF token, so that the refusal is the tenancy's (404)."""
    org, owners, page, credential = agency(session, owners=1)
    other = factories.agency(session, name="Elsewhere")
    auth.login(other.owner.email)
    add_webhook(auth, receiver.url("/theirs"), events=("token.renewed",))
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    [theirs] = fresh(session, WebhookEndpoint)
    auth.login(owners[0].email)

    for path, form in [(f"/settings/integrations/webhooks/{theirs.id}", {"events": ["token.expired"]}),
                       (f"/settings/integrations/webhooks/{theirs.id}/delete", {})]:
        refused = auth.post(path, form)
        assert refused.status_code == 404, path
    [kept] = fresh(session, WebhookEndpoint)
    assert (kept.id, kept.events, kept.active) == (theirs.id, "token.renewed", True)


def test_in_production_a_name_pointing_inward_gets_no_request(app, client, auth, session, receiver, monkeypatch):
    """A webhook host that resolves to a private address (now, whatever it
    did when it was saved) is refused before any request, for good."""
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, "https://hooks.example.test/in", events=("token.renewed",))
    resolve = socket.getaddrinfo

    def inward(host, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.1.2.3", 0))]
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", inward)
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with app.app_context():
        with Session(app.extensions["keepalive.engine"]) as other:
            record_attempt(other, page, "silent", "renewed", credential)
            other.commit()
    run_jobs(app)
    [delivery] = fresh(session, WebhookDelivery)
    assert delivery.status == "failed" and "private address" in delivery.last_error
    assert receiver.requests == []


class Connections:
    """Every address a socket connects to. None reaches the internet: an
    address in `forward` is connected to its stand-in on loopback, any other
    one that is not loopback is refused at once."""

    def __init__(self):
        self.made, self.forward = [], {}


@pytest.fixture
def connections(monkeypatch):
    seen = Connections()
    connect = socket.socket.connect

    def recorded(sock, address):
        seen.made.append(tuple(address[:2]))
        if address[0] in seen.forward:
            return connect(sock, (seen.forward[address[0]], address[1]))
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"no internet in tests: {address[0]}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recorded)
    return seen


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/in", "https://[::1]/in", "https://10.0.0.7/in", "https://169.254.169.254/latest",
    "https://100.64.0.1/in", "https://[::ffff:10.0.0.7]/in", "https://[fd00::1]/in",
])
def test_in_production_nothing_is_sent_to_an_address_off_the_internet(app, monkeypatch, connections, url):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with app.app_context():
        assert post_json(url, b"{}") == ("permanent", "the receiver's name points at a private address", None)
    assert connections.made == []


def test_in_production_a_public_address_is_connected_to(app, monkeypatch, connections):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with app.app_context():
        kind, detail, status = post_json("https://93.184.216.34/in", b"{}")
    assert (kind, status) == ("transient", None) and "no internet in tests" in detail
    assert ("93.184.216.34", 443) in connections.made


def test_in_production_a_webhook_goes_to_the_address_that_was_checked(app, client, auth, session, receiver,
                                                                     monkeypatch, connections):
    """DNS rebinding: the receiver's name answers a public address once, then
    a private one. The name is resolved once, and the request goes to the
    address that passed the check (forwarded here to the local receiver),
    with the name in its Host header; the private one is never tried."""
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    port = receiver.server.server_address[1]
    add_webhook(auth, f"http://rebinding.example.test:{port}/in", events=("token.renewed",))
    answers, resolve = iter(["93.184.216.34"]), socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebinding.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (next(answers, "10.1.2.3"), port))]
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    connections.forward["93.184.216.34"] = "127.0.0.1"
    renewed(app, page, credential)
    run_jobs(app)

    [(path, headers, _)] = receiver.requests
    assert path == "/in" and headers["host"] == f"rebinding.example.test:{port}"
    assert ("93.184.216.34", port) in connections.made and ("10.1.2.3", port) not in connections.made
    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.response_status) == ("sent", 200)


def test_a_webhook_receiver_that_redirects_is_not_followed(app, client, auth, session, receiver):
    org, owners, page, credential = agency(session, owners=1)
    auth.login(owners[0].email)
    add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    with Receiver() as elsewhere:
        receiver.statuses = [(302, elsewhere.url("/stolen"))]
        renewed(app, page, credential)
        run_jobs(app)
        assert elsewhere.requests == []
    [(path, _, _)] = receiver.requests
    assert path == "/in"
    [delivery] = fresh(session, WebhookDelivery)
    assert (delivery.status, delivery.response_status) == ("failed", 302)


@pytest.mark.parametrize("url,problem", [
    ("https://hooks.example.com/in", None),
    ("https://93.184.216.34:8443/in", None),
    ("http://hooks.example.com/in", "not_https"),
    ("http://93.184.216.34/in", "not_https"),
    ("https://localhost/in", "private_host"),
    ("https://hooks.localhost/in", "private_host"),
    ("https://metadata.google.internal/computeMetadata", "private_host"),
    ("https://127.0.0.1/in", "private_host"),
    ("https://10.0.0.7/in", "private_host"),
    ("https://172.16.5.4/in", "private_host"),
    ("https://192.168.1.10/in", "private_host"),
    ("https://169.254.169.254/latest", "private_host"),
    ("https://100.64.0.1/in", "private_host"),
    ("https://[::1]/in", "private_host"),
    ("https://[fd00::1]/in", "private_host"),
    ("ftp://hooks.example.com/in", "not_a_url"),
    ("https:///in", "not_a_url"),
])
def test_in_production_a_webhook_url_is_https_to_a_public_host(url, problem):
    assert events.url_problem(url, production=True) == problem


def test_outside_production_a_local_receiver_is_allowed():
    assert events.url_problem("http://127.0.0.1:8000/in", production=False) is None
    assert events.url_problem("ftp://127.0.0.1/in", production=False) == "not_a_url"


@pytest.mark.parametrize("url,message", [
    ("http://hooks.example.com/in", "Enter an https:// URL"),
    ("https://10.1.2.3/in", "not of a private address"),
])
def test_in_production_the_form_refuses_a_webhook_url_and_keeps_it(app, client, auth, session, monkeypatch, url,
                                                                   message):
    org, owners, _, _ = agency(session, owners=1)
    auth.login(owners[0].email)
    monkeypatch.setitem(app.config, "ENV_NAME", "production")

    response = auth.post("/settings/integrations/webhooks", {"url": url, "events": ["token.expired"]})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'value="{url}"' in page
    assert fresh(session, WebhookEndpoint) == []


def test_send_a_test_to_slack_and_to_a_webhook(app, client, auth, session, receiver):
    org, owners, page, _ = agency(session, owners=1)
    auth.login(owners[0].email)
    # Without a Slack webhook there is no test to send: the page says what to do first.
    assert "Send a test" not in client.get("/settings/integrations").get_data(as_text=True)
    refused = auth.post("/settings/integrations/slack/test")
    assert refused.status_code == 400 and "Set a Slack webhook first" in refused.get_data(as_text=True)

    auth.post("/settings/integrations/slack", {"slack_url": receiver.url("/services/T/B/X")})
    assert "Send a test" in client.get("/settings/integrations").get_data(as_text=True)
    response = auth.post("/settings/integrations/slack/test")
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/integrations")
    assert receiver.requests == []  # a worker sends it, not the web process
    run_jobs(app)
    [(path, _, body)] = receiver.requests
    assert path == "/services/T/B/X"
    assert json.loads(body)["text"].startswith("A test from Keepalive: the token notices of Northwind will appear")

    secret = add_webhook(auth, receiver.url("/in"), events=("token.renewed",))
    [endpoint_id] = [endpoint.id for endpoint in fresh(session, WebhookEndpoint)]
    page_html = client.get(f"/settings/integrations/webhooks/{endpoint_id}").get_data(as_text=True)
    assert f'action="/settings/integrations/webhooks/{endpoint_id}/test"' in page_html
    response = auth.post(f"/settings/integrations/webhooks/{endpoint_id}/test")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/webhooks/{endpoint_id}")
    run_jobs(app)
    (_, headers, body) = receiver.requests[-1]
    event = Webhook(secret).verify(body, headers)  # signed like every event, whatever events it chose
    assert event["type"] == "webhook.test" and event["data"]["organization"]["name"] == "Northwind"
    log = client.get(f"/settings/integrations/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "webhook.test" in log and "Delivered" in log
    # Another agency's endpoint is not this one's to test.
    session.rollback()
    other = factories.organization(session, name="Elsewhere")
    stranger = WebhookEndpoint(organization_id=other.id, url="https://elsewhere.example/in", sealed_secret="x")
    session.add(stranger)
    session.commit()
    assert auth.post(f"/settings/integrations/webhooks/{stranger.id}/test").status_code == 404
