"""The pages of signing in and out, invitations and password resets."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth.views import invitations, login, resets, signup  # noqa: E402,F401
