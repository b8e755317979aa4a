"""Who did what: `AuditEvent` rows, the lines of the activity log, written in
the caller's transaction.

Every code is a line of `portal.activity.vocabulary.ACTIONS` (its words in the
four languages and how its values read); `tests/test_activity.py` fails while
the code calls one that is not there. The values go as keyword arguments
(`audit("member.role_changed", email=..., old=..., new=...)`) and are stored in
`AuditEvent.data`, never as words: the page words them in the reader's
language. docs/design.md, "The activity log".

- `audit(...)` in a request: the signed-in person in the current organization;
- `audit_in(session, ...)` anywhere else (a job, a service with its own
  session): no user means Keepalive itself did it (a worker, the scan);
- `audit_row(...)` builds the row without adding it (the demo seed).
"""
from flask import g, has_request_context
from flask_login import current_user

from portal.db import get_session
from portal.models import AuditEvent, SocialProfile, User


def audit(action, detail="", profile_id=None, personal=False, *, profile=None, actor_name=None, **data):
    """Record what the signed-in person did in the current organization
    (`personal`: a change to their own account, which belongs to no
    organization; `actor_name`: who did it when nobody is signed in, an API
    key by its name). `detail` is free text for what no value says."""
    organization = None if personal else g.get("organization")
    user = current_user if has_request_context() and current_user.is_authenticated else None
    audit_in(get_session(), action, organization_id=organization.id if organization else None,
             profile=profile, profile_id=profile_id, user=user, actor_name=actor_name, detail=detail, **data)


def audit_in(session, action, *, organization_id, profile=None, profile_id=None, user=None, user_id=None,
             actor_name=None, detail="", created_at=None, **data):
    """Record an event in `session`: `user` (or `user_id`) did it, else
    Keepalive itself, or `actor_name` when someone outside the agency did (a
    client through their link)."""
    if profile is None and profile_id is not None:
        profile = session.get(SocialProfile, profile_id)
    if user is None and user_id is not None:
        user = session.get(User, user_id)
    session.add(audit_row(action, organization_id=organization_id, profile=profile, user=user,
                          actor_name=actor_name, detail=detail, created_at=created_at, **data))


def audit_row(action, *, organization_id, profile=None, user=None, actor_name=None, detail="", created_at=None,
              **data):
    """The event, not yet added: the names of its profile and actor are kept
    on it, so that it still reads once the profile is removed or the person
    has left."""
    event = AuditEvent(
        organization_id=organization_id,
        user_id=user.id if user is not None else None,
        profile_id=profile.id if profile is not None else None,
        profile_name=profile.name if profile is not None else "",
        profile_network=profile.network if profile is not None else "",
        actor_name=actor_name if actor_name is not None else (user.display_name if user is not None else ""),
        action=action,
        detail=detail,
        data={key: value for key, value in data.items() if value is not None},
    )
    if created_at is not None:
        event.created_at = created_at
    return event
