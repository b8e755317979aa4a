"""The invitation link: join an organization, with a new account or an existing one."""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth import invitations
from portal.auth.forms import AcceptInvitationForm, NewAccountForm
from portal.auth.link_state import LinkProblem
from portal.auth.views import bp
from portal.auth.views.login import sign_in
from portal.auth.views.resets import link_problem_page
from portal.db import get_session
from portal.web import redirect_after_post, render


def _enter(organization):
    """Work in the organization just joined."""
    session["organization_id"] = organization.id
    session.pop("brand_id", None)
    flash(_("Welcome to %(organization)s.", organization=organization.name), "success")
    return redirect_after_post(url_for("home.index"))


def browser_locale():
    locale = get_locale()
    return str(locale) if locale and str(locale) in current_app.config["LANGUAGES"] else None


@bp.route("/invitations/<secret>", methods=["GET", "POST"])
def invitation(secret):
    db = get_session()
    invitation, organization, problem = invitations.find_invitation(db, secret)
    if problem:
        return link_problem_page("invitation", problem)
    user = invitations.invited_user(db, invitation)
    page = {"invitation": invitation, "organization": organization}

    if user is None:
        form = NewAccountForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                return render("auth/invitation.html", form=form, new_account=True, status=400, **page)
            try:
                user = invitations.accept_as_new_user(
                    db, invitation, form.name.data, form.password.data, locale=browser_locale()
                )
            except invitations.LinkSpent:
                return link_problem_page("invitation", LinkProblem.USED)
            except IntegrityError:
                # The address got an account meanwhile: accept as that account instead.
                db.rollback()
                return redirect_after_post(url_for("auth.invitation", secret=secret))
            sign_in(user)
            return _enter(organization)
        return render("auth/invitation.html", form=form, new_account=True, **page)

    if not (current_user.is_authenticated and current_user.id == user.id):
        flash(_("Sign in as %(email)s to accept this invitation.", email=invitation.email), "info")
        target = url_for("auth.login", next=url_for("auth.invitation", secret=secret))
        return redirect_after_post(target) if request.method == "POST" else redirect(target)

    form = AcceptInvitationForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/invitation.html", form=form, new_account=False, status=400, **page)
        try:
            invitations.accept_as_member(db, invitation, user)
        except invitations.LinkSpent:
            return link_problem_page("invitation", LinkProblem.USED)
        return _enter(organization)
    return render("auth/invitation.html", form=form, new_account=False, **page)
