from flask import flash, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from portal.auth import bp, find_user_by_email
from portal.auth.forms import LoginForm
from portal.auth.passwords import verify_password
from portal.db import get_session, utcnow
from portal.web import redirect_after_post, safe_next


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("auth/login.html", form=form), 400
        user = find_user_by_email(form.email.data)
        if user is None or not user.active or not verify_password(user, form.password.data):
            form.password.errors.append(_("That email and password do not match an account."))
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a new session on sign-in: nothing carried over from before
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        get_session().add(user)
        get_session().commit()
        return redirect_after_post(safe_next(request.args.get("next"), url_for("home.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect_after_post(url_for("auth.login"))
