"""Periodic clean-up of rows nobody can use any more."""
from datetime import timedelta

from sqlalchemy import delete

from jobs import in_app_context
from portal.db import new_session, utcnow
from portal.models import ConnectInvitation, Invitation, PasswordReset, RenewalLink, Signup

# Expired links are kept a while so that a person who clicks an old link is
# told it has expired rather than that it never existed.
KEEP_EXPIRED = timedelta(days=30)


@in_app_context
def purge_expired_links():
    """Delete password resets, invitations (to join, to connect), sign-ups and renewal links that expired
    more than 30 days ago; returns how many rows of each kind went."""
    cutoff = utcnow() - KEEP_EXPIRED
    purged = {}
    with new_session() as session:
        for model in (PasswordReset, Invitation, ConnectInvitation, Signup, RenewalLink):
            result = session.exec(delete(model).where(model.expires_at < cutoff))
            purged[model.__tablename__] = result.rowcount
        session.commit()
    return purged
