"""Health checks: ask the network whether a token still works."""
from portal import app_settings
from portal.db import locked_session, utcnow
from portal.models import InvalidReason, SocialProfile
from portal.networks.outcomes import AccessTokenRejected, AppSettingsRefused, PermissionMissing, RenewNeeded
from portal.renewal.credentials import apply_refresh, current_credential, mark_invalid, record_attempt, token_set
from portal.renewal.rules import end_moved
from portal.renewal.silent import RecheckLater
from portal.status import effective_expiry
from portal.versions import changed


def check_credential(profile_id, adapter, second_look=False):
    """"ok", "invalid", "renewed" (a refused access token was refreshed and
    the fresh one works; "refreshed" when that left the connection's end where
    it was), or "app_settings" (the network refused the app's own
    settings: nothing changed, the Owners are told). Transient failures
    propagate with nothing changed."""
    now = utcnow()
    with locked_session() as session:
        credential = current_credential(session, profile_id, for_update=True)
        if credential is None or credential.is_invalid:
            return "skipped"
        profile = session.get(SocialProfile, profile_id)
        tokens = token_set(credential)
        outcome = "ok"
        try:
            try:
                validation = adapter.validate(tokens)
            except AccessTokenRejected:
                if not credential.can_refresh_silently:
                    raise
                tokens = adapter.refresh(tokens)
                before = effective_expiry(credential)
                apply_refresh(session, credential, tokens, now)
                outcome = "renewed" if end_moved(before, effective_expiry(credential)) else "refreshed"
                validation = adapter.validate(tokens, after_refresh=True)
        except RenewNeeded as error:
            if error.recheck and not second_look:
                raise RecheckLater(error.detail) from error
            mark_invalid(session, credential, error.reason, now)
            record_attempt(session, profile, "health_check", "failed", credential, reason=error.reason,
                           detail=error.detail)
            session.commit()
            return "invalid"
        except AppSettingsRefused as error:
            session.commit()  # keeps a refresh that went through: its spent refresh token is gone
            app_settings.report(profile.network, error.detail)
            return "app_settings"
        except PermissionMissing as error:
            mark_invalid(session, credential, InvalidReason.PERMISSION_REVOKED, now)
            record_attempt(session, profile, "health_check", "failed", credential,
                           reason=InvalidReason.PERMISSION_REVOKED, detail=error.detail)
            session.commit()
            return "invalid"
        if outcome != "ok":  # the refreshed access token is an attempt too: the profile's page says so
            record_attempt(session, profile, "health_check", outcome, credential, started_at=now)
        shown = (credential.last_check_ok, credential.expires_at, credential.data_access_expires_at)
        credential.last_checked_at = now
        credential.last_check_ok = True
        if validation.expires_at is not None and not credential.can_refresh_silently:
            credential.expires_at = validation.expires_at
        if validation.data_access_expires_at is not None:
            credential.data_access_expires_at = validation.data_access_expires_at
        session.add(credential)
        if shown != (credential.last_check_ok, credential.expires_at, credential.data_access_expires_at):
            changed(session, profile_id=credential.profile_id)
        session.commit()
        app_settings.accepted(profile.network)
        return outcome
