"""POST /api/v1/profiles/{id}/renewal-links: a client's link to anyone, a
member's link to those who may renew the profile."""
import pytest
from redis import Redis
from rq import Queue
from sqlmodel import select

from portal.models import ApiScope, AuditEvent, RenewalLink
from tests import factories
from tests.api.conftest import make_key


@pytest.fixture
def agency(session):
    return factories.agency(
        session, name="Northwind Agency",
        people={"owner": "owner", "admin": {"role": "member", "can_manage_profiles": True},
                "viewer": {"role": "member", "can_manage_profiles": True}},
        profiles={"page": {"network": "facebook", "name": "Café", "credential": {}}},
        rights=[("admin", "page", "admin"), ("viewer", "page", "viewer")],
    )


@pytest.fixture
def keyed(app, session, api, agency):
    api.secret, _ = make_key(app, session, agency.org)
    return api


def mails(app):
    queue = Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))
    return [job.args[0] for job in queue.jobs if job.func_name == "jobs.mail.send_message"]


def send(keyed, agency, **body):
    return keyed.post(f"/api/v1/profiles/{agency.profiles['page'].id}/renewal-links", json=body)


def test_a_clients_link_is_sent_in_its_language(app, keyed, agency, session):
    answer = send(keyed, agency, recipient="client", email="Boss@Client.TEST", language="fr")
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["recipient"] == "client" and body["email"] == "boss@client.test"
    link = session.get(RenewalLink, body["id"])
    assert link.purpose == "client" and link.profile_id == agency.profiles["page"].id and link.created_by_id is None
    [message] = mails(app)
    assert message["recipients"] == ["boss@client.test"] and "/renew/client/" in message["text"]
    assert "Northwind Agency gère" in message["text"]  # the agency, in French: no person sent it
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "link.sent")).one()
    assert event.organization_id == agency.org.id and event.user_id is None


def test_a_members_link_goes_only_to_who_may_renew(app, keyed, agency, session):
    answer = send(keyed, agency, recipient="member", email="admin@example.test")
    assert answer.status_code == 201
    [message] = mails(app)
    assert "/renew/link/" in message["text"] and "Renew Token" in message["text"]
    for email in ("viewer@example.test", "stranger@example.test"):
        refused = send(keyed, agency, recipient="member", email=email)
        assert refused.status_code == 422
        assert refused.get_json(force=True)["type"].endswith("#problem-not-a-recipient")
    assert len(session.exec(select(RenewalLink)).all()) == 1


@pytest.mark.parametrize("body", [
    {"recipient": "client", "email": "not an address"},
    {"recipient": "client", "email": "a\x00b@client.test"},
    {"recipient": "boss", "email": "a@b.test"},
    {"recipient": "client", "email": "a@b.test", "language": "es"},
    {"email": "a@b.test"},
    {},
])
def test_bad_input_is_a_400_problem(keyed, agency, session, body):
    answer = send(keyed, agency, **body)
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert session.exec(select(RenewalLink)).first() is None


def test_sending_needs_links_write(app, session, api, agency):
    api.secret, _ = make_key(app, session, agency.org, scopes=[ApiScope.PROFILES_READ, ApiScope.TOKENS_READ])
    assert send(api, agency, recipient="client", email="a@b.test").status_code == 403
