"""The warning after sign-in: a dialog of the tokens at risk, each with a
Renew Token button that works in the dialog."""
from flask import g, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response as htmx_response

from portal.notifications import login_warning
from portal.notifications.views import bp
from portal.renewal import renewed_fragment
from portal.tenancy import organization_required
from portal.web import TOKENS_CHANGED, render

ITEM_TARGET_PREFIX = "login-warning-item-"
# Pages a person came to for one thing, from an email: the warning waits for the next page.
WAITS_ON = {"links.member"}


@bp.app_context_processor
def login_warning_flag():
    return {"login_warning_pending": lambda: request.endpoint not in WAITS_ON and login_warning.pending()}


@bp.route("/notifications/login-warning")
@login_required
@organization_required
def login_warning_dialog():
    """The dialog, once: the flag is spent whether or not there is anything to show."""
    if not login_warning.spend() or not login_warning.wants_warning(current_user.id, g.organization.id):
        return "", 204
    rows = login_warning.at_risk()
    if not rows:
        return "", 204
    return render("notifications/login_warning.html", rows=rows, next_url=url_for("home.index"))


@renewed_fragment(ITEM_TARGET_PREFIX)
def renewed_item(profile, next_url):
    """A dialog item renewed silently: green in place, and the header told."""
    return htmx_response(render("notifications/renewed_item.html", profile=profile), trigger=TOKENS_CHANGED)
