"""The networks' callback, `/renew/callback/<network>` (one URI per network)."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal import app_settings
from portal.connect import client_consent as client_connect, service as connecting
from portal.db import writes
from portal.links import client_consent
from portal.networks import NETWORKS, adapter_for, network
from portal.renewal import consent
from portal.web import render, safe_next

bp = Blueprint("callback", __name__)

FAILURES = {
    "denied": _l("You declined the request on %(network)s, so the token of %(name)s was not renewed."),
    "no_code": _l("%(network)s did not send an answer we can use. Try again."),
    "unavailable": _l("%(network)s is not answering right now. Nothing changed; try again in a few minutes."),
    "refused": _l("%(network)s refused the renewal (the request may have been used already). Try again."),
    "app_settings": app_settings.REFUSED,
    "wrong_account": _l("You signed in to %(network)s with an account that does not manage %(name)s. "
                        "Sign in to %(network)s with the right account and try again."),
    "insufficient_permission": _l("Your account on %(network)s lacks the rights to renew %(name)s: %(permission)s."),
    "profile_gone": _l("That profile is no longer connected."),
    "not_allowed": _l("You can no longer renew %(name)s. Ask an Owner or Manager of your organization."),
}
# A consent to connect profiles that did not come back with any.
CONNECT_FAILURES = {
    "denied": _l("You declined the request on %(network)s, so nothing was connected."),
    "refused": _l("%(network)s refused the connection (the request may have been used already). Try again."),
    "no_profiles": _l("The account you signed in with on %(network)s gives access to no profile to connect. "
                      "Sign in to %(network)s with the account that manages the profiles."),
}


@bp.route("/renew/callback/<network_key>")
@writes
def network_callback(network_key):
    """Where every network sends the person back after consent (one URI per network)."""
    if network_key not in NETWORKS:
        abort(404)
    user_id = current_user.id if current_user.is_authenticated else None
    record = consent.take_record(request.args.get("state"), network_key, user_id)
    if record is None:
        # Nothing is stored: an unknown, replayed, expired or foreign state.
        return render("renewal/unverified.html"), 400
    if record.link_id is not None:
        # A client's renewal link: the link's own page shows how it went.
        client_consent.finish_consent(adapter_for(network_key), record, request.args)
        return redirect(url_for("links.done"), 303)
    if record.purpose == consent.CONNECT and record.invitation_id is not None:
        # A client's invitation to connect: on to their choice of profiles, or back to their page.
        return redirect(client_connect.finish_consent(adapter_for(network_key), record, request.args), 303)
    if record.purpose == consent.CONNECT:
        return connected(network_key, record)
    result = consent.complete(adapter_for(network_key), record, request.args)
    label = network(network_key).label
    if result.ok:
        names = ", ".join(p.name for p in result.renewed)
        flash(_("Renewed: %(names)s.", names=names), "success")
    else:
        message = FAILURES[result.message_key] % {
            "network": label,
            "name": result.profile.name if result.profile else "",
            "permission": network(network_key).native_permission,
        }
        if result.could_renew:
            message += " " + _("Who can renew it: %(people)s.", people=", ".join(u.display_name for u in result.could_renew))
        flash(message, "error")
    return redirect(safe_next(result.next_url, url_for("home.index")), 303)


def connected(network_key, record):
    """A consent to connect: on to the choice of the profiles it covers."""
    outcome = connecting.finish(adapter_for(network_key), record, request.args)
    if outcome.ok:
        return redirect(url_for("connect.choose", pick_id=outcome.pick_id), 303)
    template = CONNECT_FAILURES.get(outcome.message_key) or FAILURES[outcome.message_key]
    flash(template % {"network": network(network_key).label, "name": "", "permission": ""}, "error")
    return redirect(safe_next(record.next_url, url_for("connect.index")), 303)
