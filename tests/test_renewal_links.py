"""Renewal links: a member's emailed link, and the link an agency sends to a
client's account owner."""
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from redis import Redis
from sqlmodel import select

from jobs.scan import scan
from portal.db import utcnow
from portal.links import service
from portal.models import AuditEvent, Notification, RenewalLink
from portal.renewal import consent
from tests import factories
from tests.conftest import Auth, csrf_token, run_jobs

DAY = timedelta(days=1)


@pytest.fixture
def agency(session):
    made = factories.agency(session, name="Northwind", profiles={
        "page": {"name": "Northwind Café", "external_id": "page-1"},
        "other": {"name": "Secret Client", "external_id": "page-2"},
    })
    return made.org, made.owner, made.profiles["page"], made.profiles["other"]


def fresh(session):
    session.commit()
    session.expire_all()


def make_link(app, session, profile, purpose, recipient, **fields):
    with app.app_context():
        secret, link = service.issue(session, profile, recipient, purpose)
        for name, value in fields.items():
            setattr(link, name, value)
        session.add(link)
        session.commit()
    return secret, link


def is_facebook_consent(location):
    """The Facebook consent dialog (the sandbox's, in the tests), with a state."""
    url = urlsplit(location)
    query = parse_qs(url.query)
    return url.path.endswith("/dialog/oauth") and query["client_id"] and query["state"] and \
        query["redirect_uri"] == ["http://localhost/renew/callback/facebook"]


# A member's emailed link ----------------------------------------------------------

def test_the_emailed_link_leads_to_a_renewal(smtp_server, app, client, auth, session, agency):
    _, owner, page, _ = agency
    with app.app_context():
        factories.credential(session, page, expires_in=DAY, status="invalid", invalid_reason="password_changed",
                             invalidated_at=utcnow())
    with app.app_context():
        scan()
    run_jobs(app)
    [message] = smtp_server
    url = re.search(r"http://localhost(/renew/link/[\w-]+)", message.get_body(("plain",)).get_content()).group(1)

    # Signed out: sign in first, then back to the link.
    response = client.get(url)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"] and "renew/link" in response.headers["Location"]
    auth.login(owner.email)
    response = client.get(url)
    page_html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Northwind Café" in page_html and "Secret Client" not in page_html
    assert f'action="{url}"' in page_html and "Renew Token" in page_html
    assert response.headers["Referrer-Policy"] == "no-referrer"

    # The Renew Token button spends the link and hands its form on to the renewal.
    token = re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)
    spent = client.post(url, data={"csrf_token": token, "next": "/"})
    assert spent.status_code == 307 and spent.headers["Location"] == f"/profiles/{page.id}/renew"
    response = client.post(spent.headers["Location"], data={"csrf_token": token, "next": "/"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert is_facebook_consent(location)
    assert parse_qs(urlsplit(location).query)["state"]

    # Followed once; the same link again is refused with a clear page.
    again = client.get(url)
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)


def test_a_member_link_problems(app, client, auth, session, agency):
    _, owner, page, _ = agency
    auth.login(owner.email)
    _, _ = make_link(app, session, page, "member", owner.email)
    expired, _ = make_link(app, session, page, "member", owner.email, expires_at=utcnow() - DAY)
    revoked, _ = make_link(app, session, page, "member", owner.email, revoked_at=utcnow())
    client_link, _ = make_link(app, session, page, "client", "client@example.test")
    valid, _ = make_link(app, session, page, "member", owner.email)

    cases = {
        f"/renew/link/{expired}": (410, "has expired"),
        f"/renew/link/{revoked}": (410, "withdrawn"),
        f"/renew/link/{valid[:-2]}xx": (404, "not valid"),  # tampered
        f"/renew/link/{'a' * 500}": (404, "not valid"),
        f"/renew/link/{client_link}": (404, "not valid"),  # a client's link is not a member's
    }
    for url, (status, words) in cases.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert words in response.get_data(as_text=True), url


def test_opening_a_member_link_does_not_spend_it(app, client, auth, session, agency):
    """Mail scanners and link previewers open links: only the button spends one."""
    _, owner, page, _ = agency
    secret, link = make_link(app, session, page, "member", owner.email)
    url = f"/renew/link/{secret}"
    auth.login(owner.email)
    for _ in range(2):
        assert client.head(url).status_code == 200
        assert client.get(url).status_code == 200
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is None

    spent = client.post(url, data={"csrf_token": csrf_token(client), "next": "/"})
    assert spent.status_code == 307
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is not None
    assert client.get(url).status_code == 410
    assert client.post(url, data={"csrf_token": csrf_token(client)}).status_code == 410


def test_a_link_is_spent_once(app, session, agency):
    _, owner, page, _ = agency
    _, link = make_link(app, session, page, "member", owner.email)
    with app.app_context():
        assert service.spend(session, link.id) is True
        assert service.spend(session, link.id) is False
        session.commit()
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is not None


def signed_in(app, email):
    client = app.test_client()
    Auth(client).login(email)
    return client


def test_two_clicks_at_once_spend_a_member_link_once(app, session, agency, database, monkeypatch):
    """Two clicks on Renew Token at the same moment: one goes on to the
    renewal, the other is told the link was already used. The first holds its
    spend uncommitted until the second is at the lock: on PostgreSQL the second
    has read the link unused too and is about to spend it; on SQLite, whose
    writers take the lock when their transaction begins, it is waiting there."""
    _, owner, page, _ = agency
    secret, link = make_link(app, session, page, "member", owner.email)
    url = f"/renew/link/{secret}"
    clients = [signed_in(app, owner.email) for _ in range(2)]
    forms = [{"csrf_token": csrf_token(client), "next": "/"} for client in clients]
    first_holds, second_at_the_lock = threading.Event(), threading.Event()
    first = []
    spend = service.spend

    def spend_in_turn(db, link_id, now=None):
        if not first:
            first.append(threading.get_ident())
            spent = spend(db, link_id, now)
            first_holds.set()
            assert second_at_the_lock.wait(10), "the second click never reached the lock"
            return spent
        if database["kind"] == "postgresql":
            second_at_the_lock.set()  # it read the link unused: the UPDATE waits for the first's row lock
        return spend(db, link_id, now)

    def waits_for_the_write_lock(conn, cursor, statement, *args):
        if statement.startswith("BEGIN IMMEDIATE") and first_holds.is_set() and threading.get_ident() != first[0]:
            second_at_the_lock.set()

    monkeypatch.setattr(service, "spend", spend_in_turn)
    engine = app.extensions["keepalive.engine"]
    sa.event.listen(engine, "before_cursor_execute", waits_for_the_write_lock)
    answers = {}

    def click(n):
        answers[n] = clients[n].post(url, data=forms[n])

    try:
        one = threading.Thread(target=click, args=(0,))
        one.start()
        assert first_holds.wait(10)
        two = threading.Thread(target=click, args=(1,))
        two.start()
        one.join(20)
        two.join(20)
    finally:
        sa.event.remove(engine, "before_cursor_execute", waits_for_the_write_lock)
    assert answers[0].status_code == 307 and answers[0].headers["Location"] == f"/profiles/{page.id}/renew"
    assert answers[1].status_code == 410
    assert "already used" in answers[1].get_data(as_text=True)
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is not None


def test_a_member_link_works_only_for_its_recipient_while_they_may_renew(app, client, auth, session, agency):
    org, owner, page, _ = agency
    viewer = factories.member(session, org, email="viewer@example.test")
    factories.access(session, viewer, page, "viewer")
    for_owner, _ = make_link(app, session, page, "member", owner.email)
    for_viewer, _ = make_link(app, session, page, "member", viewer.email)

    auth.login(viewer.email)
    token = csrf_token(client)
    for refused, reason in [
        (client.get(f"/renew/link/{for_owner}"), "sent to another person"),
        (client.post(f"/renew/link/{for_owner}", data={"csrf_token": token}), "sent to another person"),
        (client.get(f"/renew/link/{for_viewer}"), "You can no longer renew this profile"),
        (client.post(f"/renew/link/{for_viewer}", data={"csrf_token": token}), "You can no longer renew this profile"),
    ]:
        assert refused.status_code == 403 and reason in refused.get_data(as_text=True), refused.request.method
    fresh(session)
    assert session.exec(select(RenewalLink).where(RenewalLink.used_at.is_not(None))).all() == []


# The agency sends a client link ------------------------------------------------

def send_link(client, profile_id, email="client@example.test", language="en"):
    path = f"/accounts/{profile_id}/send-link"
    return client.post(path, data={"csrf_token": csrf_token(client), "email": email, "language": language})


def test_an_owner_sends_a_link_and_the_client_sees_only_that_profile(smtp_server, app, client, auth, session,
                                                                     agency):
    # The whole renewal through the network: tests/renewal/test_client_link.py.
    org, owner, page, other = agency
    auth.login(owner.email)
    form = client.get(f"/accounts/{page.id}/send-link")
    assert form.status_code == 200 and "Northwind Café" in form.get_data(as_text=True)

    response = send_link(client, page.id)
    assert response.status_code == 303
    run_jobs(app)
    [message] = smtp_server
    assert message["To"] == "client@example.test"
    assert "Northwind Café" in message["Subject"] and "Facebook" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "What to do" in text
    url = re.search(r"http://localhost(/renew/client/[\w-]+)", text).group(1)
    fresh(session)
    [link] = session.exec(select(RenewalLink)).all()
    assert (link.purpose, link.recipient, link.profile_id, link.created_by_id) == (
        "client", "client@example.test", page.id, owner.id)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "link.sent")).first()

    # The client owner, in a browser of their own.
    visitor = app.test_client()
    response = visitor.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Northwind Café" in html and "Facebook" in html
    for foreign in ("Secret Client", "Northwind<", "topbar", "Sign out", "/settings", f"/{page.id}", "owner@"):
        assert foreign not in html, foreign
    response = visitor.post(url, data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert is_facebook_consent(location)
    state = parse_qs(urlsplit(location).query)["state"][0]
    with app.app_context():
        record = consent.take_record(state, "facebook", None)
    assert (record.profile_id, record.link_id, record.user_id) == (page.id, link.id, None)

    # Nothing else of the portal opens for them: each page asks them to sign in,
    # a renewal too, even with the CSRF token of their session.
    for path in ("/", f"/accounts/{other.id}/send-link", "/settings/personal"):
        refused = visitor.get(path)
        assert refused.status_code == 302 and refused.headers["Location"].startswith("/login?next="), path
    refused = visitor.post(f"/profiles/{other.id}/renew", data={"csrf_token": csrf_token(visitor), "next": "/"})
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/login?next="), refused.status_code


def test_a_link_whose_email_the_relay_refuses_shows_as_not_sent(mailbox, app, client, auth, session, agency):
    """The worker records the refusal: the profile's links, its activity and the bell say so, where
    "on its way" was the last word; a link that went out says nothing of the kind."""
    org, owner, page, _ = agency
    mailbox.refuse["client@example.test"] = "550 5.1.1 mailbox unavailable"
    auth.login(owner.email)
    assert send_link(client, page.id).status_code == 303
    assert send_link(client, page.id, email="other@example.test").status_code == 303
    assert "on its way" in client.get("/").get_data(as_text=True)  # queued: nothing known yet

    assert run_jobs(app) == (2, 0)

    assert [m["To"] for m in mailbox.messages] == ["other@example.test"]
    html = client.get(f"/accounts/{page.id}").get_data(as_text=True)
    links = html[html.index('id="renewal-links"'):html.index("Credential history")]
    refused, sent = (links[links.index(f"<td>{address}"):].split("</td>", 1)[0]
                     for address in ("client@example.test", "other@example.test"))
    assert "Email not sent" in refused and "550 5.1.1 mailbox unavailable" in refused
    assert "Email not sent" not in sent
    assert "Renewal link&#39;s email not sent" in html  # the profile's activity
    fresh(session)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "link.email_failed")).all()
    assert (event.profile_id, event.user_id, event.data) == (
        page.id, None, {"recipient": "client@example.test", "error": "550 5.1.1 mailbox unavailable"})
    [notice] = session.exec(select(Notification).where(Notification.kind == "link_unsent")).all()
    assert (notice.user_id, notice.profile_id) == (owner.id, page.id)
    bell = client.get("/notifications?bell=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "The email with a renewal link could not be sent" in bell


def test_the_clients_pages_speak_the_language_of_their_email(smtp_server, app, client, auth, session, agency):
    org, owner, page, _ = agency
    auth.login(owner.email)
    assert send_link(client, page.id, language="de").status_code == 303
    run_jobs(app)
    [message] = smtp_server
    url = re.search(r"http://localhost(/renew/client/[\w-]+\?lang=de)", message.get_body(("plain",)).get_content()).group(1)
    visitor = app.test_client()  # a browser that prefers French
    french = {"Accept-Language": "fr"}
    html = visitor.get(url, headers=french).get_data(as_text=True)
    assert '<html lang="de">' in html and "Weiter zu Facebook" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    location = visitor.post(url, data={"csrf_token": token}, headers=french).headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    visitor.get(f"/renew/callback/facebook?state={state}&error=access_denied", headers=french)
    done = visitor.get("/renew/client/done", headers=french).get_data(as_text=True)
    assert '<html lang="de">' in done and "Sie haben die Anfrage bei Facebook abgelehnt" in done
    # A language the portal does not speak is the browser's choice again; nobody else's page changes.
    assert '<html lang="fr">' in app.test_client().get(url.replace("lang=de", "lang=xx"), headers=french).get_data(
        as_text=True)
    assert '<html lang="fr">' in visitor.get("/login", headers=french).get_data(as_text=True)


def test_a_refused_consent_is_explained_to_the_client_and_told_to_the_agency(app, client, auth, session, agency):
    org, owner, page, _ = agency
    secret, link = make_link(app, session, page, "client", "client@example.test")
    visitor = app.test_client()
    url = f"/renew/client/{secret}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', visitor.get(url).get_data(as_text=True)).group(1)
    location = visitor.post(url, data={"csrf_token": token}).headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]

    response = visitor.get(f"/renew/callback/facebook?state={state}&error=access_denied")
    assert response.status_code == 303
    done = visitor.get("/renew/client/done").get_data(as_text=True)
    assert "You declined the request on Facebook" in done
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is None  # it may be tried again
    [notice] = session.exec(select(Notification).where(Notification.kind == "link_failed")).all()
    assert notice.user_id == owner.id
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "link.renewal_failed")).first().data["reason"] == "denied"


def test_a_consent_finished_in_another_browser_is_not_taken(app, session, agency):
    _, _, page, _ = agency
    secret, link = make_link(app, session, page, "client", "client@example.test")
    visitor = app.test_client()
    url = f"/renew/client/{secret}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', visitor.get(url).get_data(as_text=True)).group(1)
    state = parse_qs(urlsplit(visitor.post(url, data={"csrf_token": token}).headers["Location"]).query)["state"][0]

    stranger = app.test_client()
    stranger.get(f"/renew/callback/facebook?state={state}&code=abc")
    assert "could not be verified" in stranger.get("/renew/client/done").get_data(as_text=True)
    fresh(session)
    assert session.get(RenewalLink, link.id).used_at is None


def test_client_link_problems(app, session, agency):
    _, owner, page, _ = agency
    expired, _ = make_link(app, session, page, "client", "c@example.test", expires_at=utcnow() - DAY)
    used, _ = make_link(app, session, page, "client", "c@example.test", used_at=utcnow())
    member, _ = make_link(app, session, page, "member", owner.email)
    visitor = app.test_client()
    for url, status, words in [
        (f"/renew/client/{expired}", 410, "has expired"),
        (f"/renew/client/{used}", 410, "already used"),
        (f"/renew/client/{member}", 404, "not valid"),
        (f"/renew/client/{expired[:-3]}abc", 404, "not valid"),
        ("/renew/client/done", 404, "Nothing to show"),
    ]:
        response = visitor.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == status, url
        assert words in html and "topbar" not in html and "Northwind" not in html, url


def test_revoking_a_link(app, client, auth, session, agency):
    org, owner, page, _ = agency
    secret, link = make_link(app, session, page, "client", "client@example.test")
    auth.login(owner.email)

    response = client.post(f"/renewal-links/{link.id}/revoke", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 303
    assert app.test_client().get(f"/renew/client/{secret}").status_code == 410
    fresh(session)
    assert session.get(RenewalLink, link.id).revoked_at is not None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "link.revoked")).first()


def test_who_may_send_and_revoke(app, client, auth, session, agency):
    org, owner, page, _ = agency
    admin = factories.member(session, org, email="admin@example.test", can_manage_profiles=True)
    factories.access(session, admin, page, "admin")
    editor = factories.member(session, org, email="editor@example.test", can_manage_profiles=True)
    factories.access(session, editor, page, "editor")
    elsewhere = factories.organization(session)
    foreign = factories.profile(session, elsewhere)
    _, foreign_link = make_link(app, session, foreign, "client", "x@example.test")
    _, own_link = make_link(app, session, page, "client", "y@example.test")

    auth.login(editor.email)
    for refused in (client.get(f"/accounts/{page.id}/send-link"),
                    client.post(f"/renewal-links/{own_link.id}/revoke", data={"csrf_token": csrf_token(client)})):
        assert refused.status_code == 403
        assert "Only those who may renew this profile send and withdraw" in refused.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    auth.login(admin.email)
    assert client.get(f"/accounts/{page.id}/send-link").status_code == 200
    assert client.get(f"/accounts/{foreign.id}/send-link").status_code == 404
    assert client.post(f"/renewal-links/{foreign_link.id}/revoke",
                       data={"csrf_token": csrf_token(client)}).status_code == 404
    bad = send_link(client, page.id, email="not an address")
    assert bad.status_code == 400 and "Enter an email address" in bad.get_data(as_text=True)


def test_an_admin_without_manage_social_profiles_neither_sends_nor_revokes(app, client, auth, session, agency):
    """Without "manage social profiles" a Member renews nothing, by any path: not
    through a client link sent to their own address either."""
    org, owner, page, _ = agency
    admin = factories.member(session, org, email="admin@example.test", can_manage_profiles=False)
    factories.access(session, admin, page, "admin")
    _, link = make_link(app, session, page, "client", "client@example.test")
    auth.login(admin.email)

    for refused in (client.get(f"/accounts/{page.id}/send-link"), send_link(client, page.id, email=admin.email),
                    client.post(f"/renewal-links/{link.id}/revoke", data={"csrf_token": csrf_token(client)})):
        assert refused.status_code == 403
        assert "Only those who may renew this profile send and withdraw" in refused.get_data(as_text=True)
    html = client.get(f"/accounts/{page.id}").get_data(as_text=True)
    assert "/send-link" not in html and f"/renewal-links/{link.id}/revoke" not in html
    fresh(session)
    assert len(session.exec(select(RenewalLink)).all()) == 1
    assert session.get(RenewalLink, link.id).revoked_at is None


# Failed attempts through one client link --------------------------------------------

def start_client_consent(visitor, url):
    """The client presses the button; the state of the consent, or the refusal."""
    page = visitor.get(url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    started = visitor.post(url, data={"csrf_token": token})
    if started.status_code != 303:
        return None, started
    return parse_qs(urlsplit(started.headers["Location"]).query)["state"][0], started


def test_failed_attempts_through_one_link_are_limited_and_told_once_an_hour(app, session, agency):
    from portal.links.rules import FAILED_ATTEMPTS_PER_HOUR

    org, owner, page, _ = agency
    manager = factories.member(session, org, role="manager", email="manager@example.test")
    secret, link = make_link(app, session, page, "client", "client@example.test")
    visitor = app.test_client()
    url = f"/renew/client/{secret}"

    for _ in range(FAILED_ATTEMPTS_PER_HOUR):
        state, _ = start_client_consent(visitor, url)
        assert visitor.get(f"/renew/callback/facebook?state={state}&error=access_denied").status_code == 303
    state, refused = start_client_consent(visitor, url)
    assert state is None and refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)

    fresh(session)
    notices = session.exec(select(Notification).where(Notification.kind == "link_failed")).all()
    assert sorted(n.user_id for n in notices) == sorted([owner.id, manager.id])  # one each, not one per attempt
    failures = session.exec(select(AuditEvent).where(AuditEvent.action == "link.renewal_failed")).all()
    assert len(failures) == FAILED_ATTEMPTS_PER_HOUR
    # Another link of the same profile is not affected.
    other_secret, _ = make_link(app, session, page, "client", "other@example.test")
    assert start_client_consent(app.test_client(), f"/renew/client/{other_secret}")[0]


# The profile's details list its open links ---------------------------------------

def test_the_profile_details_list_open_links_and_revoke_them(app, client, auth, session, agency):
    org, owner, page, other = agency
    open_secret, open_link = make_link(app, session, page, "client", "client@example.test")
    with app.app_context():
        session.get(RenewalLink, open_link.id).created_by_id = owner.id
        session.commit()
    make_link(app, session, page, "client", "spent@example.test", used_at=utcnow())
    make_link(app, session, page, "client", "revoked@example.test", revoked_at=utcnow())
    make_link(app, session, page, "client", "expired@example.test", expires_at=utcnow() - DAY)
    make_link(app, session, other, "client", "elsewhere@example.test")
    details = f"/accounts/{page.id}"
    auth.login(owner.email)

    html = client.get(details).get_data(as_text=True)
    section = html[html.index('id="renewal-links"'):html.index("Credential history")]
    assert "client@example.test" in section and owner.display_name in section
    for hidden in ("spent@", "revoked@", "expired@", "elsewhere@"):
        assert hidden not in section, hidden
    revoke_url = f"/renewal-links/{open_link.id}/revoke"
    assert f'action="{revoke_url}"' in section and "hx-confirm=" in section
    assert 'name="csrf_token"' in section and f'name="next" value="{details}"' in section
    assert f'href="/accounts/{page.id}/send-link?next=' in section

    response = client.post(revoke_url, data={"csrf_token": csrf_token(client), "next": details})

    assert response.status_code == 303 and response.headers["Location"] == details
    assert app.test_client().get(f"/renew/client/{open_secret}").status_code == 410
    html = client.get(details).get_data(as_text=True)
    assert "client@example.test" not in html[html.index('id="renewal-links"'):html.index("Credential history")]
    assert "no longer works" in html


def test_a_member_without_rights_sees_the_links_but_no_buttons(app, client, auth, session, agency):
    org, owner, page, _ = agency
    editor = factories.member(session, org, email="editor@example.test", can_manage_profiles=True)
    factories.access(session, editor, page, "editor")
    _, link = make_link(app, session, page, "client", "client@example.test")
    auth.login(editor.email)

    html = client.get(f"/accounts/{page.id}").get_data(as_text=True)

    section = html[html.index('id="renewal-links"'):html.index("Credential history")]
    assert "client@example.test" in section
    assert "/revoke" not in section and "<form" not in section and "Revoke" not in section
    assert "/send-link" not in html
