"""Renewing tokens: silently in workers, or through a person's consent."""
from flask import Blueprint

bp = Blueprint("renewal", __name__)

from portal.renewal import views  # noqa: E402,F401
