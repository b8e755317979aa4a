"""Browsers subscribed to web push ("mobile notifications"), and the
service worker that shows them."""
from pathlib import Path

from flask import current_app, jsonify, make_response, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import delete
from sqlmodel import select

from portal.db import get_session
from portal.models import PushSubscription
from portal.notifications.views import bp
from portal.notifications.webpush import subscription_problem


SUBSCRIPTION_PROBLEMS = {
    "bad_subscription": _l("That is not a push subscription this browser could have made."),
    "unknown_push_service": _l("This browser's push service is not one Keepalive sends notifications to."),
}


def subscription_refused(problem):
    """400 with the problem's key, which the page's script words, and its sentence for any other client."""
    return jsonify({"error": problem, "message": str(SUBSCRIPTION_PROBLEMS[problem])}), 400


@bp.route("/notifications/push/subscriptions", methods=["POST"])
@login_required
def push_subscribe():
    """Store this browser's subscription for the signed-in person; the same
    browser (endpoint) subscribing again replaces its keys and owner."""
    data = request.get_json(silent=True)
    problem = subscription_problem(data, current_app.config["ENV_NAME"] == "production",
                                   current_app.config["PUSH_EXTRA_HOSTS"])
    if problem is not None:
        return subscription_refused(problem)
    session = get_session()
    row = session.exec(select(PushSubscription).where(PushSubscription.endpoint == data["endpoint"])).first()
    row = row or PushSubscription(endpoint=data["endpoint"], user_id=current_user.id)
    row.user_id, row.p256dh, row.auth = current_user.id, data["keys"]["p256dh"], data["keys"]["auth"]
    session.add(row)
    session.commit()
    return jsonify({"subscribed": True}), 201


@bp.route("/notifications/push/subscriptions/delete", methods=["POST"])
@login_required
def push_unsubscribe():
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return subscription_refused("bad_subscription")
    get_session().exec(delete(PushSubscription).where(PushSubscription.endpoint == endpoint,
                                                      PushSubscription.user_id == current_user.id))
    get_session().commit()
    return jsonify({"subscribed": False})


@bp.route("/sw.js")
def service_worker():
    """The service worker, from the site's root so that its scope is the whole site."""
    path = Path(current_app.static_folder) / "sw.js"
    response = make_response(path.read_text(encoding="utf-8"))
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response
