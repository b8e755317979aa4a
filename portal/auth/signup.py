"""An agency starts: sign-up with an emailed confirmation, or
`flask --app wsgi create-agency` with a link to set the Owner's password.

The sign-up page writes a `Signup` row whatever the address, and a worker
(`jobs.mail.signup_email`) sends either the confirmation link or, to an
address that already has an account, an email saying so: the page answers
alike, and as fast, either way. The agency, its Owner and the Owner's
membership are made when the link is followed.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlmodel import select, update

from portal import mailer
from portal.audit import audit_in
from portal.auth.link_state import LinkProblem, link_problem
from portal.auth.passwords import hash_password
from portal.auth.single_use import claim
from portal.auth.urls import external_url
from portal.db import utcnow
from portal.models import Membership, Organization, PasswordReset, Role, Signup, User
from portal.url_secrets import hash_secret, new_secret, plausible

LIFETIME = timedelta(hours=24)


class LinkSpent(Exception):
    """The sign-up was confirmed (or expired) between showing the page and the click."""


class AddressTaken(Exception):
    """An account got the address after the sign-up was asked for."""


def _user_with_email(session, email):
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def register(session, agency_name, name, email, password, locale=None):
    """Keep the request for a new agency; the caller enqueues its email.

    The password is hashed here, for every request: hashing only for new
    addresses would tell, by the time it takes, which ones are taken."""
    now = utcnow()
    signup = Signup(agency_name=agency_name.strip(), name=name.strip(), email=email.strip().lower(),
                    password_hash=hash_password(password), locale=locale, created_at=now,
                    expires_at=now + LIFETIME)
    session.add(signup)
    session.commit()
    return signup


def confirmation_message(session, signup_id):
    """The email for a sign-up, as a message to send (`portal.mailer.compose`):
    the confirmation link, or for an address that has an account a note
    saying so (the sign-up is then spent). None for an unknown or spent one."""
    signup = session.get(Signup, signup_id)
    if signup is None or signup.confirmed_at is not None or signup.secret_hash is not None:
        return None
    if _user_with_email(session, signup.email) is not None:
        signup.confirmed_at = utcnow()  # nothing to confirm: the address has its account
        session.add(signup)
        session.commit()
        return mailer.compose(
            signup.email, _l("You already have a Keepalive account"), "signup_taken", locale=signup.locale,
            login_link=external_url("auth.login"), reset_link=external_url("auth.reset_request"),
        )
    secret, signup.secret_hash = new_secret()
    session.add(signup)
    session.commit()
    return mailer.compose(
        signup.email, _l("Confirm your new agency on Keepalive"), "signup_confirm", locale=signup.locale,
        name=signup.name, agency_name=signup.agency_name,
        link=external_url("auth.signup_confirm", secret=secret), hours=int(LIFETIME.total_seconds() // 3600),
    )


def find_signup(session, secret):
    """(signup, problem): the sign-up a confirmation link names, and why it
    cannot be followed (or None)."""
    if not plausible(secret):
        return None, LinkProblem.UNKNOWN
    signup = session.exec(select(Signup).where(Signup.secret_hash == hash_secret(secret))).first()
    if signup is None:
        return None, LinkProblem.UNKNOWN
    return signup, link_problem(now=utcnow(), expires_at=signup.expires_at, used_at=signup.confirmed_at)


def confirm(session, signup):
    """Make the agency, its Owner and the membership; returns the Owner.

    The link is claimed with a conditional update, so two clicks make one
    agency. Raises `LinkSpent`, or `AddressTaken` when the address got an
    account meanwhile (an invitation accepted since)."""
    now = utcnow()
    if not claim(session, Signup, signup.id, "confirmed_at", now):
        raise LinkSpent()
    signup = session.get(Signup, signup.id)
    user = User(email=signup.email, name=signup.name, password_hash=signup.password_hash, locale=signup.locale)
    try:
        if _user_with_email(session, signup.email) is not None:
            raise AddressTaken()
        session.add(user)
        session.flush()
    except (AddressTaken, IntegrityError):
        session.rollback()
        session.exec(update(Signup).where(Signup.id == signup.id).values(confirmed_at=now))
        session.commit()  # spent: the address has its account
        raise AddressTaken() from None
    organization = _new_agency(session, signup.agency_name, user)
    audit_in(session, "signup.confirmed", organization_id=organization.id, user=user, email=signup.email)
    session.commit()
    return user


def _new_agency(session, name, owner):
    organization = Organization(name=name.strip())
    session.add(organization)
    session.flush()
    session.add(Membership(user_id=owner.id, organization_id=organization.id, role=Role.OWNER,
                           can_manage_profiles=True))
    audit_in(session, "agency.created", organization_id=organization.id, user=owner, name=organization.name)
    return organization


def create_agency(session, name, owner_email, owner_name=""):
    """An agency and its Owner from the command line: (organization, owner,
    link). `link` is a single-use address to set the Owner's password, for an
    Owner without one (None when the address already has an account with a
    password: its holder signs in as usual)."""
    owner = _user_with_email(session, owner_email)
    if owner is None:
        owner = User(email=owner_email.strip().lower(), name=owner_name.strip(), password_hash=None)
        session.add(owner)
        session.flush()
    organization = _new_agency(session, name, owner)
    link = None
    if not owner.password_hash:
        secret, secret_hash = new_secret()
        lifetime = timedelta(hours=current_app.config["LINK_LIFETIME_HOURS"])
        session.add(PasswordReset(user_id=owner.id, secret_hash=secret_hash, expires_at=utcnow() + lifetime))
        link = external_url("auth.reset_password", secret=secret)
    session.commit()
    return organization, owner, link
