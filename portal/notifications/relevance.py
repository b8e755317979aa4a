"""Whether the notices of a batch of deliveries still hold when a worker
sends them, read for the whole batch in a few queries, for every channel.

A notice holds while the credential it spoke of is still the current one,
in the same state (`rules.still_relevant`); one a renewal made moot is
marked resolved (`resolve_renewed`). A notice to a person holds while
they are active, may still renew the profile and still want it on that
channel; one to the organization's Slack, while the organization has a
Slack webhook. A retry may come hours after the scan; a renewal during the
batch's few seconds no longer stops its notice.
"""
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import or_
from sqlmodel import select

from portal.models import (
    Credential,
    Delivery,
    Membership,
    Notification,
    NotificationPreference,
    Organization,
    ProfileAccess,
    SocialProfile,
    User,
)
from portal.notifications.rules import PERSONAL_CHANNELS, TOKEN_KINDS, preference_for, still_relevant
from portal.permissions import may_renew


class DeliveryNotice(NamedTuple):
    """What the message of one delivery is made of."""

    notification: Notification
    user: User  # the notice's recipient (for Slack, the first person it was written for)
    profile: SocialProfile
    organization: Organization
    credential: Credential
    status: str  # the delivery's, when the batch read it


def relevant_notices(session, delivery_ids, channel):
    """{delivery id: DeliveryNotice} of the deliveries of `delivery_ids`, all
    on `channel`, whose notice still holds; the others are left out."""
    rows = session.exec(
        select(Delivery.id, Delivery.status, Notification, User, SocialProfile, Organization)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .join(SocialProfile, SocialProfile.id == Notification.profile_id)
        .join(Organization, Organization.id == SocialProfile.organization_id)
        .where(Delivery.id.in_(delivery_ids))
    ).all()
    if not rows:
        return {}
    credentials = current_credentials(session, {profile.id for *_, profile, _ in rows})
    holds = (_person_holds(session, rows, channel) if channel in PERSONAL_CHANNELS
             else lambda user, profile, organization: bool(organization.sealed_slack_webhook_url))
    notices = {}
    for delivery_id, status, notification, user, profile, organization in rows:
        credential = credentials.get(profile.id)
        if still_relevant(notification, credential) and holds(user, profile, organization):
            notices[delivery_id] = DeliveryNotice(notification, user, profile, organization, credential, status)
    return notices


def resolve_renewed(session, profile_id, credential, now):
    """Mark resolved the open token notices of `profile_id` that a renewal
    made moot: those that no longer hold of its current `credential` (a new
    grant, or an end that moved). A refresh that left the end where it was
    resolves nothing. In the caller's transaction."""
    for notification in session.exec(
        select(Notification).where(Notification.profile_id == profile_id, Notification.resolved_at.is_(None),
                                   Notification.kind.in_(TOKEN_KINDS))
    ).all():
        if not still_relevant(notification, credential):
            notification.resolved_at = now
            session.add(notification)


def current_credentials(session, profile_ids):
    """{profile id: its current credential}."""
    credentials = {}
    for credential in session.exec(
        select(Credential)
        .where(Credential.profile_id.in_(profile_ids), Credential.superseded_at.is_(None))
        .order_by(Credential.id)
    ).all():
        credentials.setdefault(credential.profile_id, credential)
    return credentials


def _person_holds(session, rows, channel):
    """Whether a notice's recipient is active, may still renew the profile
    and still wants `channel` for it: read for all `rows` in three queries."""
    user_ids = {user.id for *_, user, _, _ in rows}
    profile_ids = {profile.id for *_, profile, _ in rows}
    organization_ids = {organization.id for *_, organization in rows}
    memberships = {(m.user_id, m.organization_id): m for m in session.exec(
        select(Membership).where(Membership.user_id.in_(user_ids), Membership.organization_id.in_(organization_ids))
    ).all()}
    levels = {(a.user_id, a.profile_id): a.level for a in session.exec(
        select(ProfileAccess).where(ProfileAccess.user_id.in_(user_ids), ProfileAccess.profile_id.in_(profile_ids))
    ).all()}
    preferences = defaultdict(list)
    for preference in session.exec(
        select(NotificationPreference).where(
            NotificationPreference.user_id.in_(user_ids), NotificationPreference.organization_id.in_(organization_ids),
            or_(NotificationPreference.profile_id.is_(None), NotificationPreference.profile_id.in_(profile_ids)))
    ).all():
        preferences[(preference.user_id, preference.organization_id)].append(preference)

    def holds(user, profile, organization):
        return bool(user.active
                    and may_renew(memberships.get((user.id, organization.id)), levels.get((user.id, profile.id)))
                    and getattr(preference_for(preferences[(user.id, organization.id)], profile.id), channel))

    return holds
