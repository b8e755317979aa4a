"""A client's renewal link, end to end over HTTP: the agency sends it, the
client's account owner (no account here, a browser of their own) opens it,
consents on the sandbox network, and the one profile is renewed."""
import re

import httpx2
import pytest
from sqlmodel import select

from portal.models import AuditEvent, Notification, RenewalLink
from tests import factories
from tests.conftest import run_jobs
from tests.renewal.conftest import agency

pytestmark = pytest.mark.slow

CLIENT = "client@client.test"
LINK_IN_MAIL = re.compile(r"(http://127\.0\.0\.1:\d+)?(/renew/client/[\w-]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(live, session, smtp_server):
    """Two expired Facebook pages of one agency, both administered in the
    sandbox by the client's person; the owner sends a link for the first."""
    live.grant("facebook", "1001", email=CLIENT, name="Northwind Café")
    live.grant("facebook", "1002", email=CLIENT, name="Northwind Bakery")
    org, owner, page = agency(session, "facebook", "1001", status="invalid", invalid_reason="expired")
    manager = factories.member(session, org, role="manager", email="manager@demo.test")
    bakery = factories.profile(session, org, network="facebook", external_id="1002", name="Northwind Bakery")
    factories.credential(session, bakery, status="invalid", invalid_reason="expired")
    live.login()
    path = f"/accounts/{page.id}/send-link"
    sent = live.http.post(path, data={"csrf_token": live.csrf(path), "email": CLIENT, "language": "en"})
    assert sent.status_code == 303, sent.text
    assert run_jobs(live.app) == (1, 0)
    [message] = smtp_server
    assert message["To"] == CLIENT
    url = LINK_IN_MAIL.search(message.get_body(("plain",)).get_content()).group(2)
    return {"org": org, "owner": owner, "manager": manager, "page": page, "bakery": bakery, "url": url}


@pytest.fixture
def visitor(live):
    """The client's own browser: no portal session."""
    with httpx2.Client(base_url=live.base_url, timeout=30, follow_redirects=False, trust_env=False) as browser:
        yield browser


def consent_as_client(live, visitor, url, decision):
    """Open the link, press its button, answer the network as the client,
    follow the callback; the done page."""
    page = visitor.get(url)
    assert page.status_code == 200, page.text
    assert "Northwind Café" in page.text and "Northwind Bakery" not in page.text
    started = visitor.post(url, data={"csrf_token": CSRF_FIELD.search(page.text).group(1)})
    assert started.status_code == 303
    consent_url = started.headers["location"]
    assert consent_url.startswith(f"{live.base_url}/sandbox/") and "/dialog/oauth" in consent_url
    assert visitor.get(consent_url).status_code == 200
    answer = visitor.post(consent_url, data={"person": CLIENT, "decision": decision})
    assert answer.status_code in (302, 303), answer.text
    back = answer.headers["location"]
    assert back.startswith(f"{live.base_url}/renew/callback/facebook?")
    callback = visitor.get(back)
    assert callback.status_code == 303 and callback.headers["location"].endswith("/renew/client/done")
    done = visitor.get(callback.headers["location"])
    assert done.status_code == 200
    return done


def link_of(session, page):
    session.expire_all()
    session.rollback()
    return session.exec(select(RenewalLink).where(RenewalLink.profile_id == page.id)).one()


def test_the_client_renews_the_one_profile_of_the_link(live, session, world, visitor):
    page, bakery = world["page"], world["bakery"]
    before, bakery_before = live.current(page.id), live.current(bakery.id)

    done = consent_as_client(live, visitor, world["url"], "allow")

    assert "is renewed" in done.text
    renewed = live.current(page.id)
    assert renewed.id != before.id and not renewed.is_invalid and renewed.granted_by_id is None
    # The same consent granted the bakery too, but a link renews its one profile.
    untouched = live.current(bakery.id)
    assert untouched.id == bakery_before.id and untouched.is_invalid
    assert link_of(session, page).used_at is not None
    reopened = visitor.get(world["url"])
    assert reopened.status_code == 410 and "already used" in reopened.text
    told = session.exec(select(Notification).where(Notification.kind == "link_renewed")).all()
    assert {n.user_id for n in told} == {world["owner"].id, world["manager"].id}
    assert {n.profile_id for n in told} == {page.id}
    assert all(n.credential_id == renewed.id for n in told)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "link.renewed")).all()
    # The client did it: named by the link's address, not as the person who sent the link.
    assert (event.profile_id, event.user_id, event.actor_name, event.data) == (page.id, None, CLIENT,
                                                                              {"recipient": CLIENT})
    # Told once: the consent's own renewal is not a second event.
    assert not session.exec(select(AuditEvent).where(AuditEvent.action == "token.renewed")).all()


def test_a_denied_consent_leaves_the_link_usable_and_the_token_as_it_was(live, session, world, visitor):
    page = world["page"]
    before = live.current(page.id)

    done = consent_as_client(live, visitor, world["url"], "deny")

    assert "You declined the request on Facebook" in done.text
    assert live.current(page.id).id == before.id and live.current(page.id).is_invalid
    assert link_of(session, page).used_at is None
    assert visitor.get(world["url"]).status_code == 200  # it may be tried again
    assert not session.exec(select(Notification).where(Notification.kind == "link_renewed")).all()
    assert session.exec(select(Notification).where(Notification.kind == "link_failed")).all()


def test_the_client_reaches_nothing_else_of_the_portal(live, session, world, visitor):
    token = CSRF_FIELD.search(visitor.get(world["url"]).text).group(1)  # their session's own CSRF token
    consent_as_client(live, visitor, world["url"], "allow")
    page, bakery = world["page"], world["bakery"]
    for path in ("/", "/accounts", f"/accounts/{page.id}", f"/accounts/{bakery.id}",
                 f"/accounts/{bakery.id}/managers", f"/accounts/{bakery.id}/send-link", "/settings/personal"):
        response = visitor.get(path)
        assert response.status_code == 302 and response.headers["location"].startswith("/login?next="), path
    refused = visitor.post(f"/profiles/{bakery.id}/renew", data={"next": "/", "csrf_token": token})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next=")
    assert live.current(bakery.id).is_invalid
