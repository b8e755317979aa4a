from flask import flash, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from portal.auth import bp, find_user_by_email, limits
from portal.auth.forms import LoginForm, ResetRequestForm
from portal.auth.passwords import spend_verify_time, verify_password
from portal.db import get_session, utcnow
from portal.extensions import limiter
from portal.notifications.login_warning import remember_after_sign_in
from portal.web import redirect_after_post, render, safe_next


def sign_in(user, remember=False):
    """A fresh session for `user`: nothing from before sign-in is carried over."""
    session.clear()
    login_user(user, remember=remember)
    remember_after_sign_in()  # the next page may warn of tokens at risk
    user.last_login_at = utcnow()
    get_session().add(user)
    get_session().commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limits.attempts_per_minute, key_func=limits.by_address, methods=["POST"],
               deduct_when=limits.failed_sign_in)
@limiter.limit(limits.attempts_per_minute, key_func=limits.by_account, methods=["POST"],
               deduct_when=limits.failed_sign_in)
def login():
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/login.html", form=form, status=400)
        user = find_user_by_email(form.email.data)
        if user is None:
            spend_verify_time(form.password.data)
        if user is None or not user.active or not verify_password(user, form.password.data):
            form.password.errors.append(_("That email and password do not match an account."))
            return render("auth/login.html", form=form, status=401)
        sign_in(user, remember=form.remember.data)
        return redirect_after_post(safe_next(request.args.get("next"), url_for("home.index")))
    return render("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect_after_post(url_for("auth.login"))


@bp.errorhandler(429)
def too_many_attempts(error):
    """On the sign-in page, the refusal is shown on the page itself."""
    if request.endpoint == "auth.login":
        return render("auth/login.html", form=LoginForm(), refused=True, status=429)
    if request.endpoint == "auth.reset_request":
        return render("auth/reset_request.html", form=ResetRequestForm(), refused=True, status=429)
    return render_template("error.html", status=429, error=error, message_key="too_many_requests"), 429


@bp.after_request
def keep_secrets_out_of_referers(response):
    # Pages whose URL carries a one-time secret must not leak it to other sites.
    if request.endpoint in {"auth.reset_password", "auth.invitation"}:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
