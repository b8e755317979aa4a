"""What the rows of Manage Accounts need, and one row rendered alone: where a
renewal from that row leads (its form names it), so the row turns green in
place."""
from types import SimpleNamespace
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from flask import current_app, g, get_flashed_messages
from htmx_flask import make_response as htmx_response
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from portal.accounts.filters import STATUSES, BadFilter, parse_filters
from portal.accounts.queries import last_renewals, profile_row
from portal.networks import NETWORKS
from portal.db import utcnow
from portal.profiles import AT_RISK, Scope, network_summary, status_counts
from portal.templating import _, static_url, url_pattern
from portal.tenancy import current_brands
from portal.web import TOKENS_CHANGED

def row_context(rows, next_url, renewed=()):
    """What the row block needs besides the row itself; `renewed`: what a
    renewal just said of it."""
    return {
        "renewals": last_renewals(rows),
        "next_url": next_url,
        "send_link": "links.send" in current_app.view_functions,
        "renewed": renewed,
        **list_context(rows),
    }


class NetworkLook(NamedTuple):
    """How a row shows its network."""
    label: str
    icon: str  # the address of its icon


def list_context(rows):
    """What a lean list of profile rows (Manage Accounts, the header's
    dropdown) needs besides the rows: its words translated once, each
    network's label and icon, each row's addresses. Words and networks are
    read as attributes (`words.renew`, `net.icon`): Jinja finds an
    attribute at once, a dict's key only after a failed attribute lookup,
    on every row."""
    patterns = [url_pattern(endpoint) for endpoint in ROW_LINKS]
    return {
        "words": row_words(),
        "links": {row.profile.id: tuple(f"{before}{row.profile.id}{after}" for before, after in patterns)
                  for row in rows},
        "nets": {key: NetworkLook(entry.label, static_url(f"icons/{entry.icon}.svg"))
                 for key, entry in NETWORKS.items()},
    }


# What a row links to: its profile's page, its renewal, its fragment, the items of its ⋯ menu.
ROW_LINKS = ("accounts.profile", "renewal.renew", "accounts.row", "accounts.row_menu")


def row_words():
    """The words of every row, translated once a page (a row fills in names)."""
    return SimpleNamespace(
        renew=_("Renew Token"),
        renew_of=_("of %(name)s on %(network)s"),
        cannot_renew=_("Cannot renew"),
        expired=_("Expired"),
        no_brand=_("No brand"),
        by=_("by %(name)s"),
        how={"silent": _("automatically"), "link": _("by the client, through a renewal link")},
    )


def page_context(filters, now):
    """What a Manage Accounts page under `filters` shows at `now` besides its
    rows: the count of each status, "Try renewing all", the networks present
    (for the network filter)."""
    summary = network_summary(g.membership, g.organization, now)
    to_renew = summary.to_renew
    if filters.network is not None:
        to_renew = {key: count for key, count in to_renew.items() if key == filters.network}
    scope = filters.scope(with_status=False)
    counts = summary.counts if scope == Scope() else status_counts(g.membership, g.organization, scope, now)
    return {
        "counts": counts,
        # The header's count of tokens at risk, when these counts are of the current brand's profiles.
        "at_risk_in_brand": at_risk(counts) if scope == brand_scope() else None,
        "statuses": STATUSES,
        "to_renew": to_renew,
        "networks": [NETWORKS[key] for key in NETWORKS if key in summary.present],
    }


def brand_scope():
    """The profiles of the brand chosen in the header (all brands: every visible profile)."""
    return Scope(brand_id=g.brand.id if g.brand else None)


def at_risk(counts):
    return sum(counts[status] for status in AT_RISK)


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
