"""Each organization's `version`: a counter in its row that the writes which
change what its pages show bump, so that a browser's copy of a page can be
known current without rendering it again (`portal.web.conditional`).

A write names what it changed, explicitly: `changed(session,
organization_id=...)`, or `profile_id=...` for a write that knows only the
profile (a credential). The counters are incremented once per organization,
in the same transaction, just before it commits: the new version is
committed with the write or not at all, on SQLite as on PostgreSQL, and it
is read with the organization's row that every request loads anyway. (A
counter in Redis would be bumped apart from the commit: before it, a page
read in between would be tagged with the new version and show the old data;
after it, a crash in between would lose the bump.) On PostgreSQL the
increment holds the organization's row lock from then to the commit only,
and takes the rows in one statement, so no lock is held across a network
call and two transactions do not wait on each other in turn.
"""
from flask import g, has_app_context
from sqlalchemy import event, or_, update
from sqlmodel import Session, select

from portal.models import Membership, Organization, SocialProfile

PENDING = "keepalive.changed"


def changed(session, organization_id=None, profile_id=None):
    """What this transaction writes changes the pages of `organization_id`,
    or of the organization of `profile_id`: its version goes up at commit."""
    organizations, profiles = session.info.setdefault(PENDING, (set(), set()))
    if organization_id is not None:
        organizations.add(organization_id)
    if profile_id is not None:
        profiles.add(profile_id)


def changed_for_user(session, user_id):
    """A person's own change (their name) shows in every organization they belong to."""
    for organization_id in session.exec(select(Membership.organization_id).where(Membership.user_id == user_id)):
        changed(session, organization_id=organization_id)


def changes_shown(session):
    """Whether this request or job has changed what some pages show, in any
    session, or is changing it in `session`: an organization's version read
    before then is behind."""
    organizations, profiles = session.info.get(PENDING, ((), ()))
    return bool(organizations or profiles) or g.get("versions_bumped", False)


def init_app(_app):
    """Bump at every commit of every session (once per process: the listeners are the Session class's)."""
    if not event.contains(Session, "before_commit", _bump):
        event.listen(Session, "before_commit", _bump)
        event.listen(Session, "after_transaction_end", _forget)


def _bump(session):
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction's own commit bumps
    organizations, profiles = session.info.pop(PENDING, (set(), set()))
    if not organizations and not profiles:
        return
    of_profiles = select(SocialProfile.organization_id).where(SocialProfile.id.in_(sorted(profiles)))
    session.execute(
        update(Organization)
        .where(or_(Organization.id.in_(sorted(organizations)), Organization.id.in_(of_profiles)))
        .values(version=Organization.version + 1)
        .execution_options(synchronize_session=False)
    )
    if has_app_context():
        g.versions_bumped = True


def _forget(session, transaction):
    """A transaction that ended without committing bumps nothing; a savepoint
    rolled back inside it leaves what the rest of it changed to be bumped."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
