"""Sending email, in the worker: one message a job, tried again by RQ while
the relay cannot take it (`portal.mailer.enqueue_message` gives the job its
retries)."""
import logging
import smtplib

from rq import get_current_job

from jobs import in_app_context
from jobs.deliver.batch import last_try
from jobs.deliver.email import close, describe, failure, smtp_connection
from portal import mailer
from portal.auth import invitations as member_invitations, resets, signup
from portal.connect import invitations
from portal.db import get_session
from portal.links import service as links
from portal.mailer import Email
from portal.notifications.messages import url_context

log = logging.getLogger("keepalive.mail")

# What records that a message could not be sent, by what it was about
# (`portal.mailer.send`'s `about`): the agency's pages show it.
UNSENT = {
    "renewal_link": links.email_failed,
    "connect_invitation": invitations.email_failed,
    "invitation": member_invitations.email_failed,
}


class RelayUnavailable(Exception):
    """The relay could not take the message now; RQ runs the job again."""


@in_app_context
def send_message(message):
    """Send one message given as plain values (see `portal.mailer.compose`),
    over a connection with the notices' time-outs and certificate checks.

    A failure the notices would retry (the relay down, silent or busy, a
    4xx, a refused login: `jobs.deliver.email.failure`) raises, and RQ runs
    the job again after its next interval. One that no try will mend (a
    5xx, a message that cannot be written), or the last try's, is logged
    and the message dropped: the job ends, and RQ keeps neither it nor the
    link it carries. Only then is a message about a renewal link or an
    invitation recorded as not sent there, so that nothing says "not sent"
    while a try is still to come. Whether it was sent is the job's result."""
    failed = attempt(message)
    if failed is None:
        return True
    kind, detail = failed
    recipients = ", ".join(message["recipients"])
    if kind != "permanent" and not last_try(get_current_job()):
        log.info("an email to %s is tried again later: %s", recipients, detail)
        raise RelayUnavailable(detail)
    log.warning("an email to %s could not be sent: %s", recipients, detail)
    record_unsent(message.get("about"), detail)
    return False


def attempt(message):
    """Hand the message to the relay: None once it took it, else (kind,
    detail) of why not. Whatever the relay answers to QUIT after taking it,
    the message is sent, and not sent again."""
    connection = None
    try:
        email = Email(
            subject=message["subject"],
            recipients=message["recipients"],
            body=message["text"],
            html=message.get("html"),
            extra_headers=message.get("headers") or None,
        )
        connection = smtp_connection().__enter__()
        connection.send(email)
    except (smtplib.SMTPException, OSError) as error:
        return failure(error)
    except Exception as error:  # noqa: BLE001 - it cannot be written (a header Flask-Mail refuses): no try mends it
        log.error("an email to %s cannot be written", ", ".join(message["recipients"]), exc_info=error)
        return "permanent", describe(error)
    finally:
        close(connection)
    return None


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
    """Email a reset link if an active account has `email`; nothing otherwise.
    The message is a job of its own (`send_message`), with its retries."""
    with url_context():
        message = resets.request_reset(get_session(), email)
    if message is not None:
        mailer.enqueue_message(message)


@in_app_context
def signup_email(signup_id):
    """Email a sign-up its confirmation link, or, when its address already
    has an account, a note saying so; as a job of its own (`send_message`)."""
    with url_context():
        message = signup.confirmation_message(get_session(), signup_id)
    if message is not None:
        mailer.enqueue_message(message)
