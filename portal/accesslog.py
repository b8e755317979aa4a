"""The web server's access log without tokens, codes or link secrets.

The OAuth callback brings the network's `code` in its query, and in
development the sandbox network answers on the portal's own server, where
the adapters send tokens in the query as the real networks ask; the links
emailed to people carry a one-time secret in their path. Each line of
the access log of `flask run` (werkzeug) and of gunicorn goes through
`scrub_line` before any handler writes it.
"""
import logging
import re

from portal.networks.outcomes import scrub

ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")

# Paths whose next part is a link's one-time secret (a member's or client's
# renewal link, a password reset, an invitation, a sign-up confirmation, a
# client's invitation to connect), and the fixed words beside them.
SECRET_PATHS = ("/renew/link/", "/renew/client/", "/reset/", "/invitations/", "/signup/confirm/", "/connect/")
NOT_SECRETS = ("done", "sent", "choose", "thanks", "lost")
SECRET_IN_PATH = re.compile(
    r"(?<![\w./-])(%s)(?!(?:%s)(?:[/?\s\"]|$))[^/?\s\"]+"
    % ("|".join(map(re.escape, SECRET_PATHS)), "|".join(NOT_SECRETS)))


def scrub_line(line):
    """An access log line without tokens, codes or the secrets of links."""
    return SECRET_IN_PATH.sub(r"\1[redacted]", scrub(line))


class Scrubbed(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        cleaned = scrub_line(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install():
    """Scrub the access logs of this process (once, however many apps it creates)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(each, Scrubbed) for each in logger.filters):
            logger.addFilter(Scrubbed())
