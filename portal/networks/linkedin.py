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
REST = f"{API}/rest"  # the versioned APIs
INTROSPECT = "https://www.linkedin.com/oauth/v2/introspectToken"
# A version the versioned APIs support (each for about a year after its month,
# https://learn.microsoft.com/en-us/linkedin/marketing/versioning); LINKEDIN_API_VERSION overrides it.
DEFAULT_LINKEDIN_API_VERSION = "202607"
ACLS_PAGE, MAX_PAGES = 100, 50

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
    """(native role, can_renew): only an ADMINISTRATOR of the page may renew.
    The others are shown for what they are: a CONTENT_ADMINISTRATOR (or a
    DIRECT_SPONSORED_CONTENT_POSTER) may publish but not renew; an ANALYST,
    CURATOR, RECRUITING_POSTER or LEAD_GEN_FORMS_MANAGER neither."""
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
        """The pages the member has a role on, every page of them, from the
        versioned organizationAcls; each organization's name from the
        versioned organizations API (decoration is deprecated there)."""
        profiles, person = [], ""
        for element in self.organization_acls(tokens):
            if element.get("state", "APPROVED") != "APPROVED":
                continue
            person = person or urn_id(element.get("roleAssignee") or "")
            org_id = urn_id(element.get("organization") or "")
            organization = self.rest(f"organizations/{org_id}", tokens)
            role, can_renew = organization_role(element.get("role"))
            profiles.append(GrantedProfile(
                network=self.network,
                external_id=org_id,
                name=organization.get("localizedName") or org_id,
                handle=organization.get("vanityName") or "",
                tokens=tokens,
                native_role=role,
                can_renew=can_renew,
            ))
        return Grant(person_external_id=person, person_name="", profiles=profiles)

    def organization_acls(self, tokens):
        """Every element of the member's organizationAcls, page by page (`start`, `count`)."""
        elements, start = [], 0
        for _ in range(MAX_PAGES):
            body = self.rest("organizationAcls", tokens, q="roleAssignee", start=start, count=ACLS_PAGE)
            page = body.get("elements") or []
            elements += page
            paging = body.get("paging") or {}
            start = int(paging.get("start") or start) + len(page)
            total = paging.get("total")
            more = any(link.get("rel") == "next" for link in paging.get("links") or [] if isinstance(link, dict))
            if not page or not (more or (total is not None and start < int(total))):
                break
        return elements

    def rest(self, path, tokens, **params):
        """A call to LinkedIn's versioned APIs, with the headers they require."""
        return self.api("GET", f"{REST}/{path}", token=tokens.access_token, params=params, headers={
            "LinkedIn-Version": self.settings.linkedin_api_version or DEFAULT_LINKEDIN_API_VERSION,
            "X-Restli-Protocol-Version": "2.0.0"})

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
