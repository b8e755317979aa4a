"""What the rows of Manage Accounts need, and one row rendered alone: where a
renewal from that row leads (its form names it), so the row turns green in
place."""
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import current_app, g, get_flashed_messages
from htmx_flask import make_response as htmx_response
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from portal.accounts.filters import STATUSES, BadFilter, parse_filters
from portal.accounts.queries import last_renewals, profile_row
from portal.networks import NETWORKS
from portal.db import utcnow
from portal.profiles import network_summary, status_counts
from portal.tenancy import current_brands
from portal.web import TOKENS_CHANGED

def row_context(rows, next_url, renewed=()):
    """What the row block needs besides the row itself; `renewed`: what a
    renewal just said of it."""
    return {
        "renewals": last_renewals(rows),
        "next_url": next_url,
        "row_query": "?" + urlencode({"next": next_url}),
        "send_link": "links.send" in current_app.view_functions,
        "renewed": renewed,
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


def render_row(profile_id, next_url):
    """The response carrying the row of `profile_id` as it is now, with the
    message a renewal just flashed, the status counts and "Try renewing all"
    of the page it is on (`next_url`), and the `tokens-changed` event for the
    header's dropdown to reload itself."""
    row = profile_row(g.membership, g.organization, profile_id)
    if row is None:
        body, status = "", 404
    else:
        renewed = get_flashed_messages(category_filter=["success"])
        context = {"rows": [row], **row_context([row], next_url, renewed)}
        filters = filters_of(next_url)
        if filters is not None:
            context.update(page_context(filters, utcnow()))
        body, status = render_block("accounts/index.html", "row_update", **context), 200
    response = htmx_response(body, status, trigger=TOKENS_CHANGED)
    response.vary.add("HX-Request")
    return response
