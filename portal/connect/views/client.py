"""The client's pages of an invitation to connect: no account, nothing of
the agency's portal. The invitation (which agency, who asks, which
networks), each network's consent, the choice of the profiles to share, and
a thank-you page, in the language the agency chose for them. A consent, and
the choice after it, are this browser's only (`client_consent`)."""
from flask import abort, redirect, request, session, url_for
from flask_babel import force_locale, gettext as _

from portal import attempts
from portal.connect import client_consent, invitations, picks, rules, service as connecting
from portal.connect.views import bp
from portal.connect.views.choose import CHOICE_ERRORS, choice_problem, picker_context, save_choice
from portal.db import get_session
from portal.networks import NotConfigured, adapter_for, network
from portal.paging import page_number, search_text
from portal.web import render

THANKS_KEY = "connect_invitation_thanks"  # the agency's name and what was shared, for the last page

def client_page(template, locale, status=200, **context):
    with force_locale(locale):
        return render(template, status=status, **context)


def problem_page(problem, locale="en", status=None):
    return client_page("connect/client_problem.html", locale, problem=str(problem),
                       status=status or rules.HTTP_STATUS.get(problem, 404))


def usable_or_problem(secret):
    """The invitation of `secret` and its agency, or the page saying why not."""
    invitation, organization, problem = invitations.find(get_session(), secret)
    if problem:
        abort(problem_page(problem, invitation.locale if invitation else "en"))
    return invitation, organization


@bp.route("/connect/<secret>")
def client(secret):
    invitation, organization = usable_or_problem(secret)
    client_consent.hold(invitation, secret)
    return client_page("connect/client.html", invitation.locale, invitation=invitation, organization=organization,
                       inviter=invitations.inviter_of(get_session(), invitation), secret=secret,
                       message=client_consent.last_message(), to_connect=rules.still_to_connect(invitation))


@bp.route("/connect/<secret>/networks/<network_key>", methods=["POST"])
def client_start(secret, network_key):
    """To the network's consent; its callback leads to the choice of profiles to share."""
    invitation, organization = usable_or_problem(secret)
    if network_key not in invitation.network_keys:
        abort(404)
    client_consent.hold(invitation, secret)
    retry_after = attempts.count(f"{rules.CONSENTS_PER_HOUR} per hour", "connect-consents", invitation.id)
    if retry_after:
        response = problem_page("too_many_attempts", invitation.locale, status=429)
        response.headers["Retry-After"] = str(retry_after)
        return response
    try:
        adapter = adapter_for(network_key)
    except NotConfigured:
        return redirect(client_consent.back_with("not_configured", network_key), 303)
    url = connecting.start(adapter, network_key, organization.id, url_for("connect.client", secret=secret),
                           invitation_id=invitation.id)
    return redirect(url, 303)


def clients_pick(pick_id):
    """The pick of this browser's invitation, with the invitation; else the page saying why not."""
    using = client_consent.held()
    pick = picks.find(pick_id)
    if pick is None or pick.invitation_id is None or pick.invitation_id != using.get("id"):
        abort(problem_page("no_choice", using.get("locale", "en")))
    invitation = invitations.usable(get_session(), pick.invitation_id)
    if invitation is None:
        abort(problem_page("unknown", using.get("locale", "en")))
    return pick, invitation


@bp.route("/connect/choose/<pick_id>", methods=["GET", "POST"])
def client_choose(pick_id):
    pick, invitation = clients_pick(pick_id)
    if request.method == "GET":
        return client_page("connect/client_choose.html", invitation.locale, invitation=invitation,
                           **picker_context(pick, search_text(request.args), page_number(request.args.get("page"))))
    text, number, go = save_choice(pick, request.form)
    pick.brand = pick.new_brand = ""  # the invitation's brand, not the client's choice
    problem = choice_problem(pick) if go == "connect" else None
    if go != "connect" or problem:
        picks.keep(pick)
    if problem:
        with force_locale(invitation.locale):
            error = str(CHOICE_ERRORS[problem])
        return client_page("connect/client_choose.html", invitation.locale, status=400, invitation=invitation,
                           **picker_context(pick, text, number, error=error))
    if go != "connect":
        return redirect(url_for("connect.client_choose", pick_id=pick.id, q=text or None,
                                page=number if number > 1 else None), 303)
    db = get_session()
    made = connecting.connect(pick, invitations.brand_of(db, invitation), client=invitation.email)
    invitations.connected(db, invitation, pick.network, made)
    picks.forget(pick.id)
    if invitation.used_at is not None:  # every network asked for is connected
        return thanks_after(invitation)
    return redirect(client_consent.back_with("shared", pick.network, [profile.name for profile in made]), 303)


@bp.route("/connect/<secret>/done", methods=["POST"])
def client_done(secret):
    invitation, _organization = usable_or_problem(secret)
    invitations.finish(get_session(), invitation)
    return thanks_after(invitation)


def thanks_after(invitation):
    session[THANKS_KEY] = {"agency": invitations.organization_of(get_session(), invitation).name,
                           "locale": invitation.locale,
                           "networks": [network(key).label for key in invitation.connected_keys]}
    client_consent.let_go()
    return redirect(url_for("connect.client_thanks"), 303)


@bp.route("/connect/thanks")
def client_thanks():
    thanks = session.get(THANKS_KEY)
    if not thanks:
        return problem_page("no_choice")
    return client_page("connect/client_thanks.html", thanks["locale"], agency=thanks["agency"],
                       networks=thanks["networks"])


@bp.route("/connect/lost")
def client_lost():
    """A consent that came back to a browser that is not using an invitation."""
    return problem_page("unverified", status=400)


@bp.app_template_global()
def client_message(message):
    """The words of the last step on the invitation's page."""
    if not message:
        return ""
    if message.get("ok"):
        return _("Shared: %(names)s.", names=", ".join(message["shared"])) if message["shared"] else _(
            "Nothing was shared: every profile chosen is connected already.")
    return message["text"]
