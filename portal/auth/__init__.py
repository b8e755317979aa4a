"""Signing in and out, invitations and password resets."""
from flask import Blueprint, make_response, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlmodel import select

from portal.auth import sessions
from portal.db import get_session
from portal.models import User
from portal.tenancy import user_and_memberships

bp = Blueprint("auth", __name__)


def init_login(app, login_manager):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id):
        # The id of a server-side session (`portal.auth.sessions`): gone once
        # signed out or idle too long; of an older version after a password change.
        found = sessions.resume(session_id)
        if found is None:
            return None
        user_id, version = found
        user = user_and_memberships(user_id)
        if user is None or user.session_version != version:
            sessions.end(session_id)
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            # Never swap the sign-in page into a fragment: send the browser there.
            response = make_response("", 200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, 303 if request.method != "GET" else 302)


def find_user_by_email(email):
    return get_session().exec(select(User).where(User.email == email.strip().lower())).first()


from portal.auth import invitation_views, reset_views, views  # noqa: E402,F401
