"""Every code an `AuditEvent` carries: its kind (the log's filter), its label,
and how its values (`AuditEvent.data`) read, in the reader's language.

One line of ACTIONS per code. A code written anywhere (`audit("...")`,
`audit_in(session, "...")`) without its line here fails
tests/test_activity.py; docs/design.md, "The activity log", says how to add
one. Values are words only through the tables below: an email, a name or a
URL is shown as it is, a role, a level, a mode or a reason in words.
"""
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from portal.models import InvalidReason
from portal.templating import ACCESS_LABELS, ROLE_LABELS


class Kind(StrEnum):
    PROFILES = "profiles"
    RENEWALS = "renewals"
    LINKS = "links"
    PEOPLE = "people"
    SIGN_INS = "sign_ins"
    SETTINGS = "settings"
    API = "api"


KINDS = {
    Kind.PROFILES: _l("Profiles connected and removed"),
    Kind.RENEWALS: _l("Renewals"),
    Kind.LINKS: _l("Links to clients"),
    Kind.PEOPLE: _l("Members and roles"),
    Kind.SIGN_INS: _l("Sign-ins"),
    Kind.SETTINGS: _l("Settings"),
    Kind.API: _l("API"),
}

# How a token was renewed or tried (`RenewalAttempt.mode`).
MODES = {
    "silent": _l("Silently"),
    "interactive": _l("With consent"),
    "health_check": _l("Health check"),
    "system_user": _l("System-user token"),
}

# Why a renewal failed: the networks' verdicts (`InvalidReason`), a consent's
# outcome (`portal.renewal.consent`), a silent renewal's (`Result`).
REASONS = {
    InvalidReason.EXPIRED: _l("The token had already expired"),
    InvalidReason.PASSWORD_CHANGED: _l("Password changed at the network"),
    InvalidReason.PERMISSION_REVOKED: _l("Permission revoked at the network"),
    InvalidReason.ROLE_CHANGED: _l("Role changed at the network"),
    InvalidReason.APP_REMOVED: _l("App removed at the network"),
    InvalidReason.CHECKPOINT: _l("The network asks the account to sign in again"),
    InvalidReason.UNKNOWN: _l("Refused by the network"),
    "denied": _l("Consent declined"),
    "no_code": _l("No usable answer from the network"),
    "unavailable": _l("The network was not answering"),
    "refused": _l("The network refused the exchange"),
    "app_settings": _l("The network refused Keepalive's app settings"),
    "wrong_account": _l("Signed in with an account that does not manage the profile"),
    "insufficient_permission": _l("The account lacks the rights at the network"),
    "profile_gone": _l("The profile is no longer connected"),
    "not_allowed": _l("No longer allowed to renew it"),
    "unexpected": _l("An answer of the network Keepalive does not know"),
}
UNKNOWN_REASON = _l("For a reason Keepalive does not know")
# What became of a removed profile's grant at the network (`portal.connect.removal.Revocation`).
REVOCATIONS = {
    "revoked": _l("Its access was revoked at the network"),
    "shared": _l("Its access stays at the network: other profiles of the agency use the same sign-in"),
    "not_offered": _l("The network offers no revocation: only its tokens were deleted"),
    "no_token": _l("It had no token to revoke"),
    "failed": _l("The network did not take its access back: its tokens were deleted all the same"),
}
NO_ACCESS = _l("No access")
SETTINGS = {"language": _l("Language"), "time_zone": _l("Time zone"),
            "notifications": _l("Token expiration notifications")}
ORGANIZATION_FIELDS = {
    "name": _l("Organization name"),
    "expiry_window_days": _l("Expiry window (days)"),
    "notification_thresholds": _l("Notify this many days before expiry"),
}
UNKNOWN_ACTION = _l("Other activity")
# Who did it when no person did: a worker, the scan.
KEEPALIVE = "Keepalive"


def _mode(value):
    return MODES.get(value, value)


def _reason(value):
    return REASONS.get(value, UNKNOWN_REASON)


def _role(value):
    return ROLE_LABELS.get(value, value)


def _level(value):
    return ACCESS_LABELS.get(value) or NO_ACCESS


def _revocation(value):
    return REVOCATIONS.get(value, value)


def _allowed(value):
    return _l("Allowed") if value else _l("Not allowed")


def _organization_changes(data):
    return "; ".join(f"{ORGANIZATION_FIELDS.get(name, name)}: {old} → {new}"
                     for name, (old, new) in data["changes"].items())


def _reported(data):
    """By which key, and what the network said to the agency's tool, if it said."""
    by = str(_l("By the API key %(key)s")) % data
    return f"{by}: {data['said']}" if data.get("said") else by


@dataclass(frozen=True)
class Action:
    kind: Kind
    label: object  # a lazy string
    # How its values read: a %-template of the names in `data` (translated
    # where it holds words), or a function of `data`; None: the label says it all.
    detail: object = None
    words: dict = field(default_factory=dict)  # a value's name -> the function that words it

    def describe(self, data):
        """The values in words, or None when they do not fit the template
        (an event written before its values changed shape)."""
        if self.detail is None:
            return ""
        try:
            if callable(self.detail):
                return self.detail(data)
            return str(self.detail) % {name: self.words[name](value) if name in self.words else value
                                       for name, value in data.items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


P, R, L, M, S, C, A = Kind.PROFILES, Kind.RENEWALS, Kind.LINKS, Kind.PEOPLE, Kind.SIGN_INS, Kind.SETTINGS, Kind.API
ACTIONS = {
    # Profiles
    "profile.connected": Action(P, _l("Profile connected"), _l("Brand: %(brand)s")),
    "profile.removed": Action(P, _l("Profile removed"), "%(revocation)s", {"revocation": _revocation}),
    "brand.profile_enabled": Action(P, _l("Profile added to a brand"), _l("Brand: %(brand)s")),
    "brand.profile_disabled": Action(P, _l("Profile taken out of a brand"), _l("Brand: %(brand)s")),
    # Renewals (`RenewalAttempt`: mode, and the reason of a failure)
    "token.renewed": Action(R, _l("Token renewed"), "%(mode)s", {"mode": _mode}),
    "token.refreshed": Action(R, _l("Access refreshed, the connection's end unchanged"), "%(mode)s",
                              {"mode": _mode}),
    "token.failed": Action(R, _l("Renewal failed"), _l("%(mode)s: %(reason)s"), {"mode": _mode, "reason": _reason}),
    "token.reported": Action(R, _l("Token reported as refused through the API"), _reported),
    # Links to clients
    "link.sent": Action(L, _l("Renewal link sent"), _l("To %(recipient)s")),
    "link.email_failed": Action(L, _l("Renewal link's email not sent"), _l("To %(recipient)s: %(error)s")),
    "link.revoked": Action(L, _l("Renewal link withdrawn"), _l("Sent to %(recipient)s")),
    "link.renewed": Action(L, _l("Token renewed through a client's link"), _l("Link sent to %(recipient)s")),
    "link.renewal_failed": Action(L, _l("Renewal through a client's link failed"),
                                  _l("%(reason)s (link sent to %(recipient)s)"), {"reason": _reason}),
    "connect_invitation.sent": Action(L, _l("Client invited to connect profiles"), _l("To %(email)s")),
    "connect_invitation.used": Action(L, _l("Client connected profiles through an invitation"),
                                      _l("Invitation sent to %(email)s")),
    "connect_invitation.revoked": Action(L, _l("Connect invitation withdrawn"), _l("Sent to %(email)s")),
    "connect_invitation.email_failed": Action(L, _l("Connect invitation's email not sent"),
                                              _l("To %(email)s: %(error)s")),
    # Members and roles
    "invitation.sent": Action(M, _l("Member invited"), _l("%(email)s as %(role)s"), {"role": _role}),
    "invitation.revoked": Action(M, _l("Invitation withdrawn"), "%(email)s"),
    "invitation.email_failed": Action(M, _l("Invitation's email not sent"), _l("To %(email)s: %(error)s")),
    "invitation.accepted": Action(M, _l("Invitation accepted"), _l("%(email)s as %(role)s"), {"role": _role}),
    "member.role_changed": Action(M, _l("Role changed"), "%(email)s: %(old)s → %(new)s", {"old": _role, "new": _role}),
    "member.manage_profiles": Action(M, _l("\"Manage social profiles\" changed"), "%(email)s: %(allowed)s",
                                     {"allowed": _allowed}),
    "member.removed": Action(M, _l("Member removed"), "%(email)s (%(role)s)", {"role": _role}),
    "access.changed": Action(M, _l("Profile access changed"), "%(email)s: %(old)s → %(new)s",
                             {"old": _level, "new": _level}),
    # Sign-ins (one event per organization of the person; docs/design.md)
    "auth.signed_in": Action(S, _l("Signed in")),
    "signup.confirmed": Action(S, _l("Sign-up confirmed")),
    "password.reset": Action(S, _l("Password reset by email")),
    "user.password_changed": Action(S, _l("Password changed")),
    # Settings
    "agency.created": Action(C, _l("Agency created"), "%(name)s"),
    "organization.updated": Action(C, _l("Organization settings changed"), _organization_changes),
    "slack.set": Action(C, _l("Slack connected")),
    "slack.removed": Action(C, _l("Slack disconnected")),
    "webhook.created": Action(C, _l("Webhook added"), "%(url)s"),
    "webhook.updated": Action(C, _l("Webhook changed"), "%(url)s"),
    "webhook.deleted": Action(C, _l("Webhook deleted"), "%(url)s"),
    "brand.created": Action(C, _l("Brand created"), "%(brand)s"),
    "brand.renamed": Action(C, _l("Brand renamed"), "%(old)s → %(new)s"),
    "brand.deleted": Action(C, _l("Brand deleted"), "%(brand)s"),
    "user.settings_changed": Action(C, _l("Personal settings changed"), "%(setting)s",
                                    {"setting": lambda value: SETTINGS.get(value, value)}),
    # The API
    "api_key.created": Action(A, _l("API key created"), "%(name)s (%(prefix)s…)"),
    "api_key.revoked": Action(A, _l("API key revoked"), "%(name)s (%(prefix)s…)"),
    "api_key.used": Action(A, _l("API key used"), _l("%(name)s (%(prefix)s…) from %(address)s")),
}


def label(code):
    """What the event is, in words ("Token renewed")."""
    action = ACTIONS.get(code)
    return str(action.label if action else UNKNOWN_ACTION)


def detail(event):
    """The event's values in words ("With consent"); the free text of an event
    written before its values were kept."""
    action = ACTIONS.get(event.action)
    if action is not None and event.data:
        described = action.describe(event.data)
        if described is not None:
            return str(described)
    return event.detail


def actor(event):
    """Who did it, as they were named then: Keepalive itself when nobody did."""
    return event.actor_name or KEEPALIVE


def codes_of(kind):
    return [code for code, action in ACTIONS.items() if action.kind == kind]
