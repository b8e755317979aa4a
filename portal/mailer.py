"""Email composed in the web process from templates and sent by a worker."""
from flask import render_template
from flask_babel import force_locale
from flask_mail import Message

from portal.queue import enqueue


class Email(Message):
    """Flask-Mail's message, with a subject that survives folding.

    Flask-Mail 0.10 encodes a non-ASCII subject itself and then switches the
    message to the SMTP policy, which folds the encoded words again: a long
    subject arrives with a space inside a word ("Northwind C afé"). Setting
    the subject once more under that policy lets it encode it correctly.
    """

    def _message(self):
        message = super()._message()
        if self.subject:
            del message["Subject"]
            message["Subject"] = str(self.subject)
        return message


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


def send(to, subject, template, locale=None, **context):
    """Queue a message; the web request never talks to SMTP itself.

    The job is deleted as soon as it succeeds (`result_ttl=0`) since its
    arguments may carry a one-time link.
    """
    message = compose(to, subject, template, locale=locale, **context)
    return enqueue("jobs.mail.send_message", message, result_ttl=0, failure_ttl=86400)
