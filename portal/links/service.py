"""Renewal links in the database: issue, send, find, spend, revoke, and tell the
agency how a client's renewal went."""
import secrets

from flask import current_app, url_for
from flask_babel import force_locale, format_datetime
from sqlalchemy import insert, update
from sqlmodel import select

from portal import attempts, mailer
from portal.audit import audit_in
from portal.db import utcnow
from portal.links.rules import FAILED_ATTEMPTS_PER_HOUR, LIFETIME, Purpose
from portal.models import Membership, Notification, ProfileAccess, RenewalLink, SocialProfile, User
from portal.networks import network
from portal.notifications.messages import client_link_subject, member_link_subject
from portal.notifications.rules import KIND_LINK_FAILED, KIND_LINK_RENEWED, KIND_LINK_UNSENT, recipients
from portal.url_secrets import hash_secret, new_secret, plausible
from portal.versions import changed


_FAILURES = f"{FAILED_ATTEMPTS_PER_HOUR} per hour"


def issue(session, profile, recipient, purpose, created_by_id=None, now=None):
    """A new link for `profile`; returns (secret, link). The secret goes in
    the URL and nowhere else; the row keeps its hash. The caller commits."""
    secret, row = _new_link(profile.id, recipient, purpose, created_by_id, now)
    link = RenewalLink(**row)
    session.add(link)
    session.flush()
    return secret, link


def issue_member_links(session, recipients, now=None):
    """The secrets of new member links, one per (profile id, recipient) of
    `recipients`, written with one bare INSERT: what a worker issues for the
    notices of a batch it emails. The caller commits."""
    if not recipients:
        return []
    secrets_and_rows = [_new_link(profile_id, recipient, Purpose.MEMBER, None, now)
                        for profile_id, recipient in recipients]
    session.exec(insert(RenewalLink).values([row for _, row in secrets_and_rows]))
    return [secret for secret, _ in secrets_and_rows]


def send(session, profile, recipient, purpose, organization_name, language, sender=None, created_by_id=None,
         actor_name=None):
    """Issue a link for `profile` to `recipient` (a client's account owner,
    or a member of the agency), record it, email it in `language` from
    `sender` (a person's name; None: the agency), and commit: a link whose
    email cannot be queued is not kept (`portal.mailer.send` raises). Returns
    the link. The activity log names `created_by_id`, else `actor_name` (an API key)."""
    secret, link = issue(session, profile, recipient, purpose, created_by_id=created_by_id)
    audit_in(session, "link.sent", organization_id=profile.organization_id, profile=profile, user_id=created_by_id,
             actor_name=actor_name, recipient=link.recipient)
    session.flush()
    label = network(profile.network).label
    endpoint = "links.client" if purpose == Purpose.CLIENT else "links.member"
    # A client's pages speak the email's language (a member's, their own setting's).
    language_argument = {"lang": language} if purpose == Purpose.CLIENT else {}
    with force_locale(language):
        subject = (client_link_subject if purpose == Purpose.CLIENT else member_link_subject)(
            profile.name, label, organization_name)
        expires_at = format_datetime(link.expires_at, "long")
        permission = str(network(profile.network).native_permission)
    mailer.send(
        link.recipient, subject, f"token_{purpose}_link", locale=language, sender=sender,
        organization=organization_name, network_label=label, profile_name=profile.name,
        native_permission=permission, expires_at=expires_at,
        link=current_app.config["BASE_URL"] + url_for(endpoint, secret=secret, **language_argument),
        about=("renewal_link", link.id),
    )
    session.commit()
    return link


def email_failed(session, link_id, error):
    """The worker could not send the link's email (`error`, what it was
    told): the link says so on the profile's page, the activity log too, and
    those who may renew the profile hear of it in the bell, where "on its way"
    was the last word. Commits."""
    link = session.get(RenewalLink, link_id)
    profile = session.get(SocialProfile, link.profile_id) if link is not None else None
    if profile is None:  # removed with its profile meanwhile
        return
    link.email_error = error
    session.add(link)
    for user in who_may_renew(session, profile):
        session.add(Notification(
            key=f"link{link.id}:unsent:u{user.id}", user_id=user.id, organization_id=profile.organization_id,
            profile_id=profile.id, kind=KIND_LINK_UNSENT, created_at=utcnow(),
        ))
    changed(session, organization_id=profile.organization_id)
    audit_in(session, "link.email_failed", organization_id=profile.organization_id, profile=profile,
             recipient=link.recipient, error=error)
    session.commit()


def _new_link(profile_id, recipient, purpose, created_by_id, now):
    now = now or utcnow()
    secret, digest = new_secret()
    return secret, {
        "secret_hash": digest, "profile_id": profile_id, "recipient": recipient, "purpose": purpose,
        "created_by_id": created_by_id, "created_at": now, "expires_at": now + LIFETIME,
    }


def find(session, secret):
    """The link whose secret this is, or None (also for anything malformed)."""
    if not plausible(secret):
        return None
    return session.exec(select(RenewalLink).where(RenewalLink.secret_hash == hash_secret(secret))).first()


def spend(session, link_id, now=None):
    """Mark the link used if it still can be; False if it was used, revoked
    or expired meanwhile (a conditional update: two clicks spend it once)."""
    now = now or utcnow()
    result = session.exec(
        update(RenewalLink)
        .where(RenewalLink.id == link_id, RenewalLink.used_at.is_(None),
               RenewalLink.revoked_at.is_(None), RenewalLink.expires_at > now)
        .values(used_at=now)
    )
    return result.rowcount == 1


def revoke(session, link, now=None):
    if link.revoked_at is None and link.used_at is None:
        link.revoked_at = now or utcnow()
        session.add(link)
        return True
    return False


def open_links(session, profile_id, now=None):
    """Links of `profile_id` that still work, newest first (for the profile's page)."""
    now = now or utcnow()
    return session.exec(
        select(RenewalLink)
        .where(RenewalLink.profile_id == profile_id, RenewalLink.used_at.is_(None),
               RenewalLink.revoked_at.is_(None), RenewalLink.expires_at > now)
        .order_by(RenewalLink.created_at.desc())
    ).all()


def who_may_renew(session, profile):
    """The people of the profile's organization who may renew it."""
    pairs = session.exec(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == profile.organization_id)
    ).all()
    levels = dict(session.exec(
        select(ProfileAccess.user_id, ProfileAccess.level).where(ProfileAccess.profile_id == profile.id)
    ).all())
    return recipients([m for m, _ in pairs], levels, {u.id: u for _, u in pairs})


def failures_left(link_id):
    """0 while the link may be tried again, else the seconds until it may."""
    return attempts.wait(_FAILURES, "link-failures", link_id)


def count_failure(link_id):
    """Count a failed renewal through the link; True for the first of its hour,
    which the agency hears of (the others only go to the audit log)."""
    attempts.count(_FAILURES, "link-failures", link_id)
    return not attempts.count("1 per hour", "link-failure-notice", link_id)


def tell_agency(session, link, profile, renewed, reason=None, credential_id=None, notify=True, now=None):
    """An audit event saying how the client's renewal went, and unless
    `notify` is off an in-app notice to everyone who may renew the profile.
    The caller commits."""
    now = now or utcnow()
    kind = KIND_LINK_RENEWED if renewed else KIND_LINK_FAILED
    # A link renews once, but may fail several times before it does.
    occasion = "ok" if renewed else f"{int(now.timestamp())}-{secrets.token_hex(4)}"
    for user in who_may_renew(session, profile) if notify else ():
        session.add(Notification(
            key=f"link{link.id}:{occasion}:u{user.id}", user_id=user.id,
            organization_id=profile.organization_id, profile_id=profile.id,
            credential_id=credential_id, kind=kind, created_at=now,
        ))
    changed(session, organization_id=profile.organization_id)  # the notices, the profile's history
    # The client did it: someone outside the agency, named by the address the link went to.
    audit_in(session, "link.renewed" if renewed else "link.renewal_failed", organization_id=profile.organization_id,
             profile=profile, actor_name=link.recipient, created_at=now, recipient=link.recipient, reason=reason)

