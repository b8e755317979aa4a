"""The organization's own settings: name, expiry window, notice thresholds."""
from flask import flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.audit import audit
from portal.db import get_session
from portal.settings.forms import OrganizationForm
from portal.settings.views import bp
from portal.tenancy import managers_only
from portal.versions import changed
from portal.web import redirect_after_post, render

FIELDS = ("name", "expiry_window_days", "notification_thresholds")


@bp.route("/organization", methods=["GET", "POST"])
@login_required
@managers_only
def organization():
    organization = g.organization
    if request.method == "GET":
        form = OrganizationForm(obj=organization)
        return render("settings/organization.html", form=form)
    form = OrganizationForm()
    if not form.validate():
        return render("settings/organization.html", form=form, status=400)
    changes = {}
    for field in FIELDS:
        old, new = getattr(organization, field), getattr(form, field).data
        if old != new:
            changes[field] = [old, new]
            setattr(organization, field, new)
    if changes:
        get_session().add(organization)
        changed(get_session(), organization_id=organization.id)
        audit("organization.updated", changes=changes)
        get_session().commit()
    flash(_("Organization settings saved."), "success")
    return redirect_after_post(url_for("settings.organization"))
