"""Silent renewal: one credential at a time, never two refreshes at once.

Networks that rotate refresh tokens (X, TikTok, Pinterest) kill a grant
whose spent refresh token is used again, so refreshes of one credential are
serialized by a database lock held across the network call (a row lock on
PostgreSQL, the write lock on SQLite), the credential is read again after
the lock is taken, and the new tokens are stored in the same transaction.
"""
from dataclasses import dataclass

from portal import app_settings
from portal.db import locked_session, utcnow
from portal.models import SocialProfile
from portal.models import InvalidReason
from portal.networks.outcomes import (
    AppSettingsRefused,
    NetworkError,
    NotYetRefreshable,
    PermissionMissing,
    RenewNeeded,
    Transient,
)
from portal.renewal.credentials import (
    apply_refresh,
    current_credential,
    mark_invalid,
    record_attempt,
    token_set,
)
from portal.renewal.policy import policy_for
from portal.renewal.rules import can_renew_silently, end_moved, refresh_due
from portal.status import effective_expiry


class RecheckLater(Transient):
    """The network's answer must be confirmed a little later before a token is flagged."""


# How much later: one more try, with `second_look=True`.
SECOND_LOOK_SECONDS = 10


class Result:
    RENEWED = "renewed"
    # The access token was refreshed but the connection's end did not move
    # (`rules.end_moved`): only the network's consent renews it.
    REFRESHED = "refreshed"
    ALREADY_RENEWED = "already_renewed"  # another worker did it meanwhile
    NOT_DUE = "not_due"
    NOT_YET = "not_yet"  # the network refuses until a later time (not_before)
    NEEDS_CONSENT = "needs_consent"  # a person must consent again
    FAILED = "failed"  # an answer no rule knows: nothing flagged, worth a look
    APP_SETTINGS = "app_settings"  # the network refused the app's own settings: nothing flagged, Owners told
    INVALID = "invalid"  # the network said the grant is dead: now marked
    NO_CREDENTIAL = "no_credential"


@dataclass(frozen=True)
class Outcome:
    result: str
    reason: str | None = None
    not_before: object = None
    credential_id: int | None = None
    ends_at: object = None  # the effective end after a refresh

    @property
    def renewed(self):
        return self.result in (Result.RENEWED, Result.ALREADY_RENEWED)


def renew_silently(profile_id, adapter, seen_version=None, force=False, user_id=None, second_look=False):
    """Renew the current credential of `profile_id` without a person.

    `force` renews now (a person pressed Renew); otherwise only what the
    proactive rule finds due. `seen_version` is the version the caller saw:
    if the credential moved on since, someone else renewed it and nothing is
    sent. Transient failures propagate (`Transient`) with nothing changed, for
    the caller to retry later; `RecheckLater` asks for one more try with
    `second_look=True` before a doubtful answer may flag the token.
    """
    started = utcnow()
    with locked_session() as session:
        credential = current_credential(session, profile_id, for_update=True)
        if credential is None:
            return Outcome(Result.NO_CREDENTIAL)
        profile = session.get(SocialProfile, profile_id)
        if seen_version is not None and credential.version != seen_version:
            return Outcome(Result.ALREADY_RENEWED, credential_id=credential.id)
        policy = policy_for(adapter)
        if not can_renew_silently(credential, policy):
            return Outcome(Result.NEEDS_CONSENT, reason=credential.invalid_reason, credential_id=credential.id)
        if not force:
            due = refresh_due(credential, policy, started)
            if not due:
                result = Result.NOT_YET if due.not_before else Result.NOT_DUE
                return Outcome(result, not_before=due.not_before, credential_id=credential.id)
        try:
            tokens = adapter.refresh(token_set(credential))
        except NotYetRefreshable as error:
            return Outcome(Result.NOT_YET, not_before=error.not_before, credential_id=credential.id)
        except RenewNeeded as error:
            if error.recheck and not second_look:
                # LinkedIn answers "revoked" for fresh tokens too: only a
                # second answer, a little later, may mark the token dead.
                raise RecheckLater(error.detail) from error
            reason, detail = error.reason, error.detail
        except PermissionMissing as error:
            reason, detail = InvalidReason.PERMISSION_REVOKED, error.detail
        except Transient:
            raise
        except AppSettingsRefused as error:
            record_attempt(session, profile, "silent", "failed", credential, user_id, Result.APP_SETTINGS,
                           error.detail, started)
            session.commit()
            app_settings.report(profile.network, error.detail)
            return Outcome(Result.APP_SETTINGS, reason=Result.APP_SETTINGS, credential_id=credential.id)
        except NetworkError as error:
            # Not a verdict on the token (a changed API, a misconfigured
            # client, a Page token without its user token): keep it as it is.
            record_attempt(session, profile, "silent", "failed", credential, user_id, "unexpected",
                           error.detail, started)
            session.commit()
            return Outcome(Result.FAILED, reason="unexpected", credential_id=credential.id)
        else:
            before = effective_expiry(credential)
            apply_refresh(session, credential, tokens)
            ends_at = effective_expiry(credential)
            result = Result.RENEWED if end_moved(before, ends_at) else Result.REFRESHED
            record_attempt(session, profile, "silent", result, credential, user_id, started_at=started)
            session.commit()
            app_settings.accepted(profile.network)
            return Outcome(result, credential_id=credential.id, ends_at=ends_at)
        mark_invalid(session, credential, reason)
        record_attempt(session, profile, "silent", "failed", credential, user_id, reason, detail, started)
        session.commit()
        return Outcome(Result.INVALID, reason=reason, credential_id=credential.id)
