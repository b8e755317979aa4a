"""Sending email, in the worker."""
import logging

from jobs import in_app_context
from jobs.deliver.email import describe, smtp_connection
from portal.auth import resets, signup
from portal.db import get_session
from portal.mailer import Email
from portal.notifications.messages import url_context

log = logging.getLogger("keepalive.mail")


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`),
    over a connection with the notices' time-outs and certificate checks.

    A message that cannot be sent is logged and dropped; the job does not
    fail: RQ would keep a failed job, and with it the message and the link
    it carries (an invitation's, a client's renewal link), for a day.
    Whether it was sent is the job's result (True or False)."""
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
        log.warning("an email to %s could not be sent: %s", ", ".join(message["recipients"]), describe(error))
        return False
    return True


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
