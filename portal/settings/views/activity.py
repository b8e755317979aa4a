"""Settings → Activity: the organization's activity log, filtered by profile,
person, kind and period, a page at a time, and exported as CSV. Owners and
Managers read everything; a Member what they did and what happened to their
profiles (`portal.activity.log`)."""
from flask import Response, abort, g, request, stream_with_context
from flask_babel import get_timezone
from flask_login import login_required

from portal.activity import log
from portal.activity.vocabulary import KINDS
from portal.db import utcnow
from portal.paging import page_of
from portal.permissions import manages_organization
from portal.settings.views import bp
from portal.tenancy import organization_required
from portal.web import render


def chosen_filters():
    """The filters the query string asks for; another agency's profile or
    person (or one the reader may not see) is a 404."""
    try:
        return log.read_filters(request.args, g.membership, g.organization)
    except log.NotVisible:
        abort(404)


def activity_page(filters, problems):
    page = None if problems else page_of(log.events(g.membership, g.organization, filters), filters.number)
    return render(
        "settings/activity.html",
        block="activity_results",
        status=400 if problems else 200,
        filters=filters,
        problems=problems,
        typed=request.args,
        page=page,
        lines=log.lines(page.items) if page else [],
        kinds=KINDS,
        people=log.people(g.organization) if manages_organization(g.membership) else None,
        zone=get_timezone().zone,
    )


@bp.route("/activity")
@login_required
@organization_required
def activity():
    return activity_page(*chosen_filters())


@bp.route("/activity.csv")
@login_required
@organization_required
def activity_csv():
    """The filtered log, every page of it, as a spreadsheet reads it."""
    filters, problems = chosen_filters()
    if problems:
        return activity_page(filters, problems)
    chunks = log.csv_chunks(log.events(g.membership, g.organization, filters))
    name = f"activity-{utcnow().astimezone(get_timezone()):%Y-%m-%d}.csv"
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
