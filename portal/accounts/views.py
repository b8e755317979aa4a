"""Manage Accounts, profile details, "See all managers", "Try renewing all",
and the header's "Expired Tokens" dropdown."""
from types import SimpleNamespace

from flask import Blueprint, Response, abort, flash, g, make_response, redirect, request, stream_with_context, url_for
from flask_babel import format_datetime, get_timezone, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from htmx_flask import make_response as htmx_response
from jinja2_fragments.flask import render_block
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlmodel import select

from portal.accounts import export, queries, wording
from portal.activity import log as activity_log
from portal.accounts.filters import BadFilter, parse_filters
from portal.accounts.rows import at_risk, brand_scope, list_context, page_context, render_row, row_context
from portal.accounts.rules import consent_groups
from portal.db import get_session, utcnow
from portal.links import rules as link_rules, service as link_service
from portal.models import SocialProfile
from portal.networks import NETWORKS, network
from portal.paging import paginate
from portal.permissions import may_connect_profiles, may_remove_profile, may_renew
from portal.profiles import AT_RISK, Scope, network_summary, status_counts, visible_profiles
from portal.queue import enqueue, redis
from portal.renewal import system_user
from portal.templating import reason_text
from portal.tenancy import current_brands, organization_required
from portal.web import TOKENS_CHANGED, conditional, htmx_page, redirect_after_post, render, safe_next, wants_fragment

bp = Blueprint("accounts", __name__)

BAD_FILTERS = {
    "status": _l("That status filter does not exist. Choose one from the list."),
    "network": _l("That network filter does not exist. Choose one from the list."),
    "brand": _l("That brand does not exist in this organization. Choose one from the list."),
}
RENEW_ALL_JOB = "jobs.renewal.renew_all"
# The header's dropdown lists the most urgent profiles at risk; the rest are
# one link away, on the Expired Tokens page (a long list is no use in a header).
DROPDOWN_ROWS = 20
JOB_DONE = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def current_page_url():
    """Where the person is: the page's own URL, or for an htmx request the
    page that sent it (a fragment's URL is no place to come back to)."""
    if request.htmx and request.htmx.current_url:
        return htmx_page(url_for("accounts.index"))
    return request.full_path.rstrip("?")


def visible_row_or_404(profile_id):
    row = queries.profile_row(g.membership, g.organization, profile_id)
    if row is None:
        abort(404)
    return row


@bp.app_template_global()
def expired_tokens_count():
    """How many profiles at risk the person may see in the current brand:
    the header's count, read with every page in one GROUP BY."""
    return at_risk(status_counts(g.membership, g.organization, brand_scope()))


@bp.route("/accounts/expired-tokens")
@login_required
@organization_required
@conditional
def expired_tokens():
    """Profiles at risk in the current brand, most urgent first: the header
    dropdown's panel (a fragment for htmx, loaded when it is first opened) or
    a page of its own without JavaScript."""
    scope = Scope(brand_id=g.brand.id if g.brand else None, statuses=AT_RISK)
    in_header = wants_fragment()
    # One row more than the dropdown shows says whether there are more.
    rows = visible_profiles(g.membership, g.organization, scope=scope,
                            limit=DROPDOWN_ROWS + 1 if in_header else None)
    more = in_header and len(rows) > DROPDOWN_ROWS
    if more:
        rows = rows[:DROPDOWN_ROWS]
    # The list is in the header and, without JavaScript, in the page: ids differ.
    return render("accounts/expired_tokens.html", block="panel", rows=rows, more=more, next_url=current_page_url(),
                  list_id="dropdown" if in_header else "page", **list_context(rows))


@bp.route("/accounts/expired-tokens/dropdown")
@login_required
@organization_required
def expired_tokens_dropdown():
    """The header's dropdown with its count as it is now, its list not loaded
    yet: what the header reloads when a response announces `tokens-changed`."""
    response = make_response(render_block("accounts/header_tools.html", "dropdown"))
    response.vary.add("HX-Request")
    return response


def filters_asked(brands):
    """The filters of the query string; a 400 saying which names nothing."""
    try:
        return parse_filters(request.args, NETWORKS.keys(), {brand.id for brand in brands},
                             g.brand.id if g.brand else None)
    except BadFilter as error:
        abort(400, description=str(BAD_FILTERS[error.key]))


@bp.route("/accounts")
@login_required
@organization_required
@conditional
def index():
    now = utcnow()
    brands = current_brands()
    filters = filters_asked(brands)
    # A link that names a brand shows it in the header too (its switcher and
    # count): the header and the list never disagree.
    g.brand = next((brand for brand in brands if brand.id == filters.brand_id), None)
    context = page_context(filters, now)
    counts = context["counts"]
    page = paginate(counts[filters.status] if filters.status else sum(counts.values()), filters.page)
    page.items = visible_profiles(g.membership, g.organization, scope=filters.scope(), now=now,
                                  limit=page.per_page, offset=page.offset)
    return render(
        "accounts/index.html",
        block="results",
        page=page,
        rows=page.items,
        filters=filters,
        brands=brands,
        fragment=wants_fragment(),
        may_connect=bool(may_connect_profiles(g.membership)),
        **context,
        **row_context(page.items, request.full_path.rstrip("?")),
    )


@bp.route("/accounts/<int:profile_id>/row")
@login_required
@organization_required
def row(profile_id):
    """The row of Manage Accounts as it is now, with the counts of the page it
    is on (htmx's `HX-Current-URL`): where a silent renewal from the row leads."""
    return render_row(profile_id, current_page_url())


@bp.route("/accounts/export.csv")
@login_required
@organization_required
def export_csv():
    """The profiles Manage Accounts' filters select, every page of them, as a spreadsheet reads them."""
    filters = filters_asked(current_brands())
    name = f"profiles-{utcnow().astimezone(get_timezone()):%Y-%m-%d}.csv"
    return Response(stream_with_context(export.csv_chunks(filters.scope())), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/accounts/<int:profile_id>/menu")
@login_required
@organization_required
def row_menu(profile_id):
    """The items of a row's ⋯ menu, loaded when it is first opened; without
    htmx, the profile's page, which has the same actions."""
    row = visible_row_or_404(profile_id)
    if not wants_fragment():
        return redirect(url_for("accounts.profile", profile_id=profile_id))
    return render("accounts/index.html", block="row_menu", row=row, **row_context([], current_page_url()))


@bp.route("/accounts/<int:profile_id>")
@login_required
@organization_required
def profile(profile_id):
    return profile_page(profile_id)


def profile_page(profile_id, status=200, system_user_error=None):
    """The profile's details; `system_user_error`: why the system-user token
    just given was refused."""
    row = visible_row_or_404(profile_id)
    organization_id = g.organization.id
    open_links = link_service.open_links(get_session(), profile_id)
    return render(
        "accounts/profile.html",
        status=status,
        system_user_error=system_user_error,
        row=row,
        history=queries.credential_history(profile_id),
        attempts=queries.renewal_attempts(profile_id),
        events=activity_log.profile_lines(organization_id, profile_id, queries.HISTORY_LIMIT),
        renewals=queries.last_renewals([row]),
        next_url=request.full_path.rstrip("?"),
        may_send_link=link_rules.may_send_link(g.membership, row.access_level),
        open_links=open_links,
        link_senders=queries.users_by_id(link.created_by_id for link in open_links),
        deletion_deadline=wording.data_deletion_deadline(row),
        stopped_while_expired=wording.STOPPED_WHILE_EXPIRED,
        attempt_modes=wording.ATTEMPT_MODES,
    )


@bp.route("/profiles/<int:profile_id>/system-user-token", methods=["POST"])
@login_required
@organization_required
def system_user_token(profile_id):
    """A Business Manager system user's token for a Facebook Page or an
    Instagram business account, given on the profile's page."""
    row = visible_row_or_404(profile_id)
    profile = row.profile
    if not network(profile.network).takes_system_user_token:
        abort(404)
    if not may_renew(g.membership, row.access_level):
        abort(403)
    credential, problem = system_user.adopt(profile, request.form.get("token", "").strip(), current_user.id)
    if problem:
        message = wording.SYSTEM_USER_REFUSED[problem] % {"network": network(profile.network).label,
                                                          "name": profile.name}
        return profile_page(profile.id, status=400, system_user_error=message)
    if credential.expires_at is None:
        flash(_("%(name)s now uses the system user's token, which does not expire.", name=profile.name), "success")
    else:
        flash(_("%(name)s now uses the system user's token, until %(when)s.", name=profile.name,
                when=format_datetime(credential.expires_at, "medium")), "success")
    return redirect_after_post(url_for("accounts.profile", profile_id=profile.id))


@bp.route("/accounts/<int:profile_id>/managers")
@login_required
@organization_required
def managers(profile_id):
    """"See all managers": a dialog for htmx, a page without JavaScript."""
    row = visible_row_or_404(profile_id)
    return render("accounts/managers.html", block="dialog", row=row,
                  managers=queries.profile_managers(row.profile))


@bp.route("/accounts/renew-all", methods=["POST"])
@login_required
@organization_required
def renew_all():
    """Queue the renewal of every token at risk of one network."""
    network_key = request.form.get("network", "")
    if network_key not in NETWORKS:
        abort(400, description=_("Choose a network whose tokens to renew."))
    total = network_summary(g.membership, g.organization).to_renew.get(network_key, 0)
    if not total:
        flash(_("No token of %(network)s needs renewing that you may renew.", network=network(network_key).label),
              "info")
        return redirect_after_post(safe_next(request.form.get("next"), url_for("accounts.index")))
    job = enqueue(RENEW_ALL_JOB, g.organization.id, network_key, current_user.id,
                  meta={"organization_id": g.organization.id, "network": network_key, "user_id": current_user.id,
                        "done": 0, "total": total, "renewed": [], "needs_consent": [], "failed": []})
    if wants_fragment():
        return progress_response(job)
    return redirect_after_post(url_for("accounts.renew_all_progress", job_id=job.id))


@bp.route("/accounts/renew-all/<job_id>")
@login_required
@organization_required
def renew_all_progress(job_id):
    try:
        job = Job.fetch(job_id, connection=redis())
    except (NoSuchJobError, ValueError):  # RQ refuses an id it could not have made with a ValueError
        abort(404)
    if job.meta.get("organization_id") != g.organization.id:
        abort(404)
    return progress_response(job)


def progress_response(job):
    progress = renew_all_progress_of(job)
    response = render("accounts/renew_all.html", block="progress", job=job, progress=progress)
    return htmx_response(response, trigger=TOKENS_CHANGED) if progress["finished"] else response


def renew_all_progress_of(job):
    """What a "Try renewing all" job has done so far, from its `meta`
    (`done`, `total`, `renewed`, `needs_consent`, `failed`, `finished`)."""
    meta = job.meta
    status = job.get_status(refresh=False)
    total = int(meta.get("total") or 0)
    done = int(meta.get("done") or 0)
    finished = bool(meta.get("finished")) or status in JOB_DONE
    renewed_ids = [int(i) for i in meta.get("renewed") or []]
    consent_ids = [int(i) for i in meta.get("needs_consent") or []]
    failed = [(int(pair[0]), pair[1]) for pair in meta.get("failed") or []]
    wanted = set(consent_ids) | set(renewed_ids) | {profile_id for profile_id, _reason in failed}
    rows, names = {}, {}
    if finished and wanted:
        rows = {row.profile.id: row
                for row in visible_profiles(g.membership, g.organization, scope=Scope(ids=tuple(wanted)))}
        unseen = wanted.difference(rows)
        if unseen:
            # Profiles the viewer may not see are named, not offered.
            names = dict(get_session().exec(
                select(SocialProfile.id, SocialProfile.name).where(
                    SocialProfile.id.in_(unseen), SocialProfile.organization_id == g.organization.id)
            ).all())

    def known(ids):
        return [rows.get(i) or names[i] for i in ids if i in rows or i in names]

    network_entry, needs_consent = network(meta.get("network", "")), known(consent_ids)
    return {
        "network": network_entry,
        "total": total,
        "done": min(done, total) if total else done,
        "percent": int(100 * done / total) if total else (100 if finished else 0),
        "renewed": len(renewed_ids),
        "renewed_profiles": known(renewed_ids),
        "finished": finished,
        "stopped": status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED) and done < total,
        "needs_consent": needs_consent,
        "consent_groups": consent_groups(needs_consent, network_entry.one_consent_for_many),
        # Of those, the ones whose access was refreshed without moving the connection's end.
        "refreshed": {int(i) for i in meta.get("refreshed") or []},
        "failed": [(rows.get(i) or names[i], reason) for i, reason in failed if i in rows or i in names],
    }


@bp.app_template_global()
def refusal_text(reason):
    """Why a person may not renew, in words."""
    return wording.refusal_text(reason)


@bp.app_template_global()
def may_remove(row):
    """Those who connect profiles remove them (a Member, one they administer)."""
    return may_remove_profile(g.membership, row.access_level)


@bp.app_template_global()
def may_send_link(row):
    """Those who may renew the profile send its renewal links."""
    return link_rules.may_send_link(g.membership, row.access_level)


@bp.app_template_global()
def refreshed_text(row):
    """"Access refreshed, but the connection still ends on Dec 7: sign in again on TikTok"."""
    return wording.refreshed_text(row.profile.network, row.status.effective_expiry)


@bp.app_template_global()
def renew_failure_text(reason, network_key):
    return wording.failure_text(reason, network_key)


@bp.app_template_global()
def credential_reason(reason, network_key):
    """Why a past grant stopped working, in words."""
    return reason_text(SimpleNamespace(reason=reason), network_key)
