"""Renewal-link pages.

- A member's link (emailed with a notice): sign in, then one profile and
  its Renew Token button.
- A client's link (sent by the agency to the account owner at the client,
  who has no account here): that one profile, the network's consent
  button, and the outcome. These pages show nothing else: no header, no
  other profile, no ids.
"""
from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select
from wtforms import EmailField, SelectField
from wtforms.validators import InputRequired

from portal.audit import audit
from portal.db import get_session, utcnow
from portal.forms import LANGUAGES, EmailAddress, Form
from portal.links import client_consent, rules, service
from portal.links.rules import Purpose
from portal.models import Membership, Organization, ProfileAccess, RenewalLink, SocialProfile
from portal.networks import adapter_for, network
from portal.permissions import may_renew
from portal.renewal.credentials import current_credential
from portal.status import token_status
from portal.tenancy import organization_required
from portal.web import owned_or_404, redirect_after_post, render, safe_next

CLIENT_FAILURES = {
    "denied": _l("You declined the request on %(network)s, so the connection was not renewed. "
                 "Open the link again to retry."),
    "no_code": _l("%(network)s did not send an answer we can use. Open the link again to retry."),
    "unavailable": _l("%(network)s is not answering right now. Nothing changed; open the link again in a few minutes."),
    "refused": _l("%(network)s refused the renewal. Open the link again to retry."),
    "wrong_account": _l("The account you signed in with on %(network)s does not manage %(name)s. "
                        "Sign in to %(network)s with the account that does, then open the link again."),
    "insufficient_permission": _l("Your account on %(network)s lacks the rights to renew %(name)s. "
                                  "Needed: %(permission)s."),
    "profile_gone": _l("This account is no longer connected, so there is nothing to renew."),
    "link_spent": _l("This link can no longer be used: it was used, withdrawn or has expired. "
                     "Nothing was changed. Ask the agency for a new link."),
    "unverified": _l("This renewal could not be verified: it was started in another browser or took too long. "
                     "Nothing was changed. Open the link again."),
}


bp = Blueprint("links", __name__)


def problem_page(problem, client):
    """A clear page for a link that cannot be followed, with its 4xx."""
    template = "links/client_problem.html" if client else "links/member_problem.html"
    return render(template, problem=str(problem), status=rules.HTTP_STATUS[problem])


@bp.before_request
def speak_the_emails_language():
    """A client's pages speak the language their email was written in: its
    link says which (`lang`), and this browser keeps it through the
    network's consent to the page that tells how it went."""
    if request.endpoint in {"links.client", "links.done"}:
        g.page_locale = client_consent.language(request.args.get("lang"), current_app.config["LANGUAGES"])


@bp.after_request
def keep_secrets_out_of_referers(response):
    # These URLs carry a one-time secret: never pass it on to another site.
    if request.endpoint in {"links.member", "links.client", "links.done"}:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


# A member's link ------------------------------------------------------------

@bp.route("/renew/link/<secret>", methods=["GET", "POST"])
@login_required
def member(secret):
    """The profile of an emailed notice and its Renew Token button. Opening the
    link spends nothing (mail scanners and link previewers open links too): the
    button does, by a POST to the link that is then handed on to the renewal."""
    db = get_session()
    link = service.find(db, secret)
    problem = rules.problem(link, Purpose.MEMBER, utcnow())
    if problem:
        return problem_page(problem, client=False)
    if link.recipient.lower() != current_user.email.lower():
        abort(403, description=_("This renewal link was sent to another person. Sign in with the account it was sent to."))
    profile = db.get(SocialProfile, link.profile_id)
    membership = db.exec(
        select(Membership).where(Membership.user_id == current_user.id,
                                 Membership.organization_id == profile.organization_id)
    ).first()
    level = db.exec(
        select(ProfileAccess.level).where(ProfileAccess.user_id == current_user.id,
                                          ProfileAccess.profile_id == profile.id)
    ).first()
    decision = may_renew(membership, level)
    if not decision:
        abort(403, description=_("You can no longer renew this profile. Ask an Owner or Manager of your organization."))
    if request.method != "POST":
        window = db.get(Organization, profile.organization_id).expiry_window_days
        token = token_status(current_credential(db, profile.id), utcnow(), window)
        return render("links/member.html", profile=profile, token=token, secret=secret)
    if not service.spend(db, link.id):
        db.rollback()
        return problem_page(rules.Problem.USED, client=False)
    db.commit()
    # Renewing happens in the profile's organization: work there from now on.
    if session.get("organization_id") != profile.organization_id:
        session["organization_id"] = profile.organization_id
        session.pop("brand_id", None)
    # 307 keeps the method and the form (its CSRF token and `next`): the renewal takes it from here.
    return redirect(url_for("renewal.renew", profile_id=profile.id), 307)


# The agency sends a link to the client ----------------------------------------

class SendLinkForm(Form):
    email = EmailField(_l("Email address of the account owner"), validators=[InputRequired(), EmailAddress()])
    language = SelectField(_l("Language of the email"), choices=LANGUAGES)


def _profile_for_links(profile_id):
    """The profile, if the signed-in user may send and revoke its links (404/403 otherwise)."""
    profile = owned_or_404(SocialProfile, profile_id)
    level = get_session().exec(
        select(ProfileAccess.level).where(ProfileAccess.user_id == current_user.id,
                                          ProfileAccess.profile_id == profile.id)
    ).first()
    if not rules.may_send_link(g.membership, level):
        abort(403, description=_("Only those who may renew this profile send and withdraw its renewal links."))
    return profile


@bp.route("/accounts/<int:profile_id>/send-link", methods=["GET", "POST"])
@login_required
@organization_required
def send(profile_id):
    profile = _profile_for_links(profile_id)
    form = SendLinkForm()
    if request.method == "GET":
        locale = str(get_locale() or "")
        form.language.data = locale if locale in current_app.config["LANGUAGES"] else "en"
    next_url = safe_next(request.values.get("next"), url_for("home.index"))
    page = {"profile": profile, "form": form, "next_url": next_url}
    if request.method == "GET":
        return render("links/send.html", block="dialog", **page)
    if not form.validate_on_submit():
        return render("links/send.html", block="dialog", status=400, **page)
    link = service.send(get_session(), profile, form.email.data, Purpose.CLIENT, g.organization.name,
                        form.language.data, sender=current_user.display_name, created_by_id=current_user.id)
    flash(_("A renewal link for %(name)s is on its way to %(email)s.", name=profile.name, email=link.recipient),
          "success")
    return redirect_after_post(next_url)


@bp.route("/renewal-links/<int:link_id>/revoke", methods=["POST"])
@login_required
@organization_required
def revoke(link_id):
    db = get_session()
    link = db.get(RenewalLink, link_id)
    if link is None:
        abort(404)
    profile = _profile_for_links(link.profile_id)  # 404 outside the current organization
    if service.revoke(db, link):
        audit("link.revoked", profile=profile, recipient=link.recipient)
        flash(_("The renewal link sent to %(email)s no longer works.", email=link.recipient), "success")
    else:
        flash(_("That renewal link was already used or withdrawn."), "info")
    db.commit()
    return redirect_after_post(safe_next(request.form.get("next"), url_for("home.index")))


# The client's pages -------------------------------------------------------------

@bp.route("/renew/client/<secret>", methods=["GET", "POST"])
def client(secret):
    """One profile and the network's consent button; POST goes to the network."""
    db = get_session()
    link = service.find(db, secret)
    problem = rules.problem(link, Purpose.CLIENT, utcnow())
    if problem:
        return problem_page(problem, client=True)
    profile = db.get(SocialProfile, link.profile_id)
    if request.method == "POST":
        retry_after = service.failures_left(link.id)
        if retry_after:
            response = render("links/client_problem.html", problem="too_many_attempts", status=429)
            response.headers["Retry-After"] = str(retry_after)
            return response
        url = client_consent.start_consent(adapter_for(profile.network), profile, link, url_for("links.done"))
        return redirect(url, 303)
    return render("links/client.html", profile=profile,
                  permission=network(profile.network).native_permission)


@bp.route("/renew/client/done")
def done():
    outcome = client_consent.outcome()
    if not outcome:
        return render("links/client_problem.html", problem="no_outcome", status=404)
    label = network(outcome["network"]).label if outcome["network"] else ""
    message = None
    if not outcome["ok"]:
        message = CLIENT_FAILURES.get(outcome["message_key"], CLIENT_FAILURES["refused"]) % {
            "network": label, "name": outcome["name"],
            "permission": network(outcome["network"]).native_permission,
        }
    return render("links/client_done.html", ok=outcome["ok"], name=outcome["name"], network_label=label,
                  message=message)
