"""Email delivery of the outbox, over real SMTP on loopback and real RQ workers."""
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlmodel import select

from jobs.deliver import batch as batch_module, email as email_module
from jobs.scan import scan
from portal.db import utcnow
from portal.models import Delivery, Membership, NotificationPreference, RenewalLink
from portal.notifications.outbox import enqueue_batch
from tests import factories
from tests.conftest import Mailbox, free_port, run_jobs, scheduled_now

ROOT = Path(__file__).resolve().parent.parent
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def agency(session, people=1, network="facebook", profile_name="Northwind Café", expires_in=3 * DAY - MINUTE):
    """An agency with `people` Owners and a profile whose credential ends in `expires_in`: by
    default past the 3-day threshold with 2 days and 23 hours left, told as "2 days" (the
    real days left, rounded down as everywhere, not the threshold)."""
    made = factories.agency(
        session, name="Northwind", people={f"owner{n}": "owner" for n in range(people)},
        profiles={"page": {"network": network, "name": profile_name, "credential": {"expires_in": expires_in}}},
    )
    return made.org, list(made.people.values()), made.profiles["page"], made.credentials["page"]


def outbox(session):
    session.commit()  # a new snapshot, and fresh rows: the workers wrote from their own sessions
    session.expire_all()
    return session.exec(select(Delivery).order_by(Delivery.id)).all()


def queue_of(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))


def retry_now(app):
    """Move the one job waiting for its retry back to the queue, without the wait."""
    [_] = scheduled_now(app)


def test_a_notice_is_emailed_with_a_renewal_link(smtp_server, app, session, app_context):
    _, [owner], page, _ = agency(session)

    scan()
    finished, failed = run_jobs(app)

    assert (finished, failed) == (1, 0)
    [message] = smtp_server
    assert message["To"] == owner.email
    assert message["Subject"] == "Action needed: the Facebook token of Northwind Café expires in 2 days"
    assert message["List-Unsubscribe"] == "<http://localhost/settings/personal>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "publishing, the inbox and reports" in body
        assert "/renew/link/" in body
    [delivery] = outbox(session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)
    assert delivery.sent_at is not None
    # The link in the email is a fresh member link of that profile, stored as a hash only.
    secret = re.search(r"/renew/link/([\w-]+)", text).group(1)
    [link] = session.exec(select(RenewalLink)).all()
    assert (link.profile_id, link.recipient, link.purpose) == (page.id, owner.email, "member")
    assert secret not in link.secret_hash
    assert timedelta(days=6, hours=23) < link.expires_at - utcnow() <= timedelta(days=7)


def test_a_long_subject_with_accents_arrives_whole(smtp_server, app, session, app_context):
    agency(session, network="google_business", profile_name="Café Crème Brûlée de Montréal")

    scan()
    run_jobs(app)

    [message] = smtp_server
    assert message["Subject"] == (
        "Action needed: the Google Business Profile token of Café Crème Brûlée de Montréal expires in 2 days")


def test_expired_and_invalid_subjects(smtp_server, app, session, app_context):
    org, [owner], page, credential = agency(session, expires_in=-MINUTE)
    other = factories.profile(session, org, network="linkedin_company", name="Contoso")
    factories.credential(session, other, expires_in=30 * DAY, status="invalid", invalid_reason="password_changed",
                         invalidated_at=utcnow())

    scan()
    run_jobs(app)

    subjects = sorted(m["Subject"] for m in smtp_server)
    assert subjects == [
        "Action needed: the Facebook token of Northwind Café has expired",
        "Action needed: the LinkedIn Page token of Contoso has stopped working",
    ]
    invalid = next(m for m in smtp_server if "Contoso" in m["Subject"])
    assert "Password changed on LinkedIn Page" in invalid.get_body(("plain",)).get_content()


@pytest.mark.parametrize("expires_in, subject, sentence", [
    # Thresholds 7, 3, 1, 0: the 3-day threshold is crossed, 1 day and 12 hours are left.
    (DAY + 12 * HOUR, "expires in 1 day", "expires in 1 day, on"),
    # The 1-day threshold is crossed, 12 hours are left.
    (12 * HOUR, "expires today", "expires today, at"),
])
def test_the_email_tells_the_real_time_left_not_the_threshold(smtp_server, app, session, app_context, expires_in,
                                                              subject, sentence):
    agency(session, expires_in=expires_in)

    scan()
    run_jobs(app)

    [message] = smtp_server
    assert message["Subject"] == f"Action needed: the Facebook token of Northwind Café {subject}"
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert f"The Facebook token of Northwind Café {sentence}" in body


def test_one_smtp_connection_per_batch(smtp_server, app, session, app_context, monkeypatch):
    agency(session, people=3)
    opened = []
    original = email_module.TimedConnection.configure_host
    monkeypatch.setattr(email_module.TimedConnection, "configure_host",
                        lambda self: opened.append(1) or original(self))

    scan()
    run_jobs(app)

    assert len(smtp_server) == 3 and len(opened) == 1


def test_a_batch_reads_at_once_and_commits_once_per_message(smtp_server, app, session, app_context):
    agency(session, people=4)
    scan()
    engine = app.extensions["keepalive.engine"]
    statements = Counter()

    def executed(_connection, _cursor, statement, *_):
        statements[statement.split(None, 1)[0].upper()] += 1

    def committed(_connection):
        statements["COMMIT"] += 1

    sa.event.listen(engine, "before_cursor_execute", executed)
    sa.event.listen(engine, "commit", committed)
    try:
        run_jobs(app)
    finally:
        sa.event.remove(engine, "before_cursor_execute", executed)
        sa.event.remove(engine, "commit", committed)

    assert len(smtp_server) == 4
    # The channels of the deliveries and all that their messages need, for the whole batch.
    assert statements["SELECT"] == 6
    # A commit per message (its claim, its renewal link, the outcome of the one before) and the last outcome's.
    assert statements["COMMIT"] == 4 + 1


def test_a_batch_run_twice_sends_each_message_once(smtp_server, app, session, app_context):
    agency(session, people=2)
    report = scan()
    enqueue_batch(report.deliveries)  # the same batch again, as a duplicate enqueue would

    assert run_jobs(app) == (2, 0)
    assert len(smtp_server) == 2
    assert [d.status for d in outbox(session)] == ["sent", "sent"]


def test_a_permanent_refusal_is_recorded_and_not_retried(mailbox, app, session, app_context):
    _, owners, _, _ = agency(session, people=2)
    mailbox.refuse[owners[0].email] = "550 5.1.1 mailbox unavailable"

    scan()
    finished, failed = run_jobs(app)

    assert (finished, failed) == (1, 0)
    refused, accepted = outbox(session)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550" in refused.last_error
    assert accepted.status == "sent"
    assert [m["To"] for m in mailbox.messages] == [owners[1].email]
    assert ScheduledJobRegistry(queue=queue_of(app)).count == 0


def test_a_transient_refusal_is_retried_with_backoff(mailbox, app, session, app_context):
    _, owners, _, _ = agency(session, people=2)
    mailbox.refuse[owners[0].email] = "451 4.3.0 try again later"

    scan()
    assert run_jobs(app) == (0, 1)

    postponed, accepted = outbox(session)
    assert (postponed.status, postponed.attempts) == ("pending", 1)
    assert "451" in postponed.last_error
    assert accepted.status == "sent"
    scheduled = ScheduledJobRegistry(queue=queue_of(app))
    [job_id] = scheduled.get_job_ids()
    delay = scheduled.get_scheduled_time(job_id) - utcnow()
    assert timedelta(seconds=50) < delay <= timedelta(seconds=60)

    # The server takes it now; the retry (run at once here) sends only what is left.
    del mailbox.refuse[owners[0].email]
    retry_now(app)
    assert run_jobs(app) == (1, 0)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(o.email for o in owners)
    assert [(d.status, d.attempts, d.last_error) for d in outbox(session)] == [("sent", 2, None), ("sent", 1, None)]


def test_the_last_try_marks_a_transient_failure_failed(mailbox, app, session, app_context):
    _, [owner], _, _ = agency(session)
    mailbox.refuse[owner.email] = "451 4.3.0 try again later"
    scan()
    [job] = queue_of(app).jobs
    job.retries_left = 0
    job.save()

    run_jobs(app)

    [delivery] = outbox(session)
    assert delivery.status == "failed" and "451" in delivery.last_error


def test_a_silent_server_times_out(app_config, request):
    """A server that accepts the connection and never answers holds a worker
    MAIL_TIMEOUT seconds, not forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=listener.getsockname()[1],
                      MAIL_SUPPRESS_SEND=False, MAIL_TIMEOUT=1.0)
    app = request.getfixturevalue("app")
    session = request.getfixturevalue("session")
    request.getfixturevalue("app_context")
    try:
        agency(session)
        scan()
        started = time.monotonic()
        assert run_jobs(app) == (0, 1)
        assert time.monotonic() - started < 5
    finally:
        listener.close()
    [delivery] = outbox(session)
    assert delivery.status == "pending" and "timed out" in delivery.last_error


# --- a relay that wants STARTTLS and a login, as a production one does ---------

RELAY_LOGIN = ("keepalive@northwind.test", "relay-secret")


def signed_certificate(directory):
    """A certificate authority of the test's own and a certificate it signed
    for 127.0.0.1: (the authority's PEM file, the server's TLS context)."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject, issuer, public_key, signing_key, *extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5))
                   .not_valid_after(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signing_key, hashes.SHA256())

    authority_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Keepalive tests' relay authority")])
    authority = certificate(authority_name, authority_name, authority_key.public_key(), authority_key,
                            (x509.BasicConstraints(ca=True, path_length=None), True))
    server = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), authority_name,
                         server_key.public_key(), authority_key,
                         (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False))
    pem = serialization.Encoding.PEM
    (directory / "authority.pem").write_bytes(authority.public_bytes(pem))
    (directory / "relay.pem").write_bytes(server.public_bytes(pem))
    (directory / "relay.key").write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "relay.pem", directory / "relay.key")
    return directory / "authority.pem", context


class Relay(Mailbox):
    """A relay that takes mail only after STARTTLS and a login; it keeps the
    logins it was offered and whether each message came over TLS."""

    def __init__(self):
        super().__init__()
        self.logins = []
        self.over_tls = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        # Not `handled`: aiosmtpd then answers a wrong login "535 5.7.8", as a relay does.
        return AuthResult(success=self.logins[-1] == RELAY_LOGIN, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay(request, app_config, tmp_path):
    from aiosmtpd.controller import Controller

    box = Relay()
    box.authority, context = signed_certificate(tmp_path)
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=box.authenticate, auth_required=True, auth_require_tls=True)
    controller.start()
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=True, MAIL_USE_SSL=False,
                      MAIL_USERNAME=RELAY_LOGIN[0], MAIL_PASSWORD=RELAY_LOGIN[1], MAIL_SUPPRESS_SEND=False,
                      MAIL_TIMEOUT=3.0)
    try:
        request.getfixturevalue("app")
        yield box
    finally:
        controller.stop()


def test_notices_go_through_a_relay_over_starttls_with_a_login(relay, app, session, app_context, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(relay.authority))  # the relay's authority is trusted here
    _, [owner], page, _ = agency(session)
    scan()

    assert run_jobs(app) == (1, 0)

    [message] = relay.messages
    assert message["To"] == owner.email and "Northwind Café" in message["Subject"]
    assert relay.over_tls == [True] and relay.logins == [RELAY_LOGIN]
    [delivery] = outbox(session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)


def test_a_relay_whose_certificate_is_not_trusted_gets_neither_the_password_nor_the_message(
        relay, app, session, app_context, monkeypatch, tmp_path):
    """STARTTLS checks the relay's certificate against the trusted
    authorities (here the system's, which do not know the test's own): one
    that does not check out could be anybody's, so the login is never sent
    and the message waits for a retry."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-authorities.pem"))
    agency(session)
    scan()

    run_jobs(app)

    assert relay.logins == [] and relay.messages == []
    [delivery] = outbox(session)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error


def test_other_mail_goes_through_the_same_relay(relay, app, app_context, monkeypatch, caplog):
    """Invitations, password resets and sign-ups take the same way out."""
    from jobs.mail import send_message

    message = {"subject": "Your invitation", "recipients": ["new@example.test"], "text": "Welcome."}
    monkeypatch.setenv("SSL_CERT_FILE", str(relay.authority))
    send_message(message)
    [received] = relay.messages
    assert received["Subject"] == "Your invitation" and relay.over_tls == [True] and relay.logins == [RELAY_LOGIN]

    monkeypatch.setenv("SSL_CERT_FILE", str(relay.authority.with_name("no-such-authorities.pem")))
    with caplog.at_level(logging.WARNING, logger="keepalive.mail"):
        assert send_message(message) is False  # dropped, not kept by RQ with its link
    assert len(relay.messages) == 1 and relay.logins == [RELAY_LOGIN]  # neither the password nor the message
    assert "certificate verify failed" in caplog.text


def test_a_refused_login_is_tried_again_then_failed_and_said_clearly(relay, app, session, app_context,
                                                                     monkeypatch, caplog):
    """535 is the relay's settings, not the message: a notice and a client's link wait for a retry
    (nothing recorded as failed yet) and the log names the settings to check; once the tries run
    out, the notice is failed and the link shows its email as not sent, with the relay's answer."""
    from portal.extensions import mail
    from portal.links import service as links
    from portal.links.rules import Purpose

    monkeypatch.setenv("SSL_CERT_FILE", str(relay.authority))
    app.config.update(MAIL_PASSWORD="not-the-relay-secret", MAIL_RETRY_INTERVALS=[60])
    mail.init_app(app)
    _, _, page, _ = agency(session)
    scan()
    with app.test_request_context():
        link = links.send(session, page, "client@example.test", Purpose.CLIENT, "Northwind", "en")

    with caplog.at_level(logging.ERROR, logger="keepalive.mail"):
        assert run_jobs(app) == (0, 2)
    assert "refused Keepalive's login (check MAIL_USERNAME and MAIL_PASSWORD): 535" in caplog.text
    [delivery] = outbox(session)
    assert (delivery.status, delivery.attempts) == ("pending", 1) and "535" in delivery.last_error
    assert session.get(RenewalLink, link.id).email_error is None
    assert relay.messages == []

    for job, _ in scheduled_now(app):  # the last tries
        job.retries_left = 0
        job.save()
    assert run_jobs(app) == (2, 0)
    [delivery] = outbox(session)
    assert delivery.status == "failed" and "535" in delivery.last_error
    assert session.get(RenewalLink, link.id).email_error.startswith("535 ")
    assert relay.messages == []


def test_a_name_stored_with_a_line_break_goes_out_on_one_line(smtp_server, app, session, app_context):
    """A profile a network named with a line break before names were cleaned on the way in: its
    subject is written on one line, where Flask-Mail refused it and the job failed."""
    _, [owner], _, _ = agency(session, profile_name="Northwind\r\nCafé\u2028")

    scan()

    assert run_jobs(app) == (1, 0)
    [message] = smtp_server
    assert message["Subject"] == "Action needed: the Facebook token of Northwind Café expires in 2 days"
    assert [d.status for d in outbox(session)] == ["sent"]


@pytest.fixture
def slack():
    from tests.receivers import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


def test_a_message_that_fails_on_its_own_fails_alone(mailbox, slack, app, session, app_context, caplog):
    """A message refused before any SMTP (an address stored with a line break, which Flask-Mail
    refuses), and a Slack message that cannot be written (its address cannot be unsealed), fail for
    good, each alone: the other messages of their batch, other agencies' too, are sent, and the job is
    not tried again."""
    from portal.crypto import seal
    from portal.models import User

    expiring = {"page": {"name": "Northwind Café", "credential": {"expires_in": 3 * DAY - MINUTE}}}
    first = factories.agency(session, name="Northwind", people={"bad": "owner", "good": "owner"},
                             profiles=expiring, sealed_slack_webhook_url="not sealed")
    other = factories.agency(session, name="Harbor", people={"harbor": "owner"},
                             profiles={"page": {**expiring["page"], "name": "Harbor Fitness"}},
                             sealed_slack_webhook_url=seal(slack.url("/services/harbor")))
    poisoned = session.get(User, first.people["bad"].id)
    poisoned.email = "bad@example.test\nBcc: everyone@example.test"
    session.add(poisoned)
    session.commit()

    report = scan()
    assert len(report.deliveries) == 5  # in one batch: 3 emails, 2 Slack messages
    with caplog.at_level(logging.ERROR, logger="keepalive.deliver"):
        assert run_jobs(app) == (1, 0)

    assert sorted(m["To"] for m in mailbox.messages) == ["good@example.test", "harbor@example.test"]
    [(path, _, body)] = slack.requests
    assert path == "/services/harbor" and "Harbor Fitness" in body.decode()
    outcomes = {(d.channel, d.recipient): (d.status, d.attempts, d.last_error) for d in outbox(session)}
    assert outcomes == {
        ("email", poisoned.email): ("failed", 1, "BadHeaderError"),
        ("email", "good@example.test"): ("sent", 1, None),
        ("email", "harbor@example.test"): ("sent", 1, None),
        ("slack", f"organization:{first.org.id}"): ("failed", 1, "InvalidToken"),
        ("slack", f"organization:{other.org.id}"): ("sent", 1, None),
    }
    assert ScheduledJobRegistry(queue=queue_of(app)).count == 0 and FailedJobRegistry(queue=queue_of(app)).count == 0
    assert caplog.text.count("cannot be sent") == 2


def test_a_notice_renewed_before_it_is_sent_is_dropped(smtp_server, app, session, app_context):
    _, _, page, credential = agency(session)
    scan()
    session.commit()
    credential.expires_at = utcnow() + 60 * DAY  # refreshed in place meanwhile
    session.add(credential)
    session.commit()

    run_jobs(app)

    assert smtp_server == []
    assert [d.status for d in outbox(session)] == ["obsolete"]


def no_longer_may_renew(session, org, owners, page):
    demoted = session.exec(select(Membership).where(Membership.user_id == owners[1].id)).one()
    demoted.role = "member"  # without "manage social profiles"
    owners[2].active = False
    return [demoted, owners[2]]


def switched_email_off(session, org, owners, page):
    return [
        NotificationPreference(user_id=owners[1].id, organization_id=org.id, email=False),
        NotificationPreference(user_id=owners[2].id, organization_id=org.id, email=True),
        NotificationPreference(user_id=owners[2].id, organization_id=org.id, profile_id=page.id, email=False),
    ]


@pytest.mark.parametrize("change", [no_longer_may_renew, switched_email_off])
def test_only_who_still_may_renew_and_wants_email_is_emailed(smtp_server, app, session, app_context, change):
    """Checked again when the batch is sent: a retry may come hours after the scan."""
    org, owners, page, _ = agency(session, people=3)
    scan()
    session.commit()  # a snapshot after the scan's writes
    session.add_all(change(session, org, owners, page))
    session.commit()

    run_jobs(app)

    assert [m["To"] for m in smtp_server] == [owners[0].email]
    assert [d.status for d in outbox(session)] == ["sent", "obsolete", "obsolete"]


def test_each_recipient_of_a_batch_reads_their_own_language(smtp_server, app, session, app_context):
    _, owners, _, _ = agency(session, people=3)
    for owner, locale in zip(owners, ("fr", "de", None)):
        owner.locale = locale
        session.add(owner)
    session.commit()
    scan()

    run_jobs(app)

    subjects = {m["To"]: m["Subject"] for m in smtp_server}
    assert subjects == {
        owners[0].email: "Action requise\u00a0: le jeton Facebook de Northwind Café expire dans 2 jours",
        owners[1].email: "Handlungsbedarf: Das Facebook-Token von Northwind Café läuft in 2 Tagen ab",
        owners[2].email: "Action needed: the Facebook token of Northwind Café expires in 2 days",
    }
    french = next(m for m in smtp_server if m["To"] == owners[0].email)
    assert "Bonjour" in french.get_body(("plain",)).get_content()


@pytest.mark.slow
def test_a_second_worker_cannot_claim_what_the_first_is_sending(mailbox, app, session, app_context, database):
    """Two real workers on the same batch (a duplicate job): while the first
    waits for the server's answer to the first message, the second passes
    over it and sends the others; the first then finds them taken."""
    session.close()
    reopen_connections(app, database)
    _, owners, _, _ = agency(session, people=3)
    mailbox.hold, mailbox.accept_held = owners[0].email, True
    report = scan()
    enqueue_batch(report.deliveries)

    with worker_process(app, "--burst") as first:
        assert mailbox.holding.wait(60)
        with worker_process(app, "--burst") as second:
            output, _ = second.communicate(timeout=60)
        assert second.returncode == 0, output.decode()
        sent = sorted(m["To"] for m in mailbox.messages)
        assert sent == [owners[1].email, owners[2].email], (
            f"{[(d.status, d.last_error) for d in outbox(session)]}\n{output.decode()}")
        mailbox.release.set()
        output, _ = first.communicate(timeout=60)
        assert first.returncode == 0, output.decode()

    assert sorted(m["To"] for m in mailbox.messages) == sorted(o.email for o in owners)
    assert [(d.status, d.attempts) for d in outbox(session)] == [("sent", 1)] * 3


def test_a_job_that_dies_after_the_servers_answer_sends_that_message_again_and_no_other(
        smtp_server, app, session, app_context, monkeypatch):
    """The documented window: the server took the first message, and the job
    dies before its outcome is committed (with the next claim). The retry
    sends that one again, and each of the others once."""
    _, owners, _, _ = agency(session, people=3)
    scan()
    settle = batch_module.Batch.settle

    def dies_after_the_first(batch, delivery_id, *args, **kwargs):
        monkeypatch.setattr(batch_module.Batch, "settle", settle)
        raise SystemExit("the worker died")

    monkeypatch.setattr(batch_module.Batch, "settle", dies_after_the_first)
    assert run_jobs(app) == (0, 1)
    assert [m["To"] for m in smtp_server] == [owners[0].email]
    assert [d.status for d in outbox(session)] == ["sending", "pending", "pending"]

    retry_now(app)
    assert run_jobs(app) == (1, 0)

    assert [m["To"] for m in smtp_server] == [owners[0].email] + [o.email for o in owners]
    assert [d.status for d in outbox(session)] == ["sent"] * 3


def test_a_job_that_dies_as_it_claims_loses_nothing(smtp_server, app, session, app_context, monkeypatch):
    """The worker dies between writing down what it has in flight and the
    commit of its first claim: the retry finds that delivery and sends each
    message once (had the claim been committed first, it would stay
    "sending" for good)."""
    _, owners, _, _ = agency(session, people=3)
    scan()
    save_meta = Job.save_meta

    def dies_as_it_claims(job, *args, **kwargs):
        if job.meta.get(batch_module.IN_FLIGHT):
            monkeypatch.setattr(Job, "save_meta", save_meta)
            raise SystemExit("the worker died")
        return save_meta(job, *args, **kwargs)

    monkeypatch.setattr(Job, "save_meta", dies_as_it_claims)
    assert run_jobs(app) == (0, 1)
    assert smtp_server == []
    assert [d.status for d in outbox(session)] == ["pending"] * 3

    retry_now(app)
    assert run_jobs(app) == (1, 0)
    assert sorted(m["To"] for m in smtp_server) == sorted(o.email for o in owners)
    assert [d.status for d in outbox(session)] == ["sent"] * 3


def worker_environment(app):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"],
        QUEUE_NAME=app.config["QUEUE_NAME"], MAIL_SERVER="127.0.0.1", MAIL_PORT=str(app.config["MAIL_PORT"]),
        MAIL_TIMEOUT="30", BASE_URL="http://localhost", PYTHONPATH=str(ROOT),
    )
    return env


@contextmanager
def worker_process(app, *extra):
    """A real `rq worker` on the app's queue; whatever the test does, it is
    gone (with its process group) and its output pipe closed when the block ends."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "--url", app.config["REDIS_URL"],
         "--worker-class", "rq.worker.SimpleWorker", *extra, app.config["QUEUE_NAME"]],
        cwd=ROOT, env=worker_environment(app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        worker.stdout.close()


def reopen_connections(app, database):
    """Fresh SQLite connections in this process before other processes share
    the file: POSIX drops every lock a process holds on a file when any of
    its descriptors of that file closes (a test that read the file directly
    does that), and a worker that then exits would take itself for the last
    user and remove the write-ahead log under our feet."""
    database["engine"].dispose()
    app.extensions["keepalive.engine"].dispose()


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(mailbox, app, session, app_context, database):
    """SIGKILL a real `rq worker` while it waits for the SMTP server's answer
    to the third message of a batch; RQ requeues the abandoned job and a new
    worker sends every delivery, none twice."""
    session.close()
    reopen_connections(app, database)
    _, owners, _, _ = agency(session, people=5)
    mailbox.hold = owners[2].email
    scan()

    with worker_process(app) as worker:
        assert mailbox.holding.wait(60), worker.stdout.read1().decode() if worker.poll() is not None else ""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    mailbox.release.set()
    assert sorted(m["To"] for m in mailbox.messages) == [o.email for o in owners[:2]]
    statuses = [d.status for d in outbox(session)]
    assert statuses == ["sent", "sent", "sending", "pending", "pending"]

    # What a worker's maintenance does once the dead worker's heartbeat has
    # lapsed (a minute or more): the abandoned job goes back for a retry.
    queue = queue_of(app)
    started = StartedJobRegistry(queue=queue)
    started.cleanup(timestamp=time.time() + 3600)
    retry_now(app)  # its backoff elapsed

    mailbox.hold = None
    with worker_process(app, "--burst") as again:
        output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output.decode()

    assert sorted(m["To"] for m in mailbox.messages) == sorted(o.email for o in owners)
    assert [d.status for d in outbox(session)] == ["sent"] * 5
    assert FailedJobRegistry(queue=queue).count == 0
