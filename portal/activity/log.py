"""The activity log as a person may read it: the organization's events,
narrowed by the filters of Settings → Activity, newest first, paged and
exported in the database's own order.

Owners and Managers read everything of the organization. A Member reads
what they did themselves, and what happened to the profiles they have
access to: never another person's sign-ins, nor the organization's settings
(docs/design.md, "The activity log").
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_
from sqlmodel import select

from portal.activity.vocabulary import Kind, actor, codes_of, detail, label
from portal.db import get_session
from portal.models import AuditEvent, Membership, ProfileAccess, SocialProfile, User
from portal.networks import network
from portal.numbers import whole_number
from portal.paging import page_number, query_args, search_text
from portal.permissions import manages_organization
from portal.profiles import Scope, visible
from portal.spreadsheets import csv_text, safe_cell

# What a person types, kept apart from what it means: a filter that does not
# parse is said so beside its field, and the form keeps what was typed.
BAD_DATE = _l("Enter a date as YYYY-MM-DD, e.g. 2026-12-31.")
BAD_RANGE = _l("The start of the period must not be after its end.")
BAD_KIND = _l("Choose a kind of activity from the list.")
BAD_ID = _l("Choose one from the list.")
EARLIEST, LATEST = date(2000, 1, 1), date(9998, 12, 31)


class NotVisible(LookupError):
    """A profile or person the reader may not filter by (another agency's): a 404."""


@dataclass(frozen=True)
class Filters:
    """The log as its query string asks: a profile (by id, from its page), a
    text in the profile's name (removed profiles too), a person ("keepalive"
    for Keepalive itself), a kind, a period in the reader's days, a page."""
    profile: SocialProfile | None = None
    text: str = ""
    person: User | str | None = None
    kind: str = ""
    start: date | None = None
    end: date | None = None
    number: int = 1

    def query(self, **changes):
        """The query-string arguments of these filters (with `changes`)."""
        person = self.person.id if isinstance(self.person, User) else self.person
        return query_args({
            "profile": self.profile.id if self.profile else None, "q": self.text, "person": person,
            "kind": self.kind, "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None, "page": self.number, **changes,
        })

    @property
    def narrowed(self):
        return any((self.profile, self.text, self.person, self.kind, self.start, self.end))


def read_filters(values, membership, organization):
    """(filters, problems) of a query string: `problems` maps a field to why
    it was not understood (the log is then not read). A well-formed id of
    what the reader may not see raises NotVisible."""
    problems = {}
    kind = values.get("kind", "")
    if kind and kind not in Kind.__members__.values():
        problems["kind"], kind = BAD_KIND, ""
    start, end = _day(values, "from", problems), _day(values, "to", problems)
    if start and end and start > end:
        problems["to"] = BAD_RANGE
    profile = _profile(values.get("profile", ""), membership, organization, problems)
    person = _person(values.get("person", ""), organization, problems)
    filters = Filters(profile=profile, text=search_text(values), person=person,
                      kind=kind, start=start, end=end, number=page_number(values.get("page")))
    return filters, problems


def _day(values, name, problems):
    value = (values.get(name) or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST or len(value) != 10:
        problems[name] = BAD_DATE
        return None
    return day


def _profile(value, membership, organization, problems):
    if not value:
        return None
    profile_id = whole_number(value)
    if profile_id is None:
        problems["profile"] = BAD_ID
        return None
    profile = get_session().exec(
        visible(membership, organization, SocialProfile, scope=Scope(ids=(profile_id,)))).first()
    if profile is None:
        raise NotVisible(value)
    return profile


def _person(value, organization, problems):
    if not value or value == "keepalive":
        return value or None
    user_id = whole_number(value)
    if user_id is None:
        problems["person"] = BAD_ID
        return None
    user = get_session().exec(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.organization_id == organization.id)).first()
    if user is None:
        raise NotVisible(value)
    return user


def people(organization):
    """Whom the log can be filtered by: the organization's members, by name."""
    users = get_session().exec(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization.id)).all()
    return sorted(users, key=lambda user: user.display_name.casefold())


def events(membership, organization, filters=Filters()):
    """A SELECT of the events `membership` may read, narrowed to `filters`,
    newest first (the index on organization and time serves it)."""
    query = select(AuditEvent).where(AuditEvent.organization_id == organization.id)
    if not manages_organization(membership):
        own_profiles = select(ProfileAccess.profile_id).where(ProfileAccess.user_id == membership.user_id)
        query = query.where(or_(
            AuditEvent.user_id == membership.user_id,
            and_(AuditEvent.profile_id.in_(own_profiles), AuditEvent.action.not_in(codes_of(Kind.SIGN_INS))),
        ))
    if filters.profile is not None:
        query = query.where(AuditEvent.profile_id == filters.profile.id)
    if filters.text:
        query = query.where(AuditEvent.profile_name.icontains(filters.text, autoescape=True))
    if filters.person == "keepalive":
        query = query.where(AuditEvent.user_id.is_(None), AuditEvent.actor_name == "")
    elif filters.person is not None:
        query = query.where(AuditEvent.user_id == filters.person.id)
    if filters.kind:
        query = query.where(AuditEvent.action.in_(codes_of(filters.kind)))
    if filters.start:
        query = query.where(AuditEvent.created_at >= _midnight(filters.start))
    if filters.end:
        query = query.where(AuditEvent.created_at < _midnight(filters.end + timedelta(days=1)))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def _midnight(day):
    """The start of `day` in the reader's time zone, as a UTC moment."""
    zone = get_timezone()
    naive = datetime.combine(day, time())
    local = zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone)
    return local.astimezone(timezone.utc)


@dataclass(frozen=True)
class Line:
    """One event as the page and the CSV show it, in the reader's language."""
    event: AuditEvent
    label: str
    detail: str
    actor: str
    profile_name: str
    network_label: str


def lines(rows):
    return [Line(event=event, label=label(event.action), detail=detail(event), actor=actor(event),
                 profile_name=event.profile_name,
                 network_label=network(event.profile_network).label if event.profile_network else "")
            for event in rows]


def profile_lines(organization_id, profile_id, limit):
    """The newest events of one profile (its page's Activity list)."""
    return lines(get_session().exec(
        select(AuditEvent)
        .where(AuditEvent.profile_id == profile_id, AuditEvent.organization_id == organization_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all())


CSV_BATCH = 500


def csv_header():
    return [str(_l("When")), str(_l("Time zone")), str(_l("Who")), str(_l("What")), str(_l("Details")),
            str(_l("Profile")), str(_l("Network"))]


def csv_chunks(query):
    """The events of `query` (newest first) as CSV text, a batch at a time, so
    that an export of a long log holds no more than a batch in memory; each
    batch starts after the last one's end, so that events written meanwhile
    neither repeat a line nor push one out."""
    zone = get_timezone()
    yield csv_text([csv_header()])
    batch = query
    while True:
        rows = get_session().exec(batch.limit(CSV_BATCH)).all()
        if not rows:
            return
        last = rows[-1]
        batch = query.where(or_(AuditEvent.created_at < last.created_at,
                                and_(AuditEvent.created_at == last.created_at, AuditEvent.id < last.id)))
        yield csv_text(
            [safe_cell(line.event.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")), str(zone),
             safe_cell(line.actor), safe_cell(line.label), safe_cell(line.detail), safe_cell(line.profile_name),
             safe_cell(line.network_label)]
            for line in lines(rows))

