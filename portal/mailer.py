"""Email composed in the web process from templates and sent by a worker."""
import secrets
import socket
from email.charset import BASE64, Charset
from email.header import Header
from email.policy import Compat32
from email.utils import make_msgid
from functools import cache, lru_cache

import flask_mail
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from rq import Retry

from portal.queue import enqueue
from portal.text import one_line

SEND_MESSAGE = "jobs.mail.send_message"
# Seconds RQ keeps a mail job it failed itself, with its message (`enqueue_message`).
FAILURE_TTL = 600


class SmtpCompat32(Compat32):
    """`compat32` with CRLF line ends, writing a short one-line ASCII header
    as it is, as `compat32` would, without a round trip through `Header`
    (most of the time a message takes to write), and folding a longer one
    once for every message that repeats it: a notice's subject goes to each
    person who may renew the profile."""

    def fold_binary(self, name, value):
        if isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value:
            if len(name) + 2 + len(value) <= self.max_line_length:
                return f"{name}: {value}{self.linesep}".encode("ascii")
            return self.folded_ascii(name, value)
        return super().fold_binary(name, value)

    @lru_cache(maxsize=1024)
    def folded_ascii(self, name, value):
        return super().fold_binary(name, value)


SMTP_COMPAT32 = SmtpCompat32(linesep="\r\n")
# A non-ASCII subject's encoded words in base64: utf-8's default, the shorter
# of Q and base64, measures the Q form over and over while it folds a subject.
SUBJECT_CHARSET = Charset("utf-8")
SUBJECT_CHARSET.header_encoding = BASE64


def remembered_sanitize_address(sanitize):
    """Flask-Mail's `sanitize_address`, which parses an address and encodes
    its name anew on every message, remembered for the addresses a worker
    writes again and again: the sender on every message, the same few
    recipients. A pure function of its arguments, so the headers are the same."""
    remembered = lru_cache(maxsize=4096)(sanitize)

    def sanitize_address(address, encoding="utf-8"):
        if isinstance(address, (str, tuple)):
            return remembered(address, encoding)
        return sanitize(address, encoding)

    return sanitize_address


# Flask-Mail's messages call it by its module's name.
flask_mail.sanitize_address = remembered_sanitize_address(flask_mail.sanitize_address)


@cache
def this_host():
    """The domain of the messages' Message-ID, as `make_msgid` finds it."""
    return socket.getfqdn()


class Email(Message):
    """Flask-Mail's message, written out with the `compat32` policy.

    Flask-Mail 0.10 encodes a non-ASCII subject itself and then switches the
    message to the SMTP policy, which folds the encoded words again (a long
    subject arrives with a space inside a word: "Northwind C afé") and parses
    every header once more to write it, the better part of the time a worker
    spends on a message. Under `compat32` the subject is encoded and folded
    once, as a `Header`, and lines end with CRLF as SMTP wants (smtplib sends
    bytes as they are).

    Every header it writes from text is one line (`portal.text.one_line`):
    a subject, a sender's or a Reply-To's name holds a profile's, an agency's
    or a person's name, and a line break there would make Flask-Mail refuse
    the message. Addresses are left as they are: one that is not an address
    is refused, for that message alone.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.msgId = make_msgid(domain=this_host())  # not a host name lookup per message
        self.subject = one_line(str(self.subject))
        self.sender, self.reply_to = header_text(self.sender), header_text(self.reply_to)
        if self.extra_headers:
            self.extra_headers = {name: one_line(str(value)) for name, value in self.extra_headers.items()}

    def _message(self):
        message = super()._message()
        message.policy = SMTP_COMPAT32
        if self.subject and not str(self.subject).isascii():  # encoded and folded once, with CRLF
            del message["Subject"]
            message["Subject"] = Header(str(self.subject), SUBJECT_CHARSET)
        for part in message.walk():
            if part.is_multipart():
                part.set_boundary(boundary())
        return message


def header_text(value):
    """A sender's or Reply-To's value on one line: of a (name, address) pair, the name."""
    if isinstance(value, tuple):
        name, address = value
        return one_line(name), address
    return one_line(value) if value else value


def boundary():
    """A MIME boundary that no body line can hold: "=_" never appears in the
    base64 or quoted-printable bodies Flask-Mail writes (an "=" in them is
    always followed by a hex digit or a line end). Left to itself, the
    generator builds a random boundary and compiles a regular expression of
    it to search the whole message, once per part, on every message. Its
    112 random bits keep "Content-Type: multipart/alternative; boundary=…"
    within one line, written as it is rather than folded."""
    return f"=_{secrets.token_hex(14)}"


def compose(to, subject, template, locale=None, headers=None, **context):
    """A message as plain values, from `templates/email/{template}.txt` and `.html`."""
    with force_locale(locale or "en"):
        return {
            "subject": str(subject),
            "recipients": [to],
            "text": render_template(f"email/{template}.txt", **context),
            "html": render_template(f"email/{template}.html", **context),
            "headers": headers or {},
        }


def send(to, subject, template, locale=None, headers=None, about=None, **context):
    """Queue a message; the web request never talks to SMTP itself.

    `about`: what the message is about, (kind, ids...), for the worker to
    record there that it could not be sent (`jobs.mail.UNSENT`), which the
    agency's pages then show.
    """
    message = compose(to, subject, template, locale=locale, headers=headers, **context)
    if about is not None:
        message["about"] = list(about)
    return enqueue_message(message)


def enqueue_message(message):
    """Queue a composed message for `jobs.mail.send_message`, which RQ tries
    again after each of `MAIL_RETRY_INTERVALS` while the relay cannot take it.

    The job's arguments may carry a one-time link, so RQ keeps it no longer
    than it must: it is deleted as soon as it ends (`result_ttl=0`), a
    message refused for good or on its last try being logged and dropped
    rather than kept as a failed job; only a job RQ itself fails (its worker
    died on the last try) is kept, for `FAILURE_TTL`. A job waiting for its
    next try holds its message until then: a quarter of an hour at most by
    default. Its description names the function only, not its arguments,
    which the worker would log.
    """
    intervals = current_app.config["MAIL_RETRY_INTERVALS"]
    retry = Retry(max=len(intervals), interval=list(intervals)) if intervals else None
    return enqueue(SEND_MESSAGE, message, retry=retry, result_ttl=0, failure_ttl=FAILURE_TTL,
                   description=SEND_MESSAGE)
