"""How a message is written out: what the worker hands to SMTP."""
import email
import email.policy
from email.generator import Generator

from portal.mailer import Email


def written(app, **fields):
    with app.app_context():
        return Email(sender="keepalive@example.test", recipients=["olivia@example.test"], **fields).as_bytes()


def test_a_message_with_text_and_html_reads_back_whole(app, monkeypatch):
    def searched(*_):
        raise AssertionError("the generator searched the message for a boundary of its own")

    monkeypatch.setattr(Generator, "_make_boundary", classmethod(searched))
    raw = written(app, subject="Northwind Café: token expires", body="Renew =_here\n", html="<p>Renew</p>")

    message = email.message_from_bytes(raw)
    [alternative] = message.get_payload()
    text, html = alternative.get_payload()
    assert text.get_payload(decode=True).decode().splitlines() == ["Renew =_here"]
    assert html.get_payload(decode=True).decode() == "<p>Renew</p>"
    boundaries = {message.get_boundary(), alternative.get_boundary()}
    assert len(boundaries) == 2 and all(boundary.startswith("=_") for boundary in boundaries)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_each_message_has_boundaries_of_its_own(app):
    first, second = (email.message_from_bytes(written(app, subject="s", body="b", html="h")) for _ in range(2))
    assert first.get_boundary() != second.get_boundary()


def test_a_message_that_cannot_be_sent_leaves_no_link_in_redis(app, session, app_config):
    """The relay stays away. Between its tries the job holds the message, as it must: RQ would keep
    a job it failed itself ten minutes, not a day, and its description, which the worker logs, names
    no link. Once the last try fails the message is logged and dropped, not kept with its link."""
    from redis import Redis

    from portal import mailer
    from tests.conftest import free_port, run_jobs, scheduled_now

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False)
    from portal.extensions import mail

    mail.init_app(app)
    link = "http://localhost/invitations/Zq3v-8sKp_Ta91xYw0bLmN4rD2eF6gH7"
    with app.test_request_context():
        job = mailer.send("someone@example.test", "Join us", "invitation", organization_name="Northwind",
                          inviter="Olivia", link=link, hours=72, role="member")
    assert job.failure_ttl == 600 and link not in job.description
    for _ in app.config["MAIL_RETRY_INTERVALS"]:
        assert run_jobs(app) == (0, 1)
        [_] = scheduled_now(app)
    assert run_jobs(app) == (1, 0)
    redis = Redis.from_url(app.config["REDIS_URL"])
    kept = [key for key in redis.scan_iter(match=f"rq:*{job.id}*")]
    assert not any(link.encode() in (redis.dump(key) or b"") for key in kept)
    assert redis.exists(f"rq:job:{job.id}") == 0


def test_names_go_into_the_headers_on_one_line(app):
    """A subject, a sender's name or a Reply-To with a line break (a profile's name from a network) is
    written on one line: Flask-Mail would refuse the message, and no header can be slipped in."""
    with app.app_context():
        message = Email(subject="Action needed: the token of North\nwind\u2028Café\r\nBcc: x@example.test",
                        sender=("Northwind\r\nAgency", "keepalive@example.test"),
                        reply_to="Olivia\n <olivia@example.test>", recipients=["olivia@example.test"],
                        extra_headers={"List-Unsubscribe": "<http://localhost/settings>\r\nBcc: z@example.test"},
                        body="b")
        assert not message.has_bad_headers()
        raw = message.as_bytes()

    written = email.message_from_bytes(raw, policy=email.policy.default)
    assert written["Subject"] == "Action needed: the token of North wind Café Bcc: x@example.test"
    assert written["From"] == "Northwind Agency <keepalive@example.test>"
    assert written["Reply-To"] == "Olivia <olivia@example.test>"
    assert written["List-Unsubscribe"] == "<http://localhost/settings> Bcc: z@example.test"
    assert written["Bcc"] is None
