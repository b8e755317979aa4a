"""Sending email, in the worker."""
import logging

from jobs import in_app_context
from jobs.deliver.email import describe, smtp_connection
from portal.auth import resets, signup
from portal.connect import invitations
from portal.db import get_session
from portal.links import service as links
from portal.mailer import Email
from portal.notifications.messages import url_context

log = logging.getLogger("keepalive.mail")

# What records that a message could not be sent, by what it was about
# (`portal.mailer.send`'s `about`): the agency's pages show it.
UNSENT = {"renewal_link": links.email_failed, "connect_invitation": invitations.email_failed}


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`),
    over a connection with the notices' time-outs and certificate checks.

    A message that cannot be sent is logged and dropped; the job does not
    fail: RQ would keep a failed job, and with it the message and the link
    it carries (an invitation's, a client's renewal link), for a day.
    One about a renewal link or an invitation to connect is recorded as not
    sent there. Whether it was sent is the job's result (True or False)."""
    try:
        with smtp_connection() as connection:
            connection.send(
                Email(
                    subject=message["subject"],
                    recipients=message["recipients"],
                    body=message["text"],
                    html=message.get("html"),
                    extra_headers=message.get("headers") or None,
                )
            )
    except Exception as error:  # noqa: BLE001 - whatever it was, the message is not kept
        detail = describe(error)
        log.warning("an email to %s could not be sent: %s", ", ".join(message["recipients"]), detail)
        record_unsent(message.get("about"), detail)
        return False
    return True


def record_unsent(about, detail):
    """Record on what the message was about (if anything) that it could not
    be sent. A failure to record is logged, not raised: RQ would keep the
    failed job, and with it the message's link."""
    if not about:
        return
    kind, *ids = about
    try:
        UNSENT[kind](get_session(), *ids, detail)
    except Exception:  # noqa: BLE001 - logged; the job must not fail
        log.exception("that an email about %s %s could not be sent was not recorded", kind, ids)


@in_app_context
def password_reset(email):
    """Email a reset link if an active account has `email`; nothing otherwise."""
    with url_context():
        message = resets.request_reset(get_session(), email)
    if message is not None:
        send_message(message)


@in_app_context
def signup_email(signup_id):
    """Email a sign-up its confirmation link, or, when its address already
    has an account, a note saying so."""
    with url_context():
        message = signup.confirmation_message(get_session(), signup_id)
    if message is not None:
        send_message(message)
