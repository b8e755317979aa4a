"""YouTube channels and Google Business Profile locations (Google OAuth).

Offline access with `prompt=consent`, so that every consent returns a refresh
token; a refresh that returns none keeps the one there is.
"""
from portal.models import CanRenew, InvalidReason
from portal.networks.base import Adapter, Grant, GrantedProfile, Validation, after, utcnow
from portal.networks.outcomes import (
    OK,
    Stage,
    app_settings,
    is_success,
    oauth_error,
    permission,
    reason_from_text,
    refresh_first,
    renew,
    server_side,
    transient,
    unexpected,
)

TOKENINFO = "https://oauth2.googleapis.com/tokeninfo"
CHANNELS = "https://www.googleapis.com/youtube/v3/channels"
ACCOUNTS = "https://mybusinessaccountmanagement.googleapis.com/v1/accounts"
LOCATIONS = "https://mybusinessbusinessinformation.googleapis.com/v1/{account}/locations"
# The largest pages each list gives (accounts: 20, the default; locations: 10
# by default, at most 100), and a bound against a paging loop.
ACCOUNTS_PAGE, LOCATIONS_PAGE, MAX_PAGES = 20, 100, 50

SCOPES = {
    "youtube": (
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
    ),
    "google_business": ("https://www.googleapis.com/auth/business.manage",),
}

GOOGLE_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError"}
# The Cloud project behind the client: the API is not enabled in it, or it is blocked.
GOOGLE_PROJECT_REASONS = {"accessNotConfigured", "SERVICE_DISABLED", "API_DISABLED", "CONSUMER_INVALID"}


def classify_google(status, body, stage=Stage.API):
    error, description = oauth_error(body)
    if error in ("invalid_client", "unauthorized_client"):
        return app_settings(f"Google: {error} {description}".strip())
    if error == "invalid_grant":
        return renew(reason_from_text(description), f"Google: invalid_grant {description}".strip())
    if error == "invalid_token" or (stage != Stage.TOKEN and status == 401):
        # An access token past its hour, or revoked: only a refresh tells which.
        if stage == Stage.RETRY:
            return renew(InvalidReason.UNKNOWN, "Google refused the access token again after a refresh")
        if stage == Stage.API:
            return refresh_first("Google refused the access token")
    server = server_side(status)
    if server:
        return server
    api_error = body.get("error") if isinstance(body, dict) else None
    if status == 403 and isinstance(api_error, dict):
        reasons = {e.get("reason") for e in api_error.get("errors") or [] if isinstance(e, dict)}
        reasons |= {d.get("reason") for d in api_error.get("details") or [] if isinstance(d, dict)}
        if reasons & GOOGLE_PROJECT_REASONS:
            return app_settings(f"Google: {api_error.get('message', 'the API is not enabled for the project')}")
        if reasons & GOOGLE_RATE_REASONS or api_error.get("status") == "RESOURCE_EXHAUSTED":
            return transient(f"Google: {api_error.get('message', 'rate limited')}")
        return permission(f"Google: {api_error.get('message', 'forbidden')}")
    if status == 403:
        return permission("Google: forbidden")
    if error or not is_success(status):
        return unexpected(f"Google: {error or 'HTTP ' + str(status)} {description}".strip())
    return OK


class GoogleAdapter(Adapter):
    family = "google"
    authorize_endpoint = "https://accounts.google.com/o/oauth2/v2/auth"
    token_endpoint = "https://oauth2.googleapis.com/token"
    # https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
    revocation_endpoint = "https://oauth2.googleapis.com/revoke"
    uses_pkce = True
    extra_authorize_params = {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}
    classify = staticmethod(classify_google)

    @property
    def scopes(self):
        return SCOPES[self.network]

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        tokens = self.token_set(self.fetch_token(code, code_verifier, redirect_uri))
        if self.network == "youtube":
            profiles = self.channels(tokens)
        else:
            profiles = self.locations(tokens)
        return Grant(person_external_id="", person_name="", profiles=profiles)

    def channels(self, tokens):
        body = self.get(CHANNELS, token=tokens.access_token, params={"part": "snippet", "mine": "true"})
        profiles = []
        for item in body.get("items") or []:
            snippet = item.get("snippet") or {}
            profiles.append(GrantedProfile(
                network=self.network,
                external_id=str(item["id"]),
                name=snippet.get("title") or str(item["id"]),
                handle=snippet.get("customUrl") or "",
                tokens=tokens,
                native_role="owner",  # `mine=true`: channels the account owns or manages
                can_renew=CanRenew.YES,
            ))
        return profiles

    def locations(self, tokens):
        profiles = []
        for account in self.every_page(ACCOUNTS, tokens, "accounts", pageSize=ACCOUNTS_PAGE):
            role = str(account.get("role") or "")
            locations = self.every_page(LOCATIONS.format(account=account["name"]), tokens, "locations",
                                        pageSize=LOCATIONS_PAGE, readMask="name,title")
            for location in locations:
                location_id = str(location["name"]).rsplit("/", 1)[-1]
                profiles.append(GrantedProfile(
                    network=self.network,
                    external_id=location_id,
                    name=location.get("title") or location_id,
                    handle=account.get("accountName") or "",
                    tokens=tokens,
                    native_role=role,
                    # Any role on the profile may renew it (docs/design.md, "Who uses it").
                    can_renew=CanRenew.YES if role else CanRenew.UNKNOWN,
                ))
        return profiles

    def every_page(self, url, tokens, key, **params):
        """The `key` items of every page of a list (`pageToken` / `nextPageToken`)."""
        items, page_token = [], None
        for _ in range(MAX_PAGES):
            body = self.get(url, token=tokens.access_token, params={**params, **({"pageToken": page_token}
                                                                               if page_token else {})})
            items += body.get(key) or []
            page_token = body.get("nextPageToken")
            if not page_token:
                break
        return items

    def refresh(self, tokens):
        return self.refresh_grant(tokens)

    def validate(self, tokens, after_refresh=False):
        stage = Stage.RETRY if after_refresh else Stage.API
        body = self.get(TOKENINFO, params={"access_token": tokens.access_token}, stage=stage)
        return Validation(ok=True, expires_at=after(body.get("expires_in"), utcnow()), scopes=body.get("scope", ""))
