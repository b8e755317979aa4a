"""Email: a batch's messages over one SMTP connection, each with a fresh
renewal link for its recipient; the SMTP connection, and what a failure to
send means, for every message the worker sends (`jobs.mail` too)."""
import logging
import smtplib
import socket
import ssl

from flask import current_app
from flask_mail import BadHeaderError, Connection

from jobs.deliver.batch import error_text
from portal.links import service as links
from portal.notifications import messages
from portal.notifications.relevance import relevant_notices
from portal.notifications.rules import failure_kind

log = logging.getLogger("keepalive.mail")


class TimedConnection(Connection):
    """Flask-Mail's connection with a time-out on every SMTP call, and TLS
    that checks whom it talks to.

    Flask-Mail 0.10 opens `smtplib.SMTP(server, port)` with no time-out, so
    a silent server would hold a worker forever. smtplib applies the
    `timeout` given at construction to the connect and to every later read
    and write on that socket (kept through STARTTLS); nothing global changes.
    Without a context smtplib's TLS checks no certificate, so that anybody
    between the worker and the relay would be given the login: the relay's
    certificate and name are checked against the system's trusted authorities.
    Their context is made only for a relay spoken to over TLS: reading the
    system's authorities takes a worker tens of milliseconds, for every batch.
    """

    def configure_host(self):
        mail, timeout = self.mail, current_app.config["MAIL_TIMEOUT"]
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=timeout, context=ssl.create_default_context())
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=timeout)
        host.set_debuglevel(int(mail.debug))
        try:
            if mail.use_tls:
                host.starttls(context=ssl.create_default_context())
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:  # a refused login or TLS: the socket is not left open
            host.close()
            raise
        return host


def smtp_connection():
    """What `mail.connect()` returns, with the time-out of TimedConnection."""
    return TimedConnection(current_app.extensions["mail"])


def send_emails(session, delivery_ids, batch):
    """Send email deliveries over one SMTP connection."""
    notices = relevant_notices(session, delivery_ids, "email")
    secrets = renewal_links(session, batch, notices)
    connection = None
    try:
        with messages.url_context():
            for position, delivery_id in enumerate(delivery_ids):
                message = claimed_email(session, batch, delivery_id, notices.get(delivery_id), secrets)
                if message is None:
                    continue
                kind = detail = None
                try:
                    if connection is None:
                        connection = smtp_connection().__enter__()
                    connection.send(message)
                except (smtplib.SMTPException, OSError) as error:
                    kind, detail = failure(error)
                except (BadHeaderError, ValueError) as error:  # refused before SMTP, or unwritable: this one alone
                    batch.fail_alone(delivery_id, error)
                    connection = close(connection)  # whatever was half said, the next message starts afresh
                    continue
                batch.settle(delivery_id, kind, detail)
                if kind == "connection":
                    connection = close(connection)
                    batch.postpone(len(delivery_ids) - position - 1)  # they stay pending for the retry
                    break
        batch.commit()
    finally:
        close(connection)


def renewal_links(session, batch, notices):
    """{delivery id: the secret of its renewal link}, for the notices this
    job may claim, written in one INSERT; the first claim's commit commits
    them, before any message leaves."""
    claimable = [(delivery_id, notice) for delivery_id, notice in notices.items()
                 if batch.claimable(delivery_id, notice.status)]
    secrets = links.issue_member_links(session, [(notice.profile.id, notice.user.email) for _, notice in claimable])
    return {delivery_id: secret for (delivery_id, _), secret in zip(claimable, secrets)}


def claimed_email(session, batch, delivery_id, notice, secrets):
    """Claim an email delivery, in one commit before the SMTP conversation;
    its message, or None if another job has it, its notice no longer holds
    (then marked obsolete) or its message cannot be written (then failed)."""
    if not batch.claim(delivery_id):
        batch.commit()
        return None
    if notice is None:
        batch.obsolete(delivery_id)
        batch.commit()
        return None
    secret = secrets.get(delivery_id)
    if secret is None:  # claimable again since the batch read it (another job postponed it)
        [secret] = links.issue_member_links(session, [(notice.profile.id, notice.user.email)])
    batch.commit()
    return batch.alone(delivery_id, messages.token_notice, notice.notification, notice.user, notice.profile,
                       notice.organization, notice.credential, secret)


def close(connection):
    if connection is not None and connection.host is not None:
        try:
            connection.host.quit()
        except (smtplib.SMTPException, OSError):
            connection.host.close()
    return None


def failure(error):
    """(kind, detail) of a message the relay did not take: one rule for the
    notices and the portal's other mail (`rules.failure_kind`). A refused
    login is said as the problem of settings it is, each time."""
    kind, detail = failure_kind(error), describe(error)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        log.error("the SMTP relay refused Keepalive's login (check MAIL_USERNAME and MAIL_PASSWORD): %s", detail)
    return kind, detail


def describe(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout):
        return "SMTP server did not answer in time"
    return error_text(error)
