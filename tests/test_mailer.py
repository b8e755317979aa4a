"""How a message is written out: what the worker hands to SMTP."""
import email
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
