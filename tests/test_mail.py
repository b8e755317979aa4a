"""The portal's own mail (`jobs.mail.send_message`: invitations, password resets, sign-ups, clients'
links), over a real SMTP server on loopback and the real RQ worker: a relay that is away is tried
again, a refusal for good is recorded at once, and only the last failed try says "not sent"."""
import re
import smtplib
import socket
import time
from datetime import timedelta

from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlmodel import select

from portal.db import utcnow
from portal.models import RenewalLink
from portal.notifications.rules import failure_kind
from tests import factories
from tests.conftest import csrf_token, run_jobs, scheduled_now

REFUSED = "550 5.1.1 mailbox unavailable"
NOT_SENT = "Email not sent"


def queue_of(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))


def agency(session):
    return factories.agency(session, name="Northwind", profiles={"page": {"name": "Northwind Café"}})


def send_link(auth, profile_id, email):
    return auth.post(f"/accounts/{profile_id}/send-link", {"email": email, "language": "en"})


def invite_to_connect(auth, email):
    return auth.post("/accounts/connect/invite", {"networks": ["facebook"], "email": email, "message": "",
                                                  "brand": "", "days": "7", "language": "en"})


def invite_member(auth, email):
    return auth.post("/settings/members/invite", {"email": email, "role": "member"})


def test_what_a_failure_to_send_means():
    """One rule for the notices and the portal's other mail: the relay away, silent, busy or closing
    (421) and a 4xx are tried again; a 5xx is for good; a refused login (535) is the relay's
    settings, tried again like a relay that is away."""
    rows = [
        (ConnectionRefusedError(111, "Connection refused"), "connection"),
        (ConnectionResetError(104, "Connection reset by peer"), "connection"),
        (socket.timeout("timed out"), "connection"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "connection"),
        (smtplib.SMTPConnectError(421, b"4.3.2 too busy"), "connection"),
        (smtplib.SMTPDataError(421, b"4.4.2 closing the connection"), "connection"),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid"), "connection"),
        (smtplib.SMTPDataError(451, b"4.3.0 try again later"), "transient"),
        (smtplib.SMTPRecipientsRefused({"a@example.test": (452, b"4.2.2 mailbox full")}), "transient"),
        (smtplib.SMTPRecipientsRefused({"a@example.test": (550, b"5.1.1 mailbox unavailable")}), "permanent"),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "keepalive@example.test"), "permanent"),
        (smtplib.SMTPDataError(554, b"5.7.1 message refused"), "permanent"),
    ]
    assert [failure_kind(error) for error, _ in rows] == [kind for _, kind in rows]


def test_a_reset_email_arrives_once_the_relay_is_back(mailbox, app, client, session):
    """The relay is down when the worker first tries: RQ's scheduler runs the message's job again
    after the interval the settings give, and the link arrives, and works."""
    factories.agency(session)
    app.config["MAIL_RETRY_INTERVALS"] = [1, 1, 1]
    mailbox.down()
    reset = client.post("/reset", data={"email": "owner@example.test", "csrf_token": csrf_token(client)})
    assert reset.status_code == 303

    assert run_jobs(app) == (1, 1)  # the reset's job; its message's, refused a connection, waits
    assert mailbox.messages == []
    registry = ScheduledJobRegistry(queue=queue_of(app))
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) - utcnow() <= timedelta(seconds=1)

    mailbox.up()
    deadline = time.monotonic() + 10
    while not mailbox.messages and time.monotonic() < deadline:
        time.sleep(0.2)
        run_jobs(app, with_scheduler=True)
    [message] = mailbox.messages
    assert (message["To"], message["Subject"]) == ("owner@example.test", "Reset your Keepalive password")
    path = re.search(r"http://localhost(/reset/[\w-]+)", message.get_body(("plain",)).get_content()).group(1)
    assert client.get(path).status_code == 200
    assert registry.count == 0 and queue_of(app).count == 0


def test_a_refusal_for_good_is_recorded_at_once_and_a_passing_one_tried_again(mailbox, app, client, auth,
                                                                              session):
    """Both jobs could be tried again; the 550 is not, and says so at once, while the 451 waits for
    its next try without a word, and then goes out."""
    made = agency(session)
    page = made.profiles["page"]
    mailbox.refuse["gone@example.test"] = REFUSED
    mailbox.refuse["busy@example.test"] = "451 4.3.0 try again later"
    auth.login("owner@example.test")
    for address in ("gone@example.test", "busy@example.test"):
        assert send_link(auth, page.id, address).status_code == 303
    assert [job.retries_left for job in queue_of(app).jobs] == [3, 3]

    assert run_jobs(app) == (1, 1)

    def errors():
        session.commit()
        session.expire_all()
        return {link.recipient: link.email_error for link in session.exec(select(RenewalLink)).all()}

    assert errors() == {"gone@example.test": REFUSED, "busy@example.test": None}
    [(job, _)] = scheduled_now(app)
    assert job.args[0]["recipients"] == ["busy@example.test"]

    del mailbox.refuse["busy@example.test"]
    assert run_jobs(app) == (1, 0)
    assert [m["To"] for m in mailbox.messages] == ["busy@example.test"]
    assert errors() == {"gone@example.test": REFUSED, "busy@example.test": None}


def test_only_the_last_failed_try_says_not_sent(mailbox, app, client, auth, session):
    """The relay stays down: a client's link, an invitation to connect and a member's invitation
    are tried again after 1, 4 and 10 minutes, saying nothing while a try is to come; the last
    failed try marks each "Email not sent", with the relay's answer, and RQ keeps nothing."""
    made = agency(session)
    page = made.profiles["page"]
    mailbox.down()
    auth.login("owner@example.test")
    assert send_link(auth, page.id, "client@example.test").status_code == 303
    assert invite_to_connect(auth, "brand@example.test").status_code == 303
    assert invite_member(auth, "new@example.test").status_code == 303
    job_ids = queue_of(app).job_ids

    def pages():
        return [client.get(path).get_data(as_text=True)
                for path in (f"/accounts/{page.id}", "/accounts/connect/invitations", "/settings/members")]

    for interval in app.config["MAIL_RETRY_INTERVALS"]:
        assert interval in (60, 240, 600)
        assert run_jobs(app) == (0, 3)
        assert not any(NOT_SENT in html for html in pages())
        waits = [when - utcnow() for _, when in scheduled_now(app)]
        assert len(waits) == 3 and all(timedelta(seconds=interval - 10) < wait <= timedelta(seconds=interval)
                                       for wait in waits)

    assert run_jobs(app) == (3, 0)  # the last tries: each message logged and dropped, each job ended
    for html in pages():
        assert NOT_SENT in html and "Connection refused" in html
    redis = Redis.from_url(app.config["REDIS_URL"])
    assert not any(redis.exists(f"rq:job:{job_id}") for job_id in job_ids)
    assert ScheduledJobRegistry(queue=queue_of(app)).count == 0
