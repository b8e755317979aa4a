"""The WSGI entry point: `gunicorn wsgi:app`."""
import gc
import sys

from portal import create_app
from portal.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    sys.exit(f"Keepalive cannot start: {error}")

# What starting made (modules, routes, mappings: some 170,000 objects) lives
# as long as the process: out of every garbage collection from now on. A full
# collection would otherwise scan it all, some 100 ms in the middle of a request.
gc.freeze()
