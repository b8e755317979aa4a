"""The header bell: the person's own notices in the current organization,
newest first; opening one marks it read and shows the profile."""
from dataclasses import dataclass

from flask import abort, g, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response as htmx_response
from sqlalchemy import func, update
from sqlmodel import select

from portal.db import get_session, utcnow
from portal.models import Credential, Notification, SocialProfile
from portal.notifications.views import bp
from portal.notifications.wording import notice_text
from portal.tenancy import organization_required
from portal.web import redirect_after_post, render, safe_next, wants_fragment

# Named in `HX-Trigger` after notices were marked read, so the bell reloads.
NOTIFICATIONS_CHANGED = "notifications-changed"
DROPDOWN_SIZE = 8
PAGE_SIZE = 50


@dataclass
class Notice:
    notification: Notification
    profile: SocialProfile
    text: str

    @property
    def unread(self):
        return self.notification.read_at is None and not self.resolved

    @property
    def resolved(self):
        return self.notification.resolved_at is not None


def own_notifications():
    """The signed-in person's notices in the current organization. One a
    renewal resolved is not unread: nothing is left to do."""
    return select(Notification).where(
        Notification.user_id == current_user.id, Notification.organization_id == g.organization.id
    )


def unread_count():
    return get_session().exec(
        select(func.count()).select_from(
            own_notifications().where(Notification.read_at.is_(None), Notification.resolved_at.is_(None)).subquery()
        )
    ).one()


def latest(limit):
    session = get_session()
    rows = session.exec(
        select(Notification, SocialProfile, Credential)
        .join(SocialProfile, SocialProfile.id == Notification.profile_id)
        .outerjoin(Credential, Credential.id == Notification.credential_id)
        .where(Notification.user_id == current_user.id, Notification.organization_id == g.organization.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    now = utcnow()
    return [Notice(n, profile, notice_text(n, profile, credential, now)) for n, profile, credential in rows]


def own_or_404(notification_id):
    notification = get_session().exec(own_notifications().where(Notification.id == notification_id)).first()
    if notification is None:
        abort(404)
    return notification


def back_to():
    return safe_next(request.form.get("next"), url_for("notifications.index"))


def after_change():
    """The bell again for htmx (its list changed), else back where the person was."""
    if wants_fragment():
        return htmx_response(bell_response(), trigger=NOTIFICATIONS_CHANGED)
    return redirect_after_post(back_to())


def bell_response():
    return render("notifications/index.html", block="bell", notices=latest(DROPDOWN_SIZE),
                  unread=unread_count())


@bp.route("/notifications")
@login_required
@organization_required
def index():
    """Every notice (the newest PAGE_SIZE), or the bell's dropdown for htmx."""
    return render("notifications/index.html", block="bell" if request.args.get("bell") else None,
                  notices=latest(DROPDOWN_SIZE if request.args.get("bell") else PAGE_SIZE),
                  unread=unread_count())


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
@organization_required
def read(notification_id):
    mark_read(own_or_404(notification_id))
    return after_change()


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
@organization_required
def read_all():
    get_session().exec(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.organization_id == g.organization.id,
               Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    get_session().commit()
    return after_change()


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
@organization_required
def open_notice(notification_id):
    """Mark the notice read and show its profile in Manage Accounts."""
    notification = own_or_404(notification_id)
    mark_read(notification)
    return redirect_after_post(url_for("accounts.profile", profile_id=notification.profile_id))


def mark_read(notification):
    if notification.read_at is None:
        notification.read_at = utcnow()
        get_session().add(notification)
        get_session().commit()
