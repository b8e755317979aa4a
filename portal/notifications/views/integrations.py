"""Organization settings → Integrations: the Slack incoming webhook and the
outgoing webhook endpoints (with their delivery log). Owners and Managers."""
from flask import current_app, flash, g, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import login_required
from sqlmodel import select

from portal.audit import audit
from portal.crypto import seal
from portal.db import get_session
from portal.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from portal.notifications import events, outbox
from portal.notifications.views import bp
from portal.queue import enqueue
from portal.tenancy import managers_only
from portal.web import owned_or_404, redirect_after_post, render

URL_PROBLEMS = {
    "not_a_url": _l("Enter a full URL starting with https://."),
    "not_slack": _l("Enter the Slack incoming-webhook URL: it starts with https://hooks.slack.com/services/."),
    "not_https": _l("Enter an https:// URL: events are sent only over an encrypted connection."),
    "private_host": _l("Enter the URL of a server on the internet, not of a private address."),
}
EVENT_LABELS = {
    events.TOKEN_EXPIRING: _l("A token is expiring (token.expiring)"),
    events.TOKEN_EXPIRED: _l("A token expired or stopped working (token.expired)"),
    events.TOKEN_RENEWED: _l("A token was renewed (token.renewed)"),
    events.TOKEN_RENEW_FAILED: _l("A renewal failed (token.renew_failed)"),
}
DELIVERY_STATUS = {
    DeliveryStatus.PENDING: _l("Waiting"), DeliveryStatus.SENDING: _l("Sending"), DeliveryStatus.SENT: _l("Delivered"),
    DeliveryStatus.FAILED: _l("Failed"), DeliveryStatus.OBSOLETE: _l("Not sent"),
}
LOG_SIZE = 50


def production():
    return current_app.config["ENV_NAME"] == "production"


def page(status=200, errors=None, secret=None, form=None):
    endpoints = get_session().exec(
        select(WebhookEndpoint).where(WebhookEndpoint.organization_id == g.organization.id)
        .order_by(WebhookEndpoint.id)
    ).all()
    return render("notifications/integrations.html", status=status, endpoints=endpoints, errors=errors or {},
                  secret=secret, form=form or {}, event_labels=EVENT_LABELS,
                  slack_set=bool(g.organization.sealed_slack_webhook_url))


@bp.route("/settings/integrations")
@login_required
@managers_only
def integrations():
    return page()


@bp.route("/settings/integrations/slack", methods=["POST"])
@login_required
@managers_only
def slack():
    """Set the Slack incoming-webhook URL, or remove it."""
    organization = g.organization
    if request.form.get("remove"):
        organization.sealed_slack_webhook_url = None
        audit("slack.removed")
    else:
        url = (request.form.get("slack_url") or "").strip()
        problem = events.url_problem(url, production(), slack=True)
        if problem:
            return page(status=400, errors={"slack_url": str(URL_PROBLEMS[problem])})
        organization.sealed_slack_webhook_url = seal(url)
        audit("slack.set")
    get_session().add(organization)
    get_session().commit()
    flash(_("Slack settings saved."), "success")
    return redirect_after_post(url_for("notifications.integrations"))


@bp.route("/settings/integrations/slack/test", methods=["POST"])
@login_required
@managers_only
def slack_test():
    """One message to the Slack channel, sent by a worker."""
    if not g.organization.sealed_slack_webhook_url:
        return page(status=400, errors={"slack_url": _("Set a Slack webhook first, then send a test.")})
    enqueue("jobs.deliver.slack.send_slack_test", g.organization.id, result_ttl=3600)
    flash(_("A test message is on its way to your Slack channel. If it does not arrive, check the webhook's URL."),
          "success")
    return redirect_after_post(url_for("notifications.integrations"))


def chosen_events():
    try:
        return events.parse_events(request.form.getlist("events"))
    except ValueError:
        return None


@bp.route("/settings/integrations/webhooks", methods=["POST"])
@login_required
@managers_only
def webhook_create():
    """A new endpoint; its signing secret is shown on this answer only."""
    url = (request.form.get("url") or "").strip()
    errors = {}
    problem = events.url_problem(url, production())
    if problem:
        errors["url"] = str(URL_PROBLEMS[problem])
    chosen = chosen_events()
    if chosen is None:
        errors["events"] = _("Choose at least one event from the list.")
    if errors:
        return page(status=400, errors=errors, form={"url": url})
    secret = events.new_secret()
    endpoint = WebhookEndpoint(organization_id=g.organization.id, url=url, sealed_secret=seal(secret),
                               events=",".join(chosen))
    get_session().add(endpoint)
    audit("webhook.created", url=url)
    get_session().commit()
    return page(status=201, secret=(endpoint, secret))


@bp.route("/settings/integrations/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
@managers_only
def webhook(endpoint_id):
    """An endpoint's events, on/off switch and delivery log."""
    endpoint = owned_or_404(WebhookEndpoint, endpoint_id)
    errors = {}
    if request.method == "POST":
        chosen = chosen_events()
        if chosen is None:
            errors["events"] = _("Choose at least one event from the list.")
        else:
            endpoint.events = ",".join(chosen)
            endpoint.active = bool(request.form.get("active"))
            get_session().add(endpoint)
            audit("webhook.updated", url=endpoint.url, events=endpoint.events, active=endpoint.active)
            get_session().commit()
            flash(_("Webhook saved."), "success")
            return redirect_after_post(url_for("notifications.webhook", endpoint_id=endpoint.id))
    log = get_session().exec(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(LOG_SIZE)
    ).all()
    return render("notifications/webhook.html", status=400 if errors else 200, endpoint=endpoint, log=log,
                  errors=errors, event_labels=EVENT_LABELS, DELIVERY_STATUS=DELIVERY_STATUS)


@bp.route("/settings/integrations/webhooks/<int:endpoint_id>/test", methods=["POST"])
@login_required
@managers_only
def webhook_test(endpoint_id):
    """A `webhook.test` event to this endpoint; its delivery shows in the log below."""
    endpoint = owned_or_404(WebhookEndpoint, endpoint_id)
    if not endpoint.active:
        flash(_("Switch the webhook on to send it a test."), "error")
    else:
        outbox.test_event(get_session(), endpoint)
        get_session().commit()
        flash(_("A test event is on its way to %(url)s: its delivery shows below.", url=endpoint.url), "success")
    return redirect_after_post(url_for("notifications.webhook", endpoint_id=endpoint.id))


@bp.route("/settings/integrations/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@login_required
@managers_only
def webhook_delete(endpoint_id):
    endpoint = owned_or_404(WebhookEndpoint, endpoint_id)
    get_session().delete(endpoint)
    audit("webhook.deleted", url=endpoint.url)
    get_session().commit()
    flash(_("Webhook deleted."), "success")
    return redirect_after_post(url_for("notifications.integrations"))
