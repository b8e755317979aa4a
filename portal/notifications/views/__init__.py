"""Notifications as people see them: the header bell and its list, the
warning after sign-in, browsers subscribed to web push, and the
organization's Slack and outgoing webhooks."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from portal.notifications.views import (  # noqa: E402,F401
    bell,
    integrations,
    push_subscriptions,
    warning_dialog,
)
