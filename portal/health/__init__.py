"""`/healthz`: is the database there, is Redis, are workers, when was the last scan."""
from flask import Blueprint

bp = Blueprint("health", __name__)

from portal.health import views  # noqa: E402,F401
