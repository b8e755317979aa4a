"""Signing in and out, invitations and password resets: the sign-in wiring
and the services here; the pages in `views` (`portal.auth.views.bp`)."""
from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from htmx_flask import make_response as htmx_response
from sqlmodel import select

from portal.auth import sessions
from portal.db import get_session
from portal.extensions import keep_locale
from portal.models import User
from portal.tenancy import user_and_memberships


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
        keep_locale(user.locale)
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.htmx:
            # Never swap the sign-in page into a fragment: send the browser there.
            return htmx_response("", 200, redirect=target)
        return redirect(target, 303 if request.method != "GET" else 302)


def find_user_by_email(email):
    return get_session().exec(select(User).where(User.email == email.strip().lower())).first()

