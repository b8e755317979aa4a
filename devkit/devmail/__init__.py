"""`/dev/mail`: the messages the local mail capture received (development only)."""
from flask import Blueprint

from devkit.policy import allow_inline_styles

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail", template_folder="templates")
bp.after_request(allow_inline_styles)

from devkit.devmail import views  # noqa: E402,F401
