"""Sending email, in the worker."""
from jobs import in_app_context
from jobs.deliver.email import smtp_connection
from portal.auth import resets, signup
from portal.db import get_session
from portal.mailer import Email
from portal.notifications.messages import url_context


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`),
    over a connection with the notices' time-outs and certificate checks."""
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
