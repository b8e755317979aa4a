"""Password reset by email: a single-use link that lives two hours.

The URL carries a random secret; the database keeps only its hash.
"""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlmodel import select, update

from portal import mailer
from portal.auth.link_state import LinkProblem, link_problem
from portal.auth.passwords import hash_password
from portal.auth.single_use import claim
from portal.auth.urls import external_url
from portal.db import utcnow
from portal.audit import audit_in
from portal.models import PasswordReset, User
from portal.url_secrets import hash_secret, new_secret

RESET_LIFETIME = timedelta(hours=2)


class LinkSpent(Exception):
    """The link was used (or expired) between showing the form and sending it."""


def request_reset(session, email):
    """A reset link for the active account that has `email`, as a message to
    send (`portal.mailer.compose`); None when no active account has it.

    A worker runs it (`jobs.mail.password_reset`), so the page that asked
    answers alike, and as fast, whatever happens here.
    """
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active:
        return None
    secret, secret_hash = new_secret()
    reset = PasswordReset(user_id=user.id, secret_hash=secret_hash, expires_at=utcnow() + RESET_LIFETIME)
    session.add(reset)
    session.commit()
    return mailer.compose(
        user.email,
        _l("Reset your Keepalive password"),
        "password_reset",
        locale=user.locale,
        name=user.display_name,
        link=external_url("auth.reset_password", secret=secret),
        hours=int(RESET_LIFETIME.total_seconds() // 3600),
    )


def find_reset(session, secret):
    """(reset, problem): the reset a link's secret names, and why it cannot be used (or None)."""
    reset = session.exec(select(PasswordReset).where(PasswordReset.secret_hash == hash_secret(secret))).first()
    if reset is None:
        return None, LinkProblem.UNKNOWN
    return reset, link_problem(now=utcnow(), expires_at=reset.expires_at, used_at=reset.used_at)


def complete_reset(session, reset, password):
    """Set the new password, spend the link, end every other session of the user.

    The link is claimed with a conditional update, so two submissions racing
    each other cannot both succeed. Call it with nothing unsaved in `session`.
    """
    now = utcnow()
    if not claim(session, PasswordReset, reset.id, "used_at", now):
        raise LinkSpent()
    # Older links sent to the same person stop working too.
    session.exec(
        update(PasswordReset)
        .where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    user = session.get(User, reset.user_id)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.add(user)
    audit_in(session, "password.reset", organization_id=None, user=user)
    session.commit()
    return user
