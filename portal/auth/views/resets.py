"""Password reset pages: ask for a link, then set a new password with it."""
from flask import flash, request, url_for
from flask_babel import gettext as _

from portal.auth import limits, resets
from portal.auth.forms import NewPasswordForm, ResetRequestForm
from portal.auth.link_state import HTTP_STATUS, LinkProblem
from portal.auth.views import bp
from portal.auth.views.login import sign_in, too_many_attempts
from portal.db import get_session
from portal.models import User
from portal.queue import enqueue
from portal.web import redirect_after_post, render


def link_problem_page(kind, problem, status=None):
    return render("auth/link_problem.html", kind=kind, problem=str(problem), status=status or HTTP_STATUS[problem])


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/reset_request.html", form=form, status=400)
        retry_after = limits.count_reset_request(form.email.data)
        if retry_after:
            return too_many_attempts("auth/reset_request.html", ResetRequestForm(), retry_after)
        # Whether an account has the address is found out by a worker: known or
        # not, this request takes the same time.
        enqueue("jobs.mail.password_reset", form.email.data, result_ttl=0, failure_ttl=3600)
        return redirect_after_post(url_for("auth.reset_sent"))
    return render("auth/reset_request.html", form=form)


@bp.route("/reset/sent")
def reset_sent():
    # The same answer whether or not an account has the address.
    return render("auth/reset_sent.html")


@bp.route("/reset/<secret>", methods=["GET", "POST"])
def reset_password(secret):
    reset, problem = resets.find_reset(get_session(), secret)
    if problem:
        return link_problem_page("reset", problem)
    form = NewPasswordForm()
    # A link of `create-agency` sets an Owner's first password.
    first_password = get_session().get(User, reset.user_id).password_hash is None
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/reset_password.html", form=form, first_password=first_password, status=400)
        try:
            user = resets.complete_reset(get_session(), reset, form.password.data)
        except resets.LinkSpent:
            return link_problem_page("reset", LinkProblem.USED)
        sign_in(user)
        if first_password:
            flash(_("Your password is set. Welcome to Keepalive."), "success")
        else:
            flash(_("Your password is changed. Any other session of yours has been signed out."), "success")
        return redirect_after_post(url_for("home.index"))
    return render("auth/reset_password.html", form=form, first_password=first_password)
