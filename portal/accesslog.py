"""The web server's access log without tokens or codes.

The OAuth callback brings the network's `code` in its query, and in
development the sandbox network answers on the portal's own server, where
the adapters send tokens in the query as the real networks ask. Each line of
the access log of `flask run` (werkzeug) and of gunicorn goes through
`scrub` before any handler writes it.
"""
import logging

from portal.networks.outcomes import scrub

ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


class Scrubbed(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install():
    """Scrub the access logs of this process (once, however many apps it creates)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(each, Scrubbed) for each in logger.filters):
            logger.addFilter(Scrubbed())
