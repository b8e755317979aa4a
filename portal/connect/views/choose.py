"""Connect a profile: the choice of network, its consent, then "Choose the
profiles to connect", searchable and a page at a time, whose buttons save
the choice before they move."""
from flask import abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required

from portal.connect import picks, service
from portal.connect.views import bp
from portal.networks import NETWORKS, NotConfigured, adapter_for, network
from portal.paging import page_number, paginate, search_text
from portal.permissions import may_connect_profiles
from portal.renewal.consent import NONCE_KEY
from portal.tenancy import current_brands, organization_required
from portal.web import redirect_after_post, render

PER_PAGE = 50
# Stands for any count above 1 in the words the picker's script is given.
ANY_COUNT = 987654321
CHOICE_ERRORS = {
    "nothing": _l("Choose at least one profile to connect."),
    "brand_name": _l("Name the new brand."),
    "brand_length": _l("A brand name has at most %(max)d characters.", max=service.BRAND_NAME_LENGTH),
    "brand": _l("That brand does not exist in this organization. Choose one from the list."),
}


def connecting_allowed():
    decision = may_connect_profiles(g.membership)
    if not decision:
        abort(403, description=_("Connecting profiles needs \"Manage social profiles\": ask an Owner or Manager."))


@bp.route("/accounts/connect")
@login_required
@organization_required
def index():
    """Which network to connect a profile of."""
    connecting_allowed()
    return render("connect/index.html", networks=list(NETWORKS.values()))


@bp.route("/accounts/connect/networks/<network_key>", methods=["POST"])
@login_required
@organization_required
def start(network_key):
    """To the network's consent page; its callback leads to the choice of profiles."""
    connecting_allowed()
    if network_key not in NETWORKS:
        abort(404)
    try:
        adapter = adapter_for(network_key)
    except NotConfigured as error:
        flash(_("%(network)s cannot be connected on this server yet: %(detail)s", network=network(network_key).label,
                detail=str(error)), "error")
        return redirect_after_post(url_for("connect.index"))
    url = service.start(adapter, network_key, g.organization.id, url_for("connect.index"), user_id=current_user.id)
    return redirect(url, 303)


def own_pick_or_404(pick_id):
    """The pick of this person's consent in this browser and organization."""
    pick = picks.find(pick_id)
    if (pick is None or pick.organization_id != g.organization.id or pick.user_id != current_user.id
            or pick.invitation_id is not None or pick.nonce != session.get(NONCE_KEY)):
        abort(404, description=_("This choice of profiles has expired or is not yours. Connect the network again."))
    return pick


def picker_context(pick, text, number, error=None):
    """What the picker shows: the page of matching candidates, which are
    connected already, the selection and the brands."""
    already = service.connected(pick.organization_id, pick.network, [c.external_id for c in pick.candidates])
    rows = service.matching(pick, text)
    page = paginate(len(rows), number, PER_PAGE)
    page.items = rows[page.offset:page.offset + page.per_page]
    return {
        "pick": pick, "page": page, "text": text, "already": already, "error": error,
        "selected": set(pick.selected), "selectable": lambda c: service.selectable(c, already),
        "chosen_elsewhere": len(set(pick.selected) - {c.external_id for c in page.items}),
        "chosen_words": chosen_words(),
        "selectable_count": sum(service.selectable(c, already) for c in pick.candidates),
        "brands": current_brands(), "label": network(pick.network).label,
        "permission": network(pick.network).native_permission,
    }


def chosen_words():
    """"N chosen" in the reader's language for the picker's script, which
    counts the boxes as they are ticked: the words for 0, for 1, and for any
    other number (ANY_COUNT in them stands for it; every catalogue has one
    plural form beyond 1)."""
    words = {str(n): ngettext("%(num)d chosen", "%(num)d chosen", n) for n in (0, 1)}
    return {**words, "other": ngettext("%(num)d chosen", "%(num)d chosen", ANY_COUNT), "any": str(ANY_COUNT)}


@bp.route("/accounts/connect/choose/<pick_id>", methods=["GET", "POST"])
@login_required
@organization_required
def choose(pick_id):
    connecting_allowed()
    pick = own_pick_or_404(pick_id)
    if request.method == "GET":
        return render("connect/choose.html", **picker_context(pick, search_text(request.args),
                                                              page_number(request.args.get("page"))))
    text, number, go = save_choice(pick, request.form)
    if go == "connect":
        return connect_chosen(pick, text, number)
    picks.keep(pick)
    return redirect_after_post(url_for("connect.choose", pick_id=pick.id, q=text or None,
                                       page=number if number > 1 else None))


def save_choice(pick, form):
    """Take in the boxes of the page shown, the brand and the button pressed:
    (text searched, page to show, button)."""
    already = service.connected(pick.organization_id, pick.network, [c.external_id for c in pick.candidates])
    shown = set(form.getlist("shown"))
    ticked = set(form.getlist("selected")) & shown
    pick.selected = [c.external_id for c in pick.candidates if service.selectable(c, already) and (
        c.external_id in ticked or (c.external_id in pick.selected and c.external_id not in shown))]
    pick.brand = (form.get("brand") or "")[:20]
    pick.new_brand = (form.get("new_brand") or "")[:200]
    text, number, go = search_text(form), page_number(form.get("page")), form.get("go", "connect")
    if go == "search":
        number = 1
    elif go.startswith("page-"):
        number = page_number(go.removeprefix("page-"))
    elif go == "all":
        matched = {c.external_id for c in service.matching(pick, text) if service.selectable(c, already)}
        pick.selected = [c.external_id for c in pick.candidates
                         if c.external_id in matched or c.external_id in pick.selected]
    elif go == "none":
        pick.selected = []
    return text, number, go


def connect_chosen(pick, text, number):
    problem = choice_problem(pick)
    brand = None
    if problem is None:
        try:
            brand = service.brand_of(g.organization, pick.brand, pick.new_brand)
        except LookupError:
            problem = "brand"
    if problem:
        picks.keep(pick)
        return render("connect/choose.html", status=400,
                      **picker_context(pick, text, number, error=CHOICE_ERRORS[problem]))
    made = service.connect(pick, brand, g.membership)
    picks.forget(pick.id)
    if made:
        flash(ngettext("Connected %(num)d profile: %(names)s.", "Connected %(num)d profiles: %(names)s.",
                       len(made), names=", ".join(profile.name for profile in made)), "success")
    else:
        flash(_("Those profiles were connected meanwhile: nothing more to connect."), "info")
    return redirect_after_post(url_for("accounts.index", brand=brand.id if brand else "", network=pick.network))


def choice_problem(pick):
    if not pick.selected:
        return "nothing"
    if pick.brand == "new":
        name = pick.new_brand.strip()
        if not name:
            return "brand_name"
        if len(name) > service.BRAND_NAME_LENGTH:
            return "brand_length"
    return None
