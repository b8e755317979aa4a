"""Sign-up: "Create your agency", the emailed confirmation, and the link
that makes the agency. Off (404) unless the SIGNUP setting is `open`."""
from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _

from portal.auth import limits, signup
from portal.auth.forms import ConfirmSignupForm, SignupForm
from portal.auth.link_state import LinkProblem
from portal.auth.views import bp
from portal.auth.views.invitations import browser_locale
from portal.auth.views.login import sign_in, too_many_attempts
from portal.auth.views.resets import link_problem_page
from portal.db import get_session
from portal.queue import enqueue
from portal.web import redirect_after_post, render


@bp.before_request
def signup_is_open():
    if request.endpoint in SIGNUP_PAGES and current_app.config["SIGNUP"] != "open":
        abort(404)


@bp.route("/signup", methods=["GET", "POST"])
def signup_page():
    form = SignupForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/signup.html", form=form, status=400)
        retry_after = limits.count_signup(form.email.data)
        if retry_after:
            return too_many_attempts("auth/signup.html", form, retry_after)
        pending = signup.register(get_session(), form.agency_name.data, form.name.data, form.email.data,
                                  form.password.data, locale=browser_locale())
        # Whether the address has an account is found out by a worker: the
        # answer is the same, and as fast, either way.
        enqueue("jobs.mail.signup_email", pending.id, result_ttl=0, failure_ttl=3600)
        session["signup_email"] = pending.email
        return redirect_after_post(url_for("auth.signup_sent"))
    return render("auth/signup.html", form=form)


@bp.route("/signup/sent")
def signup_sent():
    return render("auth/signup_sent.html", email=session.get("signup_email"))


@bp.route("/signup/confirm/<secret>", methods=["GET", "POST"])
def signup_confirm(secret):
    """Opening the link spends nothing (mail scanners open links too): its button does."""
    db = get_session()
    pending, problem = signup.find_signup(db, secret)
    if problem:
        return link_problem_page("signup", problem)
    form = ConfirmSignupForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            owner = signup.confirm(db, pending)
        except signup.LinkSpent:
            return link_problem_page("signup", LinkProblem.USED)
        except signup.AddressTaken:
            return link_problem_page("signup", "taken", status=409)
        sign_in(owner)
        session.pop("organization_id", None)
        flash(_("Your agency %(name)s is ready. Connect its first social profile.", name=pending.agency_name),
              "success")
        return redirect_after_post(url_for("home.index"))
    return render("auth/signup_confirm.html", form=form, signup=pending,
                  status=400 if request.method == "POST" else 200)


SIGNUP_PAGES = {"auth.signup_page", "auth.signup_sent", "auth.signup_confirm"}
