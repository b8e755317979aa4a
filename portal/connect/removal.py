"""Removing a social profile from the agency.

Its grant is revoked at the network where the network offers revocation and
no other profile of the agency rests on the same grant (a Google consent
that covers several locations; at Meta, the person's authorization of the
app, which every Page and Instagram account they connected rests on); a
revocation refused or unanswered does not keep the profile. Its sealed
tokens are deleted with it, its pending notices and deliveries
cancelled, and it leaves every count. The activity log keeps its history:
events keep the profile's name and network once it is gone
(`portal.audit`), and its removal is one of them.
"""
import logging

from sqlalchemy import update
from sqlmodel import select

from portal.audit import audit
from portal.crypto import InvalidToken
from portal.models import Credential, Delivery, DeliveryStatus, Notification, SocialProfile
from portal.networks import NotConfigured, adapter_for, same_app
from portal.networks.outcomes import NetworkError
from portal.renewal.credentials import current_credential, token_set
from portal.versions import changed

log = logging.getLogger("keepalive.connect")


class Revocation:
    """What became of the grant at the network."""

    REVOKED = "revoked"
    SHARED = "shared"  # another profile of the agency rests on it: kept
    NOT_OFFERED = "not_offered"  # the network offers no revocation
    NO_TOKEN = "no_token"
    FAILED = "failed"  # the network refused or did not answer: the tokens are deleted all the same


def remove(session, profile):
    """Remove `profile` (a row of the current organization); returns how
    its grant fared at the network (a `Revocation` value). Commits."""
    revocation = revoke_at_network(session, profile)
    notices = select(Notification.id).where(Notification.profile_id == profile.id)
    session.exec(update(Delivery).where(Delivery.notification_id.in_(notices),
                                        Delivery.status == DeliveryStatus.PENDING)
                 .values(status=DeliveryStatus.OBSOLETE))
    audit("profile.removed", profile=profile, revocation=revocation)
    changed(session, organization_id=profile.organization_id)
    # Its credentials, notices, brands, accesses, native roles and links go with it (ON DELETE CASCADE).
    session.delete(profile)
    session.commit()
    return revocation


def revoke_at_network(session, profile):
    credential = current_credential(session, profile.id)
    if credential is None:
        return Revocation.NO_TOKEN
    try:
        adapter = adapter_for(profile.network)
    except NotConfigured:
        return Revocation.NOT_OFFERED
    if not adapter.offers_revocation:
        return Revocation.NOT_OFFERED
    try:
        tokens = token_set(credential)
    except InvalidToken:
        return Revocation.NO_TOKEN
    try:
        tokens = adapter.whose(tokens)
        if rests_on_the_same_grant(session, profile, adapter, tokens):
            return Revocation.SHARED
        adapter.revoke(tokens)
    except NetworkError as error:
        log.info("revoking the grant of profile %s at %s failed: %s", profile.id, profile.network, error.detail)
        return Revocation.FAILED
    return Revocation.REVOKED


def rests_on_the_same_grant(session, profile, adapter, tokens):
    """Whether another current credential of the agency, on a network of the
    same app, would end with these tokens' grant (`Adapter.same_grant`: one
    consent that covers several of its profiles, or at Meta one person's
    authorization of the app)."""
    others = session.exec(
        select(Credential)
        .join(SocialProfile, SocialProfile.id == Credential.profile_id)
        .where(SocialProfile.organization_id == profile.organization_id,
               SocialProfile.network.in_(same_app(profile.network)),
               SocialProfile.id != profile.id, Credential.superseded_at.is_(None))
    ).all()
    for other in others:
        try:
            held = token_set(other)
        except InvalidToken:
            continue
        if adapter.same_grant(tokens, held):
            return True
    return False
