"""Inviting people into an organization, and accepting an invitation.

The settings pages call `invite` and `revoke`; the invitation link's views
call `find_invitation` and the two `accept_*` functions; the mail worker
calls `email_failed` when the invitation's email could not be sent.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlmodel import select, update

from portal import mailer
from portal.auth.link_state import LinkProblem, link_problem
from portal.auth.passwords import hash_password
from portal.auth.single_use import claim
from portal.auth.urls import external_url
from portal.db import utcnow
from portal.audit import audit_in
from portal.models import Invitation, Membership, Organization, Role, User
from portal.url_secrets import hash_secret, new_secret
from portal.versions import changed


class AlreadyMember(ValueError):
    """The person invited already belongs to the organization."""


class LinkSpent(Exception):
    """The invitation was accepted, revoked or expired while the page was open."""


def _user_with_email(session, email):
    return session.exec(select(User).where(User.email == email)).first()


def _membership(session, user_id, organization_id):
    return session.exec(
        select(Membership).where(Membership.user_id == user_id, Membership.organization_id == organization_id)
    ).first()


def _pending(organization_id, email):
    return (
        Invitation.organization_id == organization_id,
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
    )


def invite(session, organization, email, role, can_manage_profiles, invited_by):
    """Invite `email` into `organization` with `role` and send the link.

    A pending invitation for the same address and organization is replaced
    (its link stops working). Raises `AlreadyMember` if the person already
    belongs to the organization, `ValueError` for an unknown role.
    """
    email = email.strip().lower()
    role = Role(role)
    existing = _user_with_email(session, email)
    if existing is not None and _membership(session, existing.id, organization.id) is not None:
        raise AlreadyMember(email)

    now = utcnow()
    session.exec(update(Invitation).where(*_pending(organization.id, email)).values(revoked_at=now))
    secret, secret_hash = new_secret()
    lifetime = timedelta(hours=current_app.config["LINK_LIFETIME_HOURS"])
    invitation = Invitation(
        organization_id=organization.id,
        email=email,
        role=role,
        can_manage_profiles=bool(can_manage_profiles),
        secret_hash=secret_hash,
        invited_by_id=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invitation)
    audit_in(session, "invitation.sent", organization_id=organization.id, user=invited_by, email=email, role=role)
    session.flush()  # committed once its email is queued: an invitation that cannot be sent is not kept
    inviter = invited_by.display_name if invited_by else organization.name
    mailer.send(
        email,
        _l("%(inviter)s invited you to %(organization)s on Keepalive", inviter=inviter, organization=organization.name),
        "invitation",
        locale=(existing.locale if existing else None) or (invited_by.locale if invited_by else None),
        inviter=inviter,
        organization_name=organization.name,
        role=str(role),
        link=external_url("auth.invitation", secret=secret),
        expires_at=invitation.expires_at,
        hours=current_app.config["LINK_LIFETIME_HOURS"],
        about=("invitation", invitation.id),
    )
    session.commit()
    return invitation


def email_failed(session, invitation_id, error):
    """The worker could not send the invitation's email (`error`, what it
    was told): the pending invitations say so, the activity log too. One
    no longer pending (accepted, withdrawn, or replaced by inviting the
    address again) is left alone. Commits."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None:
        return
    invitation.email_error = error
    session.add(invitation)
    audit_in(session, "invitation.email_failed", organization_id=invitation.organization_id,
             email=invitation.email, error=error)
    session.commit()


def revoke(session, invitation, by=None):
    """Withdraw a pending invitation; its link then answers "withdrawn"."""
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = utcnow()
    session.add(invitation)
    audit_in(session, "invitation.revoked", organization_id=invitation.organization_id, user=by,
             email=invitation.email)
    session.commit()
    return invitation


def find_invitation(session, secret):
    """(invitation, organization, problem) for a link's secret; problem is None if it can be accepted."""
    row = session.exec(
        select(Invitation, Organization)
        .join(Organization, Organization.id == Invitation.organization_id)
        .where(Invitation.secret_hash == hash_secret(secret))
    ).first()
    if row is None:
        return None, None, LinkProblem.UNKNOWN
    invitation, organization = row
    problem = link_problem(
        now=utcnow(),
        expires_at=invitation.expires_at,
        used_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
    )
    return invitation, organization, problem


def invited_user(session, invitation):
    """The account that already has the invitation's address, if any."""
    return _user_with_email(session, invitation.email)


def _claim(session, invitation, now):
    """Mark the invitation accepted unless someone got there first."""
    if not claim(session, Invitation, invitation.id, "accepted_at", now, Invitation.revoked_at.is_(None)):
        raise LinkSpent()


def _join(session, invitation, user, now):
    if _membership(session, user.id, invitation.organization_id) is None:
        session.add(
            Membership(
                user_id=user.id,
                organization_id=invitation.organization_id,
                role=invitation.role,
                can_manage_profiles=invitation.can_manage_profiles,
                created_at=now,
            )
        )
        changed(session, organization_id=invitation.organization_id)
    audit_in(session, "invitation.accepted", organization_id=invitation.organization_id, user=user,
             email=invitation.email, role=invitation.role)


def accept_as_new_user(session, invitation, name, password, locale=None):
    """Create the invited person's account and membership; returns the user."""
    now = utcnow()
    _claim(session, invitation, now)
    user = User(email=invitation.email, name=name.strip(), password_hash=hash_password(password), locale=locale)
    session.add(user)
    session.flush()
    _join(session, invitation, user, now)
    session.commit()
    return user


def accept_as_member(session, invitation, user):
    """Add an existing account (signed in as the invited address) to the organization."""
    now = utcnow()
    _claim(session, invitation, now)
    _join(session, invitation, user, now)
    session.commit()
    return user
