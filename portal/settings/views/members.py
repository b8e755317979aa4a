"""Members: roles, the "Manage social profiles" switch, removal, invitations."""
from flask import abort, flash, g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.auth.invitations import AlreadyMember, revoke
from portal.auth.invitations import invite as send_invitation
from portal.db import get_session
from portal.models import Invitation, Membership
from portal.settings import service
from portal.settings.forms import ROLE_LABELS, ConfirmForm, InviteForm, ManageProfilesForm, RoleForm
from portal.settings.rules import (
    LAST_OWNER,
    MANAGER_REMOVES_OWNER,
    ONLY_OWNERS_FOR_OWNERS,
    invitation_refusal,
    removal_refusal,
    role_change_refusal,
)
from portal.settings.views import bp
from portal.tenancy import managers_only
from portal.web import owned_or_404, redirect_after_post, render, wants_fragment

REFUSALS = {
    ONLY_OWNERS_FOR_OWNERS: _l("Only an Owner can make someone an Owner or change an Owner's role."),
    LAST_OWNER: _l("The organization needs at least one Owner. Make someone else Owner first."),
    MANAGER_REMOVES_OWNER: _l("Only an Owner can remove an Owner."),
}


def members_page(status=200, invite_form=None, errors=None, notice=None):
    organization = g.organization
    return render(
        "settings/members.html",
        block="invitations" if invite_form is not None and wants_fragment() else None,
        status=status,
        rows=service.members_of(organization),
        invitations=service.pending_invitations(organization),
        invite_form=invite_form or InviteForm(formdata=None),
        owner_count=service.owner_count(organization),
        errors=errors or {},
        notice=notice,
    )


def invitations_answer(notice):
    """After a change to the invitations: their section, with a fresh
    invitation form, for htmx; else a redirect to the page, flashing `notice`."""
    if wants_fragment():
        return members_page(invite_form=InviteForm(formdata=None), notice=notice)
    flash(notice, "success")
    return redirect_after_post(url_for("settings.members"))


def row_response(membership, error=None, notice=None):
    """After a change to one member: that row for htmx, else the page (or a
    redirect to it)."""
    status = 400 if error else 200
    errors = {membership.id: error} if error else {}
    if wants_fragment():
        return render(
            "settings/members.html",
            block="member_row",
            status=status,
            row=service.member_row(membership),
            owner_count=service.owner_count(g.organization),
            errors=errors,
            notices={membership.id: notice} if notice else {},
        )
    if error:
        return members_page(status=status, errors=errors)
    if notice:
        flash(notice, "success")
    return redirect_after_post(url_for("settings.members"))


@bp.route("/members")
@login_required
@managers_only
def members():
    return members_page()


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@login_required
@managers_only
def member_role(membership_id):
    membership = owned_or_404(Membership, membership_id)
    form = RoleForm()
    if not form.validate():
        return row_response(membership, error=_("Choose Owner, Manager or Member."))
    membership, user = service.member_row(membership)
    owners = service.owner_count(g.organization, lock=True)
    get_session().refresh(membership)  # its role as of the lock
    refusal = role_change_refusal(g.membership, membership, form.role.data, owners)
    if refusal:
        return row_response(membership, error=str(REFUSALS[refusal]))
    if form.role.data == membership.role:
        return row_response(membership)
    service.change_role(membership, user, form.role.data)
    get_session().commit()
    if membership.id == g.membership.id and form.role.data not in ("owner", "manager"):
        # They just left the organization's settings.
        flash(_("You are now a Member of %(organization)s.", organization=g.organization.name), "info")
        return redirect_after_post(url_for("home.index"))
    return row_response(membership, notice=_("%(name)s is now %(role)s.", name=user.display_name,
                                             role=ROLE_LABELS[form.role.data]))


@bp.route("/members/<int:membership_id>/social-profiles", methods=["POST"])
@login_required
@managers_only
def member_manage_profiles(membership_id):
    membership = owned_or_404(Membership, membership_id)
    form = ManageProfilesForm()
    if not form.validate():
        abort(400)
    membership, user = service.member_row(membership)
    if membership.can_manage_profiles != form.can_manage_profiles.data:
        service.set_manage_profiles(membership, user, form.can_manage_profiles.data)
        get_session().commit()
    if membership.can_manage_profiles:
        notice = _("%(name)s may manage social profiles.", name=user.display_name)
    else:
        notice = _("%(name)s may no longer manage social profiles.", name=user.display_name)
    return row_response(membership, notice=notice)


@bp.route("/members/<int:membership_id>/remove", methods=["GET", "POST"])
@login_required
@managers_only
def member_remove(membership_id):
    """GET: a confirmation page (for browsers without JavaScript, where
    `hx-confirm` cannot ask); POST: remove."""
    membership = owned_or_404(Membership, membership_id)
    membership, user = service.member_row(membership)
    form = ConfirmForm()
    refusal = removal_refusal(g.membership, membership,
                              service.owner_count(g.organization, lock=form.is_submitted()))
    if not form.is_submitted():
        return render("settings/member_remove.html", row=(membership, user),
                      refusal=REFUSALS[refusal] if refusal else None, form=form)
    if not form.validate():
        abort(400)
    if refusal:
        return row_response(membership, error=str(REFUSALS[refusal]))
    leaving = membership.id == g.membership.id
    service.remove_member(membership, user)
    get_session().commit()
    notice = _("%(name)s was removed from %(organization)s.", name=user.display_name,
               organization=g.organization.name)
    if leaving:
        flash(_("You left %(organization)s.", organization=g.organization.name), "info")
        return redirect_after_post(url_for("home.index"))
    if wants_fragment():
        # The row goes away; the status line says why.
        return render("settings/members.html", block="removed", notice=notice)
    flash(notice, "success")
    return redirect_after_post(url_for("settings.members"))


@bp.route("/members/invite", methods=["POST"])
@login_required
@managers_only
def invite():
    form = InviteForm()
    if not form.validate():
        return members_page(status=400, invite_form=form)
    refusal = invitation_refusal(g.membership, form.role.data)
    if refusal:
        form.role.errors.append(str(REFUSALS[refusal]))
        return members_page(status=400, invite_form=form)
    try:
        send_invitation(get_session(), g.organization, form.email.data, form.role.data,
                        form.can_manage_profiles.data, current_user)
    except AlreadyMember:
        form.email.errors.append(_("%(email)s is already a member of this organization.", email=form.email.data))
        return members_page(status=400, invite_form=form)
    notice = _("Invitation sent to %(email)s.", email=form.email.data)
    return invitations_answer(notice)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
@managers_only
def invitation_revoke(invitation_id):
    invitation = owned_or_404(Invitation, invitation_id)
    if not ConfirmForm().validate():
        abort(400)
    if invitation.accepted_at is not None:
        notice = _("%(email)s already accepted this invitation.", email=invitation.email)
    else:
        if invitation.revoked_at is None:
            revoke(get_session(), invitation, by=current_user)
        notice = _("The invitation to %(email)s was revoked.", email=invitation.email)
    return invitations_answer(notice)


@bp.route("/invitations/<int:invitation_id>/send-again", methods=["POST"])
@login_required
@managers_only
def invitation_send_again(invitation_id):
    """A pending invitation sent again, with a new link (the one before stops
    working, as when the address is invited again): for an email the relay
    refused, or one the person cannot find."""
    invitation = owned_or_404(Invitation, invitation_id)
    if not ConfirmForm().validate():
        abort(400)
    if invitation.accepted_at is not None:
        notice = _("%(email)s already accepted this invitation.", email=invitation.email)
    elif invitation.revoked_at is not None:
        notice = _("The invitation to %(email)s was revoked.", email=invitation.email)
    elif invitation_refusal(g.membership, invitation.role):
        abort(403)
    else:
        try:
            send_invitation(get_session(), g.organization, invitation.email, invitation.role,
                            invitation.can_manage_profiles, current_user)
            notice = _("Invitation sent to %(email)s.", email=invitation.email)
        except AlreadyMember:
            notice = _("%(email)s is already a member of this organization.", email=invitation.email)
    return invitations_answer(notice)
