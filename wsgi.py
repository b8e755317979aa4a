"""The WSGI entry point: `gunicorn wsgi:app`."""
import sys

from portal import create_app
from portal.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    sys.exit(f"Keepalive cannot start: {error}")
