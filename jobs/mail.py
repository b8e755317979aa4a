"""Sending email, in the worker."""
from jobs import in_app_context
from portal.extensions import mail
from portal.mailer import Email


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`)."""
    mail.send(
        Email(
            subject=message["subject"],
            recipients=message["recipients"],
            body=message["text"],
            html=message.get("html"),
            extra_headers=message.get("headers") or None,
        )
    )
