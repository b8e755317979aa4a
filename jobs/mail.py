"""Sending email, in the worker."""
from flask_mail import Message

from jobs import in_app_context
from portal.extensions import mail


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`)."""
    mail.send(
        Message(
            subject=message["subject"],
            recipients=message["recipients"],
            body=message["text"],
            html=message.get("html"),
            extra_headers=message.get("headers") or None,
        )
    )
