"""One row of Manage Accounts, rendered alone: what a renewal answers to an
htmx request that came from that row, so the row turns green in place."""
from flask import current_app, g, make_response
from jinja2_fragments.flask import render_block

from portal.accounts import TOKENS_CHANGED
from portal.accounts.queries import last_renewals, profile_row
from portal.db import get_session

ROW_TARGET_PREFIX = "profile-row-"


def row_id(profile_id):
    return f"{ROW_TARGET_PREFIX}{profile_id}"


def row_context(rows, next_url):
    """What the row block needs besides the row itself."""
    return {
        "renewals": last_renewals(rows),
        "next_url": next_url,
        "send_link": "links.send" in current_app.view_functions,
    }


def render_row(profile_id, next_url=None):
    """The response carrying the re-rendered row of `profile_id` and the
    `tokens-changed` event, for the header dropdown to reload itself."""
    # The renewal committed in a session of its own: end this request's
    # transaction and forget what it read, to show the row as it is now.
    session = get_session()
    session.commit()
    session.expire_all()
    row = profile_row(g.membership, g.organization, profile_id)
    if row is None:
        body, status = "", 404
    else:
        body = render_block("accounts/index.html", "row", row=row, just_renewed=True,
                            **row_context([row], next_url))
        status = 200
    response = make_response(body, status)
    response.headers["HX-Trigger"] = TOKENS_CHANGED
    response.vary.add("HX-Request")
    return response
