"""Notifications as people see and set them: the header bell and its list,
the warning after sign-in, personal preferences, browsers subscribed to web
push, and the organization's Slack and outgoing webhooks."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

# Named in `HX-Trigger` after notices were marked read, so the bell reloads.
NOTIFICATIONS_CHANGED = "notifications-changed"

from portal.notifications import integrations, login_warning, preferences, push, views  # noqa: E402,F401
