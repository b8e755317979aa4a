from flask import after_this_request, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, logout_user
from sqlmodel import select

from portal.audit import audit_in
from portal.auth import find_user_by_email, limits, sessions
from portal.auth.forms import LoginForm
from portal.auth.passwords import spend_verify_time, verify_password
from portal.auth.views import bp
from portal.db import get_session, utcnow
from portal.models import Membership
from portal.notifications.login_warning import remember_after_sign_in
from portal.web import redirect_after_post, render, safe_next


def sign_in(user, remember=False):
    """A fresh session for `user`: nothing from before sign-in is carried over."""
    session.clear()
    sessions.begin(user, remember=remember)
    remember_after_sign_in()  # the next page may warn of tokens at risk
    user.last_login_at = utcnow()
    get_session().add(user)
    record_sign_in(get_session(), user)
    get_session().commit()
    after_this_request(lambda response: limits.mark_browser_known(response, user.email))


def record_sign_in(db, user):
    """A sign-in opens every organization of the person: each one's activity
    log records it, and a person of none has it recorded as personal."""
    organizations = db.exec(select(Membership.organization_id).where(Membership.user_id == user.id)).all()
    for organization_id in organizations or [None]:
        audit_in(db, "auth.signed_in", organization_id=organization_id, user=user)


def too_many_attempts(template, form, retry_after):
    """The page itself, with the refusal on it."""
    response = render(template, form=form, refused=True, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render("auth/login.html", form=form, status=400)
        attempt = limits.SignInAttempt(form.email.data)
        if attempt.retry_after:
            return too_many_attempts("auth/login.html", LoginForm(), attempt.retry_after)
        user = find_user_by_email(form.email.data)
        if user is None:
            spend_verify_time(form.password.data)
        if user is None or not user.active or not verify_password(user, form.password.data):
            form.password.errors.append(_("That email and password do not match an account."))
            return render("auth/login.html", form=form, status=401)
        attempt.succeeded()
        sign_in(user, remember=form.remember.data)
        return redirect_after_post(safe_next(request.args.get("next"), url_for("home.index")))
    return render("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end(session.get("_user_id"))
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect_after_post(url_for("auth.login"))
