"""LinkedIn member profiles and organization pages.

Refresh tokens exist only for apps approved for programmatic refresh; they
live 365 days from the first consent and refreshing does NOT extend them, so
`refresh_expires_at` is always what the latest response says is left.
"""
from portal.models import CanRenew, InvalidReason
from portal.networks.base import Adapter, Grant, GrantedProfile, Validation, moment, utcnow
from portal.networks.outcomes import (
    OK,
    AccessTokenRejected,
    RenewNeeded,
    Stage,
    app_settings,
    is_success,
    oauth_error,
    permission,
    reason_from_text,
    refresh_first,
    renew,
    server_side,
    unexpected,
)

API = "https://api.linkedin.com"
INTROSPECT = "https://www.linkedin.com/oauth/v2/introspectToken"

SCOPES = {
    "linkedin_personal": ("openid", "profile", "w_member_social"),
    "linkedin_company": ("w_organization_social", "r_organization_social", "rw_organization_admin"),
}
STATUS_REASONS = {"expired": InvalidReason.EXPIRED, "revoked": InvalidReason.PERMISSION_REVOKED}

LINKEDIN_REVOKED = 65601
LINKEDIN_INVALID = 65600
LINKEDIN_EXPIRED = 65602


def classify_linkedin(status, body, stage=Stage.API):
    body = body if isinstance(body, dict) else {}
    code = body.get("serviceErrorCode")
    message = str(body.get("message") or "")
    error, description = oauth_error(body)
    if error in ("invalid_client", "unauthorized_client"):
        return app_settings(f"LinkedIn: {error} {description}".strip())
    if status == 426:
        # The LinkedIn-Version sent has been sunset.
        return app_settings(f"LinkedIn: {message or 'API version no longer supported'}")
    if code == LINKEDIN_REVOKED:
        return renew(InvalidReason.PERMISSION_REVOKED, f"LinkedIn 65601: {message}", recheck=True)
    if code == LINKEDIN_INVALID:
        return renew(reason_from_text(message), f"LinkedIn 65600: {message}")
    if code == LINKEDIN_EXPIRED or (status == 401 and "expired" in message.lower()):
        # An expired access token: where a refresh token lives, it renews it
        # (the adapter calls it dead when there is none).
        if stage == Stage.API:
            return refresh_first(f"LinkedIn: {message}")
        return renew(InvalidReason.EXPIRED, f"LinkedIn: {message}")
    if error in ("invalid_grant", "invalid_token") or (
        error == "invalid_request" and "refresh token" in description.lower()
    ):
        return renew(reason_from_text(description), f"LinkedIn: {error} {description}".strip())
    server = server_side(status)
    if server:
        return server
    if status == 401 and stage != Stage.TOKEN and not error:
        return renew(reason_from_text(message), f"LinkedIn: {message or 'HTTP 401'}")
    if status == 403:
        return permission(f"LinkedIn: {message or 'forbidden'}")
    if error or not is_success(status):
        return unexpected(f"LinkedIn: {error or 'HTTP ' + str(status)} {description or message}".strip())
    return OK


def organization_role(role):
    """(native role, can_renew): only an ADMINISTRATOR of the page may renew."""
    role = (role or "").upper()
    return role, CanRenew.YES if role == "ADMINISTRATOR" else CanRenew.NO if role else CanRenew.UNKNOWN


def urn_id(urn):
    return str(urn).rsplit(":", 1)[-1]


class LinkedInAdapter(Adapter):
    family = "linkedin"
    authorize_endpoint = "https://www.linkedin.com/oauth/v2/authorization"
    token_endpoint = "https://www.linkedin.com/oauth/v2/accessToken"
    classify = staticmethod(classify_linkedin)

    @property
    def scopes(self):
        return SCOPES[self.network]

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        tokens = self.token_set(self.fetch_token(code, redirect_uri=redirect_uri))
        if self.network == "linkedin_personal":
            me = self.get(f"{API}/v2/userinfo", token=tokens.access_token)
            return self.single_profile(me.get("sub"), me.get("name"), "", tokens, role="member")
        return self.organizations(tokens)

    def organizations(self, tokens):
        body = self.get(
            f"{API}/v2/organizationAcls",
            token=tokens.access_token,
            params={"q": "roleAssignee", "projection": "(elements*(*,organization~(localizedName,vanityName)))"},
        )
        profiles, person = [], ""
        for element in body.get("elements") or []:
            if element.get("state", "APPROVED") != "APPROVED":
                continue
            person = person or urn_id(element.get("roleAssignee") or "")
            organization = element.get("organization~") or {}
            org_id = urn_id(element.get("organization") or "")
            if not organization.get("localizedName"):
                organization = self.get(f"{API}/v2/organizations/{org_id}", token=tokens.access_token)
            role, can_renew = organization_role(element.get("role"))
            vanity = organization.get("vanityName")
            profiles.append(GrantedProfile(
                network=self.network,
                external_id=org_id,
                name=organization.get("localizedName") or org_id,
                handle=vanity or "",
                tokens=tokens,
                native_role=role,
                can_renew=can_renew,
            ))
        return Grant(person_external_id=person, person_name="", profiles=profiles)

    def refresh(self, tokens):
        return self.refresh_grant(tokens)

    @staticmethod
    def refresh_token_lives(tokens):
        ends = tokens.refresh_expires_at
        return bool(tokens.refresh_token) and (ends is None or ends > utcnow())

    def validate(self, tokens, after_refresh=False):
        """Token introspection: `active`, `status`, `expires_at`, `scope`."""
        self.keep_secret(tokens.access_token)
        with self.client() as client:
            response = self.call(client.introspect_token, INTROSPECT, token=tokens.access_token)
        body = self.check(response, Stage.RETRY if after_refresh else Stage.API)
        if not body.get("active"):
            status = str(body.get("status") or "").lower()
            if status == "expired" and not after_refresh and self.refresh_token_lives(tokens):
                # LinkedIn's answer to an expired access token is the refresh token.
                raise AccessTokenRejected("LinkedIn: the access token expired; the refresh token lives")
            # "revoked" is 65601's answer, which fresh tokens also get for a
            # while: the caller looks again before flagging.
            raise RenewNeeded(
                STATUS_REASONS.get(status, InvalidReason.UNKNOWN),
                f"LinkedIn: token {status or 'inactive'}",
                recheck=status == "revoked",
            )
        return Validation(ok=True, expires_at=moment(body.get("expires_at")), scopes=str(body.get("scope") or "").replace(",", " "))
