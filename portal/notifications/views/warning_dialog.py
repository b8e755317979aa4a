"""The warning after sign-in: a dialog of the tokens at risk, each with a
Renew Token button that works in the dialog."""
from flask import abort, g, get_flashed_messages, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response as htmx_response
from jinja2_fragments.flask import render_block

from portal.notifications import login_warning
from portal.notifications.views import bp
from portal.profiles import Scope, visible_profiles
from portal.tenancy import organization_required
from portal.web import TOKENS_CHANGED, render

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


@bp.route("/notifications/login-warning/items/<int:profile_id>")
@login_required
@organization_required
def login_warning_item(profile_id):
    """One item of the dialog as it is now, with what a renewal just said:
    where a silent renewal from the dialog leads (its form names it), so the
    item turns green in place and the header's count follows."""
    rows = visible_profiles(g.membership, g.organization, scope=Scope(ids=(profile_id,)))
    if not rows:
        abort(404)
    body = render_block("notifications/login_warning.html", "item", row=rows[0], next_url=url_for("home.index"),
                        renewed=get_flashed_messages(category_filter=["success"]))
    response = htmx_response(body, trigger=TOKENS_CHANGED)
    response.vary.add("HX-Request")
    return response
