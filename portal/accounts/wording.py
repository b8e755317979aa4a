"""Words for what the token-health pages show: why someone may not renew,
why a renewal failed, what stops while a token is expired."""
from flask_babel import lazy_gettext as _l

from portal import app_settings
from portal.activity.vocabulary import MODES
from portal.models import InvalidReason
from portal.networks import network
from portal.templating import format_date

REFUSALS = {
    "not_a_member": _l("You are not a member of this organization."),
    "no_manage_profiles": _l("You may not renew tokens: ask an Owner or Manager for "
                             "\"Manage social profiles\"."),
    "not_profile_admin": _l("You may not renew this token: it needs the Admin level on this profile."),
}

# Why a system user's token was refused (`portal.renewal.system_user.adopt`).
SYSTEM_USER_REFUSED = {
    "empty": _l("Paste the token Business Manager generated for the system user."),
    "not_system_user": _l("That is not a system user's token of this app. In Business Manager, generate the token "
                          "for a system user, with this app."),
    "invalid": _l("%(network)s says this token is no longer valid. Generate a new one in Business Manager."),
    "no_access": _l("%(network)s does not let this system user reach %(name)s. In Business Manager, assign "
                    "%(name)s to the system user, then try again."),
    "unavailable": _l("%(network)s is not answering right now. Nothing changed; try again in a few minutes."),
    "app_settings": app_settings.REFUSED,
}

FAILURES = {
    "unavailable": _l("{network} is not answering right now; try again in a few minutes."),
    "insufficient_permission": _l("The account on {network} lacks the rights to renew it."),
    "refused": _l("{network} refused the renewal."),
    "wrong_account": _l("The account on {network} does not manage this profile."),
    "not_yet": _l("{network} does not allow renewing it yet; Keepalive tries again later."),
    "app_settings": _l("{network} refused Keepalive's own app settings; the token is unchanged and the Owners "
                       "are told."),
    InvalidReason.EXPIRED: _l("The token had already expired on {network}."),
    InvalidReason.PASSWORD_CHANGED: _l("The password changed on {network}."),
    InvalidReason.PERMISSION_REVOKED: _l("The permission was revoked on {network}."),
    InvalidReason.ROLE_CHANGED: _l("The role changed on {network}."),
    InvalidReason.APP_REMOVED: _l("The app was removed on {network}."),
    InvalidReason.CHECKPOINT: _l("{network} asks the account to sign in again."),
}
UNKNOWN_FAILURE = _l("{network} did not renew it.")

# What stops for a profile while its token is expired (the profile page,
# docs/design.md, "Surfaces").
STOPPED_WHILE_EXPIRED = (
    _l("Publishing: scheduled posts are not published."),
    _l("Inbox: new messages and comments are not synced."),
    _l("Reports: analytics are not collected for the period."),
)

ATTEMPT_MODES = MODES


# A silent refresh that could not move the connection's end (a refresh
# token that itself ends soon, Meta's end of data access).
REFRESHED = _l("Access refreshed, but the connection still ends on %(when)s: sign in again on %(network)s.")
REFRESHED_UNDATED = _l("Access refreshed, but the connection did not get longer: sign in again on %(network)s.")


def refreshed_text(network_key, ends_at):
    label = network(network_key).label
    if ends_at is None:
        return str(REFRESHED_UNDATED) % {"network": label}
    return str(REFRESHED) % {"network": label, "when": format_date(ends_at)}


def refusal_text(reason):
    return str(REFUSALS.get(reason, REFUSALS["not_a_member"]))


def failure_text(reason, network_key):
    return str(FAILURES.get(reason, UNKNOWN_FAILURE)).format(network=network(network_key).label)


def data_deletion_deadline(row):
    """When the network deletes a profile's data if nobody renews (YouTube: 7
    days after the token stopped working, or will stop). None for networks
    that keep it."""
    keeps_for = network(row.profile.network).deletes_data_after
    if keeps_for is None:
        return None
    credential = row.credential
    since = row.status.effective_expiry
    if credential is not None and credential.is_invalid and credential.invalidated_at is not None:
        since = credential.invalidated_at
    return since + keeps_for if since else None
