"""Invitations to a client to connect their own profiles: sent, sent again,
withdrawn, found by their link's secret, and what the client's connections
tell the agency.

The URL carries a random secret, the row its hash; the link works until it
expires, is withdrawn or sent again (a new secret), or the client says they
are done. The email names the agency and answers to the person who invited
(Reply-To), so that it does not read like phishing.
"""
from datetime import timedelta

from flask_babel import force_locale, format_datetime, lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import select

from portal import mailer
from portal.audit import audit_in
from portal.auth.urls import external_url
from portal.connect import rules
from portal.db import utcnow
from portal.links.service import who_may_renew
from portal.models import Brand, ConnectInvitation, Notification, Organization, User
from portal.networks import network
from portal.notifications.rules import KIND_CLIENT_CONNECTED
from portal.paging import page_of
from portal.url_secrets import hash_secret, new_secret, plausible


def invite(session, organization, inviter, email, networks, message, brand, days, locale):
    """A new invitation, sent; returns it. Commits once its email is queued."""
    now = utcnow()
    secret, secret_hash = new_secret()
    invitation = ConnectInvitation(
        organization_id=organization.id, email=email, networks=",".join(networks), message=message.strip(),
        brand_id=brand.id if brand is not None else None, locale=locale, secret_hash=secret_hash,
        invited_by_id=inviter.id, created_at=now, sent_at=now, expires_at=now + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    audit_in(session, "connect_invitation.sent", organization_id=organization.id, user=inviter, email=email)
    _send(invitation, secret, organization, inviter)
    session.commit()
    return invitation


def send_again(session, invitation, organization, by):
    """The invitation with a new link, for as long again as it was first
    given, sent again (the old link stops working). Commits."""
    now = utcnow()
    lifetime = invitation.expires_at - invitation.sent_at
    secret, invitation.secret_hash = new_secret()
    invitation.sent_at, invitation.expires_at = now, now + lifetime
    invitation.email_error = None
    session.add(invitation)
    audit_in(session, "connect_invitation.sent", organization_id=organization.id, user=by, email=invitation.email)
    session.flush()
    _send(invitation, secret, organization, by)
    session.commit()
    return invitation


def _send(invitation, secret, organization, inviter):
    """Queue the invitation's email, before the caller commits: an
    invitation whose email cannot be queued is not kept."""
    labels = [network(key).label for key in invitation.network_keys]
    with force_locale(invitation.locale):
        subject = _l("%(agency)s asks you to connect your social accounts", agency=organization.name)
        expires_at = format_datetime(invitation.expires_at, "long")
    mailer.send(
        invitation.email, subject, "connect_invitation", locale=invitation.locale,
        headers={"Reply-To": inviter.email},
        agency=organization.name, inviter=inviter.display_name, inviter_email=inviter.email,
        networks=labels, message=invitation.message, expires_at=expires_at,
        link=external_url("connect.client", secret=secret),
        about=("connect_invitation", invitation.id, invitation.secret_hash),
    )


def email_failed(session, invitation_id, secret_hash, error):
    """The worker could not send the invitation's email (`error`, what it
    was told): the list of invitations says so, the activity log too. One
    sent again since then is left alone. Commits."""
    invitation = session.get(ConnectInvitation, invitation_id)
    if invitation is None or invitation.secret_hash != secret_hash:
        return
    invitation.email_error = error
    session.add(invitation)
    audit_in(session, "connect_invitation.email_failed", organization_id=invitation.organization_id,
             email=invitation.email, error=error)
    session.commit()


def revoke(session, invitation, by):
    """Withdraw a pending invitation; False if it was no longer pending. Commits."""
    if rules.state(invitation, utcnow()) != rules.State.PENDING:
        return False
    invitation.revoked_at = utcnow()
    session.add(invitation)
    audit_in(session, "connect_invitation.revoked", organization_id=invitation.organization_id, user=by,
             email=invitation.email)
    session.commit()
    return True


def find(session, secret):
    """(invitation, organization, problem) for a link's secret; problem is
    None while the client may use it ("unknown", or a `rules.State`)."""
    if not plausible(secret):
        return None, None, "unknown"
    row = session.exec(
        select(ConnectInvitation, Organization)
        .join(Organization, Organization.id == ConnectInvitation.organization_id)
        .where(ConnectInvitation.secret_hash == hash_secret(secret))
    ).first()
    if row is None:
        return None, None, "unknown"
    invitation, organization = row
    state = rules.state(invitation, utcnow())
    return invitation, organization, None if state == rules.State.PENDING else state


def usable(session, invitation_id):
    """The invitation of `invitation_id` if the client may still use it, else None."""
    invitation = session.get(ConnectInvitation, invitation_id) if invitation_id else None
    if invitation is None or rules.state(invitation, utcnow()) != rules.State.PENDING:
        return None
    return invitation


def brand_of(session, invitation):
    """The brand the client's profiles join (None if none, or deleted since)."""
    return session.get(Brand, invitation.brand_id) if invitation.brand_id else None


def organization_of(session, invitation):
    return session.get(Organization, invitation.organization_id)


def inviter_of(session, invitation):
    return session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None


def connected(session, invitation, network_key, profiles):
    """The client connected `profiles` of `network_key`: the invitation
    remembers the network, the activity log tells it (its first time), and
    everyone who may renew them hears of it in the bell. Done once every
    network asked for is connected. Commits."""
    now = utcnow()
    first_time = not invitation.connected_keys
    if network_key not in invitation.connected_keys:
        invitation.connected = ",".join([*invitation.connected_keys, network_key])
    if not rules.still_to_connect(invitation):
        invitation.used_at = now
    session.add(invitation)
    if first_time:
        audit_in(session, "connect_invitation.used", organization_id=invitation.organization_id,
                 actor_name=invitation.email, email=invitation.email)
    if profiles:
        first = profiles[0]
        for user in who_may_renew(session, first):
            session.add(Notification(
                key=f"connect{invitation.id}:{first.id}:u{user.id}", user_id=user.id,
                organization_id=invitation.organization_id, profile_id=first.id, kind=KIND_CLIENT_CONNECTED,
                created_at=now,
            ))
    session.commit()


def finish(session, invitation):
    """The client is done: the link stops working. Commits."""
    session.exec(update(ConnectInvitation).where(
        ConnectInvitation.id == invitation.id, ConnectInvitation.used_at.is_(None)).values(used_at=utcnow()))
    session.commit()


def listing(organization_id, number):
    """The agency's invitations, newest first, a page at a time, with who sent each."""
    query = (select(ConnectInvitation, User)
             .outerjoin(User, User.id == ConnectInvitation.invited_by_id)
             .where(ConnectInvitation.organization_id == organization_id)
             .order_by(ConnectInvitation.sent_at.desc(), ConnectInvitation.id.desc()))
    return page_of(query, number)
