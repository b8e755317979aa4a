"""A client's consent through an invitation to connect, in their browser:
which invitation this browser uses (and its link, to come back to it), the
callback's answer (on to the choice of profiles, or back to the invitation
with why not), and what the invitation's page says of the last step.

The callback (`portal.callback`) hands a consent started from an
invitation to `finish_consent`; the client's pages (`views.client`) read the
rest from here.
"""
from flask import session, url_for
from flask_babel import force_locale, lazy_gettext as _l

from portal.connect import invitations, service as connecting
from portal.db import get_session
from portal.networks import network

HELD_KEY = "connect_invitation"  # {"id", "secret", "locale"} of the invitation this browser uses
MESSAGE_KEY = "connect_invitation_message"  # how the last step went, for the invitation's page
FAILURES = {
    "denied": _l("You declined the request on %(network)s, so nothing was shared. You can try again."),
    "no_code": _l("%(network)s did not send an answer we can use. Try again."),
    "unavailable": _l("%(network)s is not answering right now. Nothing changed; try again in a few minutes."),
    "refused": _l("%(network)s refused the connection. Try again."),
    "app_settings": _l("%(network)s refused the agency's app settings. Nothing was shared; the agency is told."),
    "no_profiles": _l("The account you signed in with on %(network)s gives access to no profile to share. "
                      "Sign in to %(network)s with the account that manages them."),
    "unverified": _l("This connection could not be verified: it was started in another browser or took too "
                     "long. Nothing was shared. Try again."),
    "not_configured": _l("%(network)s cannot be connected right now. Tell the agency."),
}


def hold(invitation, secret):
    """This browser uses `invitation` (reached through `secret`)."""
    session[HELD_KEY] = {"id": invitation.id, "secret": secret, "locale": invitation.locale}


def held():
    """{"id", "secret", "locale"} of the invitation this browser uses, or {}."""
    return session.get(HELD_KEY) or {}


def let_go():
    session.pop(HELD_KEY, None)


def back_with(message_key, network_key, shared=()):
    """The invitation's page, which will tell how the last step went
    (`shared`: the profiles shared); the lost page in a browser without one."""
    using = held()
    if not using:
        return url_for("connect.client_lost")
    if message_key == "shared":
        session[MESSAGE_KEY] = {"ok": True, "shared": list(shared)}
    else:
        with force_locale(using["locale"]):
            text = str(FAILURES[message_key]) % {"network": network(network_key).label}
        session[MESSAGE_KEY] = {"ok": False, "text": text}
    return url_for("connect.client", secret=using["secret"])


def last_message():
    """How the last step went, once: {"ok", "text"} or {"ok", "shared"}, or None."""
    return session.pop(MESSAGE_KEY, None)


def finish_consent(adapter, record, args):
    """Where the callback of a client's consent leads: the choice of the
    profiles to share, or back to the invitation with why not."""
    invitation = invitations.usable(get_session(), record.invitation_id)
    if held().get("id") != record.invitation_id or invitation is None:
        return back_with("unverified", record.network)
    outcome = connecting.finish(adapter, record, args)
    if not outcome.ok:
        return back_with(outcome.message_key, record.network)
    return url_for("connect.client_choose", pick_id=outcome.pick_id)
