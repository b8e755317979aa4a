"""Manage Accounts as a spreadsheet: every profile its filters select (not
one page of them), with who may renew each, read a batch at a time."""
from flask import g
from flask_babel import get_timezone, lazy_gettext as _l
from sqlmodel import select

from portal.accounts.queries import last_renewals
from portal.db import get_session, utcnow
from portal.models import Membership, ProfileAccess, User
from portal.networks import network
from portal.permissions import may_renew
from portal.profiles import visible_profiles
from portal.spreadsheets import csv_text, safe_cell
from portal.templating import status_text

BATCH = 500
HEADER = (_l("Profile"), _l("Handle"), _l("Network"), _l("Brands"), _l("Status"), _l("Effective expiry"),
          _l("Last renewed"), _l("Renewed by"), _l("Time zone"), _l("Who can renew"))


def csv_chunks(scope):
    """The profiles of `scope` the signed-in person sees, most urgent first, as CSV text."""
    now, zone = utcnow(), get_timezone()
    people = renewers_of_the_organization()
    yield csv_text([[str(title) for title in HEADER]])
    offset = 0
    while True:
        rows = visible_profiles(g.membership, g.organization, scope=scope, now=now, limit=BATCH, offset=offset)
        if not rows:
            return
        renewals = last_renewals(rows)
        who = who_can_renew([row.profile.id for row in rows], people)
        yield csv_text([line(row, renewals.get(row.profile.id), who.get(row.profile.id, []), zone) for row in rows])
        offset += BATCH


def line(row, renewal, renewers, zone):
    def moment(value):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    by = "" if renewal is None else (renewal.user.display_name if renewal.user else str(_l("automatically")))
    return [safe_cell(value) for value in (
        row.profile.name, row.profile.handle, network(row.profile.network).label,
        ", ".join(brand.name for brand in row.brands), status_text(row.status, row.profile.network),
        moment(row.status.effective_expiry), moment(renewal.when if renewal else None), by, str(zone),
        ", ".join(renewers))]


def renewers_of_the_organization():
    """(membership, name) of every active person of the organization."""
    return get_session().exec(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == g.organization.id, User.active.is_(True))
        .order_by(User.name, User.email)
    ).all()


def who_can_renew(profile_ids, people):
    """{profile id: names of those who may renew it} (Keepalive's rule, `may_renew`)."""
    levels = {}
    for user_id, profile_id, level in get_session().exec(
            select(ProfileAccess.user_id, ProfileAccess.profile_id, ProfileAccess.level)
            .where(ProfileAccess.profile_id.in_(profile_ids))).all():
        levels[user_id, profile_id] = level
    return {profile_id: [user.display_name for membership, user in people
                         if may_renew(membership, levels.get((user.id, profile_id)))]
            for profile_id in profile_ids}
