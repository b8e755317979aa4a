"""The local mail capture and `/dev/mail`: messages received over real SMTP
on loopback are listed and shown; nothing outside the mail folder is."""
import re
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

from devkit.mailcapture import list_messages, message_path, read_message, store
from devkit.run import ROOT, free_port, port_answers
from jobs.mail import send_message
from portal import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def smtp_port(mail_dir):
    """`python -m devkit.mailcapture` on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devkit.mailcapture", "--port", str(port), "--dir", str(mail_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not port_answers(port):
        assert process.poll() is None, "the mail capture exited"
        assert time.monotonic() < deadline, "the mail capture did not start"
        time.sleep(0.05)
    yield port
    process.terminate()
    assert process.wait(10) is not None


@pytest.fixture
def app_config(app_config, mail_dir, smtp_port):
    return {**app_config, "DEV_MAIL_DIR": str(mail_dir), "MAIL_PORT": smtp_port, "MAIL_SERVER": "127.0.0.1",
            "MAIL_SUPPRESS_SEND": False}


def send(port, subject, to="client@example.test"):
    message = EmailMessage()
    message["From"] = "Keepalive <keepalive@localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Renew here: http://localhost/renew/abc123\n")
    message.add_alternative(
        '<p>Renew <a href="http://localhost/renew/abc123">here</a></p>'
        '<script>parent.document.title = "owned"</script>',
        subtype="html",
    )
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


def wait_for_messages(mail_dir, count):
    deadline = time.monotonic() + 5
    while len(list_messages(mail_dir)) < count:
        assert time.monotonic() < deadline, "message not captured"
        time.sleep(0.05)


def test_received_message_is_listed_and_shown(client, smtp_port, mail_dir):
    send(smtp_port, "Your Facebook token expires in 3 days")
    send(smtp_port, "Second notice", to="other@example.test")
    wait_for_messages(mail_dir, 2)

    page = client.get("/dev/mail/")
    assert page.status_code == 200
    listing = page.get_data(as_text=True)
    assert "client@example.test" in listing
    assert "Your Facebook token expires in 3 days" in listing
    assert listing.index("Second notice") < listing.index("Your Facebook token expires in 3 days")

    first = list_messages(mail_dir)[-1]
    response = client.get(f"/dev/mail/{first.id}")
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert "Your Facebook token expires in 3 days" in shown
    assert "Keepalive &lt;keepalive@localhost&gt;" in shown
    assert '<a href="http://localhost/renew/abc123"' in shown  # the text part, linked
    frame = re.search(r'<iframe[^>]*sandbox="([^"]*)"[^>]*srcdoc="([^"]*)"', shown)
    assert frame, "the HTML part is not in a sandboxed frame"
    assert "allow-scripts" not in frame.group(1) and "allow-same-origin" not in frame.group(1)
    assert "&lt;script&gt;" in frame.group(2)
    assert "<script>parent" not in shown


def test_htmx_poll_gets_only_the_list(client, smtp_port, mail_dir):
    send(smtp_port, "Polled")
    wait_for_messages(mail_dir, 1)
    response = client.get("/dev/mail/", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "Polled" in body and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_mail_sent_by_the_worker_job_is_captured(app, smtp_port, mail_dir):
    with app.app_context():
        send_message({"subject": "Renewal link", "recipients": ["owner@example.test"],
                      "text": "Plain", "html": "<p>Rich</p>"})
    wait_for_messages(mail_dir, 1)
    message = read_message(mail_dir, list_messages(mail_dir)[0].id)
    assert message.subject == "Renewal link"
    assert message.text.strip() == "Plain" and "<p>Rich</p>" in message.html


@pytest.mark.parametrize("path", [
    "/dev/mail/..%2F..%2Fetc%2Fpasswd",
    "/dev/mail/%2e%2e",
    "/dev/mail/..%2Fsecret",
    "/dev/mail/secret",
    "/dev/mail/1763775000000000000-0123456789ab",
])
def test_only_captured_messages_can_be_read(client, mail_dir, path):
    mail_dir.mkdir(parents=True, exist_ok=True)
    (mail_dir / "secret.eml").write_text("Subject: not a captured message\n\nsecret")
    (mail_dir.parent / "secret.eml").write_text("Subject: outside\n\nsecret")
    response = client.get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "not a captured message" not in body and "outside" not in body


def test_message_ids_are_checked_before_any_file_is_touched(tmp_path):
    message_id = store(tmp_path, b"Subject: hi\r\n\r\nbody\r\n")
    assert message_path(tmp_path, message_id) == tmp_path / f"{message_id}.eml"
    for bad in ["../" + message_id, message_id + "/..", "", None, message_id + ".eml", "*"]:
        assert message_path(tmp_path, bad) is None


def test_not_mounted_in_production(app_config, monkeypatch):
    monkeypatch.setenv("KEEPALIVE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("TOKEN_KEYS", "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=")
    production = create_app(app_config)
    production.extensions["keepalive.engine"].dispose()
    assert not production.config["DEV_TOOLS"]
    assert "devmail" not in production.blueprints
    assert production.test_client().get("/dev/mail/").status_code == 404
