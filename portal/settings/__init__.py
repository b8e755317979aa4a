"""Organization settings (Owners and Managers) and personal settings."""
from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from portal.settings import access, brands, members, organization, views  # noqa: E402,F401
