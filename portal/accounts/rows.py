"""One row of Manage Accounts, rendered alone: what a renewal answers to an
htmx request that came from that row, so the row turns green in place."""
from urllib.parse import parse_qs, urlsplit

from flask import current_app, g
from htmx_flask import make_response as htmx_response
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from portal.accounts.filters import STATUSES, BadFilter, parse_filters
from portal.accounts.queries import last_renewals, profile_row
from portal.networks import NETWORKS
from portal.db import get_session, utcnow
from portal.profiles import network_summary, status_counts
from portal.renewal import renewed_fragment
from portal.tenancy import current_brands
from portal.web import TOKENS_CHANGED

ROW_TARGET_PREFIX = "profile-row-"


def row_context(rows, next_url):
    """What the row block needs besides the row itself."""
    return {
        "renewals": last_renewals(rows),
        "next_url": next_url,
        "send_link": "links.send" in current_app.view_functions,
    }


def page_context(filters, now):
    """What a Manage Accounts page under `filters` shows at `now` besides its
    rows: the count of each status, "Try renewing all", the networks present
    (for the network filter)."""
    summary = network_summary(g.membership, g.organization, now)
    to_renew = summary.to_renew
    if filters.network is not None:
        to_renew = {key: count for key, count in to_renew.items() if key == filters.network}
    return {
        "counts": status_counts(g.membership, g.organization, filters.scope(with_status=False), now),
        "statuses": STATUSES,
        "to_renew": to_renew,
        "networks": [NETWORKS[key] for key in NETWORKS if key in summary.present],
    }


def filters_of(url):
    """The Manage Accounts filters of `url` (the page the row is on), or None."""
    try:
        args = MultiDict(parse_qs(urlsplit(url or "").query))
        brand_ids = {brand.id for brand in current_brands()}
        return parse_filters(args, NETWORKS.keys(), brand_ids, g.brand.id if g.brand else None)
    except BadFilter:
        return None


@renewed_fragment(ROW_TARGET_PREFIX)
def renewed_row(profile, next_url):
    return render_row(profile.id, next_url)


def render_row(profile_id, next_url=None):
    """The response carrying the re-rendered row of `profile_id`, the status
    counts and "Try renewing all" of the page it is on, and the
    `tokens-changed` event for the header dropdown to reload itself."""
    # The renewal committed in a session of its own: end this request's
    # transaction and forget what it read, to show the row as it is now.
    session = get_session()
    session.commit()
    session.expire_all()
    row = profile_row(g.membership, g.organization, profile_id)
    if row is None:
        body, status = "", 404
    else:
        context = {"rows": [row], "just_renewed": True, **row_context([row], next_url)}
        filters = filters_of(next_url)
        if filters is not None:
            context.update(page_context(filters, utcnow()))
        body, status = render_block("accounts/index.html", "row_update", **context), 200
    response = htmx_response(body, status, trigger=TOKENS_CHANGED)
    response.vary.add("HX-Request")
    return response
