"""`/dev/mail`: the messages the local mail capture received (development only)."""
from flask import Blueprint

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail", template_folder="templates")

from devkit.devmail import views  # noqa: E402,F401
