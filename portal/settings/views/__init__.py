"""The settings pages: personal settings, and the organization's (Owners and Managers)."""
from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from portal.settings.views import access, activity, api_keys, brands, members, organization, personal  # noqa: E402,F401
