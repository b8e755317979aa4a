"""Instagram Login and Threads: Meta's two "log in with the app itself" flows.

Both give a one-hour token for the code, exchanged at once for a 60-day one
(`ig_exchange_token` / `th_exchange_token`), which refreshes itself
(`ig_refresh_token` / `th_refresh_token`) once it is at least 24 hours old and
not yet expired. There is no refresh token: the access token renews itself.
Their errors read as the Graph API's (`meta_graph.classify_meta`).
"""
from datetime import timedelta

import httpx2

from portal.models import InvalidReason
from portal.networks.base import Adapter, Validation, no_client_auth, utcnow
from portal.networks.meta_graph import classify_meta, meta_wait
from portal.networks.outcomes import NotYetRefreshable, RenewNeeded, Stage

MINIMUM_AGE = timedelta(hours=24)


class MetaLoginAdapter(Adapter):
    scope_separator = ","
    classify = staticmethod(classify_meta)
    wait_for = staticmethod(meta_wait)
    exchange_endpoint = ""  # GET: short-lived for long-lived
    refresh_endpoint = ""  # GET: a fresh long-lived token
    me_endpoint = ""
    me_fields = ""
    grant_prefix = ""  # "ig" or "th"
    extends_access_token = True
    min_token_age = MINIMUM_AGE

    def prepare_client(self, client):
        client.register_client_auth_method(("token_only", no_client_auth))
        client.register_compliance_hook("access_token_response", unwrap_data)

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        short = self.fetch_token(code, redirect_uri=redirect_uri)
        with self.client() as client:
            token = self.call(
                client.fetch_token,
                self.exchange_endpoint,
                method="GET",
                auth=client.client_auth("token_only"),
                grant_type=f"{self.grant_prefix}_exchange_token",
                client_secret=self.settings.client_secret,
                access_token=short["access_token"],
            )
        self.keep_secret(token.get("access_token"))
        tokens = self.token_set(dict(token))
        me = self.me(tokens.access_token)
        external_id = self.external_id(me) or short.get("user_id")
        return self.single_profile(external_id, me.get("name"), _handle(me.get("username")), tokens)

    def can_refresh(self, tokens):
        return tokens.expires_at is None or tokens.expires_at > utcnow()

    def refresh(self, tokens):
        """A fresh 60-day token. Raises NotYetRefreshable (nothing sent) while
        the token is under 24 hours old, RenewNeeded once it has expired."""
        now = utcnow()
        if tokens.expires_at is not None and tokens.expires_at <= now:
            raise RenewNeeded(InvalidReason.EXPIRED, "the token expired before it was refreshed")
        if tokens.issued_at is not None and now - tokens.issued_at < MINIMUM_AGE:
            raise NotYetRefreshable(tokens.issued_at + MINIMUM_AGE)
        self.keep_secret(tokens.access_token)
        with self.client() as client:
            token = self.call(
                client.fetch_token,
                self.refresh_endpoint,
                method="GET",
                auth=client.client_auth("token_only"),
                grant_type=f"{self.grant_prefix}_refresh_token",
                access_token=tokens.access_token,
            )
        self.keep_secret(token.get("access_token"))
        return self.token_set(dict(token), previous=tokens, now=now)

    def validate(self, tokens, after_refresh=False):
        self.me(tokens.access_token, Stage.RETRY if after_refresh else Stage.API)
        return Validation(ok=True, expires_at=tokens.expires_at, scopes=tokens.scopes)

    def me(self, token, stage=Stage.API):
        return self.get(self.me_endpoint, params={"fields": self.me_fields, "access_token": token}, stage=stage)

    def external_id(self, me):
        return me.get("id")


def _handle(username):
    return f"@{username}" if username else ""


def unwrap_data(response):
    """The code exchange's answer, flat as the endpoint's reference gives it
    (`{"access_token", "user_id"}`), or inside `data` as Business Login for
    Instagram shows it (`{"data": [{"access_token", "user_id", "permissions"}]}`)."""
    try:
        body = response.json()
    except ValueError:
        return response
    if isinstance(body, dict) and "access_token" not in body and isinstance(body.get("data"), list) and body["data"]:
        return httpx2.Response(response.status_code, json=body["data"][0], request=response.request)
    return response
