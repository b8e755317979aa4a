"""Credentials in and out of the database: a network's TokenSet sealed into a
Credential row, and back."""
from sqlmodel import select

from portal.audit import audit_in
from portal.crypto import seal, unseal
from portal.db import utcnow
from portal.models import (PAGE_TOKEN, SYSTEM_USER_TOKEN, CanRenew, Credential, CredentialState, NativeRole,
                           RenewalAttempt)
from portal.networks.base import TokenSet
from portal.notifications import outbox, relevance
from portal.versions import changed


def current_credential(session, profile_id, for_update=False):
    query = select(Credential).where(Credential.profile_id == profile_id, Credential.superseded_at.is_(None))
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def token_set(credential):
    """The plaintext tokens of `credential`, for an adapter call only."""
    return TokenSet(
        access_token=unseal(credential.sealed_access_token),
        refresh_token=unseal(credential.sealed_refresh_token),
        expires_at=credential.expires_at,
        refresh_expires_at=credential.refresh_expires_at,
        data_access_expires_at=credential.data_access_expires_at,
        scopes=credential.scopes,
        token_type=credential.token_type,
        issued_at=credential.last_refreshed_at or credential.created_at,
        person_external_id=credential.person_external_id,
    )


def store_grant(session, profile, tokens, granted_by_id=None, now=None):
    """A new consent's tokens become the profile's current credential; the
    previous one is kept as history.

    A network that did not resend a refresh token (Google without
    `prompt=consent`) leaves the previous one in force: losing it would make
    the next silent renewal impossible. A Business Manager system user's
    token and a Facebook Page's token stand alone: nothing the previous
    credential held is kept in them.
    """
    now = now or utcnow()
    previous = current_credential(session, profile.id, for_update=True)
    refresh_token, refresh_expires_at = tokens.refresh_token, tokens.refresh_expires_at
    if previous is not None:
        carried = refresh_token is None and tokens.token_type not in (SYSTEM_USER_TOKEN, PAGE_TOKEN)
        if carried and previous.sealed_refresh_token and not previous.is_invalid:
            refresh_token = unseal(previous.sealed_refresh_token)
            refresh_expires_at = previous.refresh_expires_at
        previous.superseded_at = now
        session.add(previous)
        session.flush()  # the partial unique index admits one current credential
    credential = Credential(
        profile_id=profile.id,
        sealed_access_token=seal(tokens.access_token),
        sealed_refresh_token=seal(refresh_token),
        token_type=tokens.token_type,
        scopes=tokens.scopes,
        expires_at=tokens.expires_at,
        refresh_expires_at=refresh_expires_at,
        data_access_expires_at=tokens.data_access_expires_at,
        granted_by_id=granted_by_id,
        person_external_id=tokens.person_external_id,
        created_at=now,
        last_refreshed_at=now,
        last_checked_at=now,
        last_check_ok=True,
    )
    session.add(credential)
    session.flush()
    changed(session, organization_id=profile.organization_id)
    relevance.resolve_renewed(session, profile.id, credential, now)
    return credential


def apply_refresh(session, credential, tokens, now=None):
    """A silent renewal's tokens replace the current ones in place."""
    now = now or utcnow()
    credential.sealed_access_token = seal(tokens.access_token)
    credential.sealed_refresh_token = seal(tokens.refresh_token)
    credential.expires_at = tokens.expires_at
    credential.refresh_expires_at = tokens.refresh_expires_at
    if tokens.data_access_expires_at is not None:
        credential.data_access_expires_at = tokens.data_access_expires_at
    if tokens.scopes:
        credential.scopes = tokens.scopes
    credential.last_refreshed_at = now
    credential.last_checked_at = now
    credential.last_check_ok = True
    credential.version += 1
    session.add(credential)
    changed(session, profile_id=credential.profile_id)
    relevance.resolve_renewed(session, credential.profile_id, credential, now)


def mark_invalid(session, credential, reason, now=None):
    credential.status = CredentialState.INVALID
    credential.invalid_reason = reason
    credential.invalidated_at = now or utcnow()
    credential.last_check_ok = False
    credential.version += 1
    session.add(credential)
    changed(session, profile_id=credential.profile_id)


def record_native_role(session, profile_id, user_id, role, can_renew, now=None):
    """What the network said of a person's rights on a profile when they consented."""
    row = session.exec(
        select(NativeRole).where(NativeRole.profile_id == profile_id, NativeRole.user_id == user_id)
    ).first() or NativeRole(profile_id=profile_id, user_id=user_id)
    row.role = role or ""
    row.can_renew = can_renew if can_renew in CanRenew.__members__.values() else CanRenew.UNKNOWN
    row.observed_at = now or utcnow()
    session.add(row)


def record_attempt(session, profile, mode, outcome, credential=None, user_id=None, reason=None, detail=None,
                   started_at=None, audited=True):
    """The renewal attempt, its audit event and its webhook events (sent once
    the caller's transaction commits), written in the caller's transaction.
    Not `audited`: a client's link renews, whose own event tells it
    (`link.renewed`, `link.renewal_failed`)."""
    now = utcnow()
    attempt = RenewalAttempt(
        profile_id=profile.id,
        credential_id=credential.id if credential is not None else None,
        user_id=user_id,
        mode=mode,
        outcome=outcome,
        reason=reason,
        detail=detail,
        started_at=started_at or now,
        finished_at=now,
    )
    session.add(attempt)
    changed(session, organization_id=profile.organization_id)  # "Last renewed", and the profile's history
    if audited:
        audit_in(session, "token.renewed" if outcome == "renewed" else (
                     "token.refreshed" if outcome == "refreshed" else "token.failed"),
                 organization_id=profile.organization_id, profile=profile, user_id=user_id, mode=mode, reason=reason)
    outbox.renewal_event(session, profile, attempt)
