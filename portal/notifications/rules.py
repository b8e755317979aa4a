"""Pure rules of token notices: which threshold a credential has crossed,
who may hear about it, on which channels, and the unique key of each notice.

Nothing here touches the database, Flask or the queue: callers pass rows in.
"""
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.permissions import may_renew
from portal.status import effective_expiry, ended_at, whole_days

# Channels a person can choose; in-app notices are always written besides.
CHANNELS = ("email", "push", "slack")
# Channels that reach one person each; Slack goes once per notice to the
# organization's channel (when it has one), whoever would have read it.
PERSONAL_CHANNELS = ("email", "push")

KIND_EXPIRING = "expiring"  # a threshold before expiry
KIND_EXPIRED = "expired"  # threshold 0: at expiry
KIND_INVALID = "invalid"  # rejected by the network before its time
# In-app only: how a client's renewal through a renewal link went.
KIND_LINK_RENEWED = "link_renewed"
KIND_LINK_FAILED = "link_failed"
KIND_LINK_UNSENT = "link_unsent"  # the email with a client's renewal link could not be sent
# In-app only: a client connected profiles through an invitation to connect.
KIND_CLIENT_CONNECTED = "client_connected"
# The notices that speak of a token at risk (the scan's): emailed, pushed,
# sent to Slack and to webhooks, resolved by a renewal.
TOKEN_KINDS = (KIND_EXPIRING, KIND_EXPIRED, KIND_INVALID)


@dataclass(frozen=True)
class Notice:
    """What to tell about one credential now."""

    kind: str
    threshold_days: int | None  # None for an invalid credential
    expires_at: datetime | None  # the effective expiry the notice is about

    @property
    def marker(self):
        """The notice's part of a unique key: "t3" (3 days before), "invalid"."""
        return KIND_INVALID if self.kind == KIND_INVALID else f"t{self.threshold_days}"


@dataclass(frozen=True)
class ChannelChoice:
    email: bool = True
    push: bool = False
    slack: bool = False


DEFAULT_CHOICE = ChannelChoice()


def crossed_threshold(expiry, now, thresholds):
    """The most urgent threshold (days before `expiry`) that `now` has
    passed, or None. Only the most urgent one is told: a credential first
    seen 2 days before expiry gets the 3-day notice, not the 7-day one too.
    Threshold 0 is the expiry itself."""
    crossed = [days for days in thresholds if now >= expiry - timedelta(days=days)]
    return min(crossed) if crossed else None


def due_notice(credential, now, thresholds, invalid_since=None, told_dead=False):
    """The notice `credential` is due at `now`, or None.

    An invalid credential is told once (`invalid_since`: only if it became
    invalid after that time, when given), and not at all when its people were
    already told it is dead (`told_dead`: an expired token that a failed
    renewal then marked invalid); otherwise the most urgent crossed threshold
    of its effective expiry. A credential with no expiry is never due.
    """
    expiry = effective_expiry(credential)
    if credential.is_invalid:
        if invalid_since is not None and (credential.invalidated_at is None or credential.invalidated_at < invalid_since):
            return None
        if told_dead:
            return None
        return Notice(KIND_INVALID, None, ended_at(credential, now))
    if expiry is None:
        return None
    threshold = crossed_threshold(expiry, now, thresholds)
    if threshold is None:
        return None
    return Notice(KIND_EXPIRED if threshold == 0 else KIND_EXPIRING, threshold, expiry)


def told_at(kind, expires_at, now):
    """(kind, whole days left) that a notice of `kind` about an end at
    `expires_at` tells at `now`: the real time left, whatever threshold made
    it due (a token first seen 2 days before its end is told "2 days", not the
    3-day threshold's "3"); an end that has come since is told as expired.
    Days are None where there are none to tell."""
    if kind != KIND_EXPIRING or expires_at is None:
        return kind, None
    left = expires_at - now
    if left <= timedelta(0):
        return KIND_EXPIRED, None
    return KIND_EXPIRING, whole_days(left)


def recipients(memberships, access_levels, users):
    """The users who may renew the profile: Owners, Managers, and Members
    with "manage social profiles" and Admin on it; active accounts only.

    `memberships`: the organization's Membership rows; `access_levels`:
    {user_id: level} on the profile; `users`: {user_id: User}.
    """
    chosen = []
    for membership in memberships:
        user = users.get(membership.user_id)
        if user is None or not user.active:
            continue
        if may_renew(membership, access_levels.get(membership.user_id)):
            chosen.append(user)
    return sorted(chosen, key=lambda user: user.id)


def preference_for(preferences, profile_id):
    """A person's channel choice for one profile: the per-profile
    preference overrides the all-profiles one; none at all: the defaults."""
    general = None
    for preference in preferences:
        if preference.profile_id == profile_id:
            return ChannelChoice(preference.email, preference.push, preference.slack)
        if preference.profile_id is None:
            general = preference
    if general is not None:
        return ChannelChoice(general.email, general.push, general.slack)
    return DEFAULT_CHOICE


def channels_for(choice, available=CHANNELS):
    """The channels of `choice` that are switched on, among those `available`."""
    return [channel for channel in available if channel in CHANNELS and getattr(choice, channel)]


def _expiry_part(expiry):
    return str(int(expiry.timestamp())) if expiry is not None else "none"


def notification_key(credential_id, notice, user_id):
    """Unique per credential, effective expiry, threshold (or "invalid") and
    recipient: a renewed credential (new expiry) is a new notice, a repeated
    scan is not."""
    return f"c{credential_id}:{_expiry_part(notice.expires_at)}:{notice.marker}:u{user_id}:app"


def delivery_key(credential_id, notice, user_id, channel):
    return f"c{credential_id}:{_expiry_part(notice.expires_at)}:{notice.marker}:u{user_id}:{channel}"


def organization_delivery_key(credential_id, notice, organization_id, channel):
    """One per notice and organization channel (Slack), not per person."""
    return f"c{credential_id}:{_expiry_part(notice.expires_at)}:{notice.marker}:o{organization_id}:{channel}"


def still_relevant(notification, credential):
    """Whether a notice written earlier still holds when it is sent: the
    credential it spoke of is still the current one, in the same state and
    with the same effective expiry. A renewal in between makes it moot."""
    if credential is None or credential.id != notification.credential_id:
        return False
    if notification.kind == KIND_INVALID:
        return credential.is_invalid
    return not credential.is_invalid and effective_expiry(credential) == notification.expires_at


def failure_kind(error):
    """How an SMTP failure is handled, for the notices and the portal's
    other mail alike: "permanent" (5xx: recorded, never retried),
    "transient" (4xx: retried later on the same connection) or "connection"
    (the connection is gone or silent: retried later). A refused login
    (535) is the relay's settings, not the message: retried like a relay
    that is down, and failed once the tries run out."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return "permanent" if codes and all(500 <= code < 600 for code in codes) else "transient"
    if isinstance(error, (smtplib.SMTPServerDisconnected, smtplib.SMTPAuthenticationError)):
        return "connection"
    if isinstance(error, smtplib.SMTPResponseException):
        if 500 <= error.smtp_code < 600:
            return "permanent"
        if error.smtp_code == 421:  # the server is closing the connection
            return "connection"
        return "transient"
    return "connection"  # OSError, time-out, refused connection, other SMTP trouble
