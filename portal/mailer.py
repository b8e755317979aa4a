"""Email composed in the web process from templates and sent by a worker."""
from flask import render_template
from flask_babel import force_locale

from portal.queue import enqueue


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
