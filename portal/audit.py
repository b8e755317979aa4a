"""Who did what: an `AuditEvent` in the caller's transaction."""
from flask import g
from flask_login import current_user

from portal.db import get_session
from portal.models import AuditEvent


def audit(action, detail="", profile_id=None, personal=False):
    """Record who did what in the current organization (`personal`: a change
    to the user's own account, which belongs to no organization)."""
    organization = None if personal else g.get("organization")
    get_session().add(
        AuditEvent(
            organization_id=organization.id if organization else None,
            user_id=current_user.id if current_user.is_authenticated else None,
            profile_id=profile_id,
            action=action,
            detail=detail,
        )
    )
