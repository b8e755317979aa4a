"""What every network adapter shares: the value types of the contract, the
one URL rewrite for the sandbox, and the OAuth 2.0 plumbing on Authlib.

An adapter is built per use by `portal.networks.adapter_for(key)` from the
app's settings and knows nothing of Flask: it takes a `NetworkSettings`.
"""
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from urllib.parse import urlsplit

import httpx2
from authlib.common.security import generate_token
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from authlib.integrations.httpx_client import OAuth2Client

from portal.models import CanRenew
from portal.networks.outcomes import (
    NetworkError,
    Stage,
    Transient,
    UnexpectedResponse,
    scrub,
)

log = logging.getLogger("keepalive.networks")

SECRET_PARAMETERS = {"access_token", "input_token", "fb_exchange_token", "client_secret", "token", "refresh_token"}


# --- the sandbox rewrite ---------------------------------------------------

def network_url(url, sandbox_base_url=None):
    """`https://HOST/PATH?Q` as sent: unchanged for the real networks, or
    `{sandbox_base_url}/sandbox/HOST/PATH?Q` when the sandbox plays them."""
    if not sandbox_base_url or not url.startswith("https://"):
        return url
    parts = urlsplit(url)
    rest = parts.path or "/"
    if parts.query:
        rest += "?" + parts.query
    return f"{sandbox_base_url.rstrip('/')}/sandbox/{parts.netloc}{rest}"


# --- value types -----------------------------------------------------------

def utcnow():
    return datetime.now(UTC)


def moment(value):
    """An aware UTC datetime from an epoch (seconds) or ISO string; None for 0/None."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def after(seconds, now):
    """`now + seconds`, or None when the network gave no lifetime."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return None
    return now + timedelta(seconds=seconds) if seconds > 0 else None


@dataclass(frozen=True)
class TokenSet:
    """One grant's tokens. Datetimes are aware UTC; None means "no known end".

    `issued_at` is when the access token was obtained or last refreshed
    (Instagram and Threads refuse a refresh during its first 24 hours)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    scopes: str = ""
    token_type: str = "user"
    issued_at: datetime | None = None
    # The network's id of the person whose consent issued them, where
    # revoking needs it (Meta ends a person's whole authorization of the app).
    person_external_id: str | None = None

    def __repr__(self):  # never print a token
        return (
            f"TokenSet(token_type={self.token_type!r}, expires_at={self.expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r}, has_refresh_token={self.refresh_token is not None})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class GrantedProfile:
    """A profile a consent covers, with what the network said of the person's rights."""

    network: str
    external_id: str
    name: str
    handle: str
    tokens: TokenSet
    native_role: str = ""
    can_renew: str = CanRenew.UNKNOWN


@dataclass(frozen=True)
class Grant:
    """What one consent gave: who consented, and every profile it covers."""

    person_external_id: str
    person_name: str
    profiles: list[GrantedProfile] = field(default_factory=list)


@dataclass(frozen=True)
class Validation:
    """A health check's answer. Returned only when the token works (`ok`);
    a token that does not raises the classified NetworkError instead."""

    ok: bool
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    scopes: str = ""


@dataclass(frozen=True)
class NetworkSettings:
    client_id: str
    client_secret: str
    timeout: float = 10.0
    sandbox_base_url: str | None = None  # set only when the sandbox plays the networks
    graph_api_version: str = ""  # empty: the family's default (meta_graph, linkedin)
    linkedin_api_version: str = ""


def new_code_verifier():
    """A PKCE code verifier (RFC 7636: 43 to 128 characters)."""
    return generate_token(64)


# --- the HTTP client -------------------------------------------------------

@cache
def tls_context():
    """How every network client verifies TLS: the authorities httpx2 trusts
    by default, the environment aside. Made once a process (the worker
    makes it before forking its jobs): making it reads and parses the
    authorities' certificates, some 20 to 60 ms of CPU, which a client made
    for each call would spend again. One context serves any number of
    clients and threads."""
    return httpx2.create_ssl_context(trust_env=False)


class NetworkClient(OAuth2Client):
    """Authlib's OAuth 2.0 client on which every request, token requests
    included, goes through `network_url` and has a time-out."""

    def __init__(self, settings, **kwargs):
        self.sandbox_base_url = settings.sandbox_base_url
        super().__init__(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            timeout=settings.timeout,
            follow_redirects=False,
            trust_env=False,
            verify=tls_context(),
            **kwargs,
        )

    def request(self, method, url, *args, **kwargs):
        return super().request(method, network_url(str(url), self.sandbox_base_url), *args, **kwargs)


def secret_in_query(client, method, uri, headers, body):
    """Meta's GET token endpoint: client id and secret as query parameters."""
    uri = add_params_to_uri(uri, [("client_id", client.client_id), ("client_secret", client.client_secret)])
    return uri, headers, body


def no_client_auth(client, method, uri, headers, body):
    """Calls that authenticate with the token alone (Instagram/Threads refresh)."""
    return uri, headers, body


class _ScrubQueries(logging.Filter):
    """httpx2 logs every request URL at INFO; Meta puts tokens in query strings."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(a if isinstance(a, (int, float)) else scrub(a) for a in record.args)
        record.msg = scrub(record.msg)
        return True


for _name in ("httpx2", "httpx"):
    logging.getLogger(_name).addFilter(_ScrubQueries())


# --- the base adapter ------------------------------------------------------

class Adapter:
    """The interface every network family implements (docs/networks.md, "How
    the adapters are built").

    - `authorize_url(state, code_verifier, redirect_uri) -> str`
    - `exchange_code(code, code_verifier, redirect_uri) -> Grant`
    - `refresh(tokens) -> TokenSet` (silent renewal)
    - `validate(tokens, after_refresh=False) -> Validation`
    - `can_refresh(tokens) -> bool` (a silent renewal path exists for these tokens)
    - `revoke(tokens)` where `offers_revocation`; `whose(tokens)` and
      `same_grant(tokens, other)` say which other tokens a revocation ends
    - `classify(status, body, stage) -> Outcome` (pure, per family: the
      `classify_<family>` of the family's module)

    Failures raise `outcomes.RenewNeeded`, `Transient` (and its
    `AccessTokenRejected`), `PermissionMissing` or `UnexpectedResponse`;
    `refresh` may also raise `NotYetRefreshable`.
    """

    family = ""
    authorize_endpoint = ""
    token_endpoint = ""
    scopes = ()
    scope_separator = " "
    uses_pkce = False
    token_endpoint_auth_method = "client_secret_post"
    # Networks whose refresh tokens are single use: a response without a new
    # one leaves none (reusing a spent one can kill the whole grant).
    rotates_refresh_token = False
    # Instagram and Threads: no refresh token, the access token renews
    # itself, and not before it is `min_token_age` old.
    extends_access_token = False
    min_token_age = timedelta(0)
    extra_authorize_params = {}
    # Where the network takes a grant back (RFC 7009), for those that offer
    # it; and which token it wants there (a refresh token ends the grant).
    revocation_endpoint = ""
    revokes_with = "refresh_token"

    def __init__(self, network, settings: NetworkSettings):
        self.network = network
        self.settings = settings
        self._secrets = {settings.client_secret}
        self._last_token_body = None

    classify = None  # a pure function per family: (status, body, stage) -> Outcome

    # -- public interface -------------------------------------------------

    def authorize_url(self, state, code_verifier=None, redirect_uri=None):
        with self.client() as client:
            url, _ = client.create_authorization_url(
                self.authorize_endpoint,
                state=state,
                code_verifier=code_verifier if self.uses_pkce else None,
                redirect_uri=redirect_uri,
                scope=self.scope_separator.join(self.scopes),
                **self.extra_authorize_params,
            )
        return network_url(self.adjust_authorize_url(url), self.settings.sandbox_base_url)

    def exchange_code(self, code, code_verifier=None, redirect_uri=None):
        raise NotImplementedError

    def refresh(self, tokens: TokenSet) -> TokenSet:
        raise NotImplementedError

    def validate(self, tokens: TokenSet, after_refresh=False) -> Validation:
        raise NotImplementedError

    def can_refresh(self, tokens: TokenSet) -> bool:
        return bool(tokens.refresh_token)

    @property
    def offers_revocation(self):
        return bool(self.revocation_endpoint)

    def whose(self, tokens: TokenSet) -> TokenSet:
        """`tokens` with what revoking them needs to know of who granted them
        (Meta: the person), asked of the network when it was not kept."""
        return tokens

    def same_grant(self, tokens: TokenSet, other: TokenSet) -> bool:
        """Whether revoking `tokens` would end `other` too: here, when they
        hold a token in common (one consent that covers several profiles)."""
        mine = {tokens.access_token, tokens.refresh_token} - {None}
        return bool(mine & ({other.access_token, other.refresh_token} - {None}))

    def revoke(self, tokens: TokenSet):
        """Take the grant back at the network (its refresh token where it
        has one and the network takes it, else its access token). Raises the
        classified NetworkError of a refusal."""
        if not self.offers_revocation:
            raise NotImplementedError(f"{self.network} offers no revocation")
        use_refresh = self.revokes_with == "refresh_token" and tokens.refresh_token
        token = tokens.refresh_token if use_refresh else tokens.access_token
        self.keep_secret(tokens.access_token, tokens.refresh_token)
        with self.client() as client:
            response = self.call(client.revoke_token, self.revocation_endpoint, token=token,
                                 token_type_hint="refresh_token" if use_refresh else "access_token")
        if response.status_code >= 300:
            self.check(response, Stage.TOKEN)
            raise UnexpectedResponse(f"{self.network}: revocation answered HTTP {response.status_code}")

    # -- helpers for the families ----------------------------------------

    def adjust_authorize_url(self, url):
        return url

    def client(self, token=None, **kwargs):
        client = NetworkClient(
            self.settings,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            revocation_endpoint_auth_method=self.token_endpoint_auth_method,
            code_challenge_method="S256" if self.uses_pkce else None,
            token=token,
            **kwargs,
        )
        self.prepare_client(client)
        client.register_compliance_hook("access_token_response", self._token_response_hook)
        client.register_compliance_hook("refresh_token_response", self._token_response_hook)
        return client

    def prepare_client(self, client):
        """Register a family's client auth methods and compliance hooks."""

    def wait_for(self, response):
        """Seconds the network asks to wait before the next call (`Retry-After`),
        or None; families that say it in headers of their own read those too."""
        return retry_after(response.headers.get("Retry-After"))

    def keep_secret(self, *values):
        self._secrets.update(v for v in values if v)

    def _token_response_hook(self, response):
        """Raise the classified error before Authlib parses a refused token response."""
        self._last_token_body = self.check(response, Stage.TOKEN)
        return response

    def check(self, response, stage=Stage.API, classify=None):
        """The JSON body of `response`, or the classified NetworkError raised
        (by the family's rules, or by `classify` for a call with its own)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        outcome = (classify or self.classify)(response.status_code, body, stage)
        if outcome.ok:
            if not isinstance(body, dict):
                raise UnexpectedResponse(f"{self.network}: the answer was not a JSON object")
            return body
        error = outcome.error(retry_after=self.wait_for(response))
        error.detail = scrub(error.detail, self._secrets)
        error.args = (error.detail,)
        raise error

    def call(self, fn, *args, **kwargs):
        """Run one network exchange; time-outs and broken connections are Transient."""
        try:
            return fn(*args, **kwargs)
        except NetworkError:
            raise
        except httpx2.TimeoutException:
            raise Transient(f"{self.network}: the network did not answer in time") from None
        except httpx2.TransportError as error:
            raise Transient(f"{self.network}: {type(error).__name__}") from None
        except httpx2.HTTPStatusError as error:
            self.check(error.response, Stage.TOKEN)
            raise UnexpectedResponse(f"{self.network}: HTTP {error.response.status_code}") from None
        except ValueError as error:  # Authlib: a token response that is not JSON
            raise UnexpectedResponse(scrub(f"{self.network}: {error}", self._secrets)) from None
        except AuthlibBaseError as error:  # never leak a token through Authlib's message
            raise UnexpectedResponse(scrub(f"{self.network}: {type(error).__name__}: {error}", self._secrets)) from None

    def get(self, url, token=None, params=None, stage=Stage.API, classify=None):
        """GET an API with the access token as a Bearer header (none: `params` carry it)."""
        return self.api("GET", url, token=token, params=params, stage=stage, classify=classify)

    def api(self, method, url, token=None, stage=Stage.API, classify=None, **kwargs):
        sent = {**(kwargs.get("params") or {}), **(kwargs.get("data") or {})}
        self.keep_secret(token, *(value for key, value in sent.items() if key in SECRET_PARAMETERS))
        bearer = {"access_token": token, "token_type": "bearer"} if token else None
        with self.client(token=bearer) as client:
            response = self.call(client.request, method, url, withhold_token=not token, **kwargs)
            return self.check(response, stage, classify)

    def fetch_token(self, code, code_verifier=None, redirect_uri=None, **extra):
        """The authorization code grant through Authlib: the raw token response."""
        self.keep_secret(code, code_verifier)
        with self.client() as client:
            token = self.call(
                client.fetch_token,
                self.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier if self.uses_pkce else None,
                **extra,
            )
        self.keep_secret(token.get("access_token"), token.get("refresh_token"))
        return dict(token)

    def refresh_grant(self, tokens, **extra):
        """The refresh_token grant through Authlib: a new TokenSet.

        Keeps the old refresh token when none comes back, except where
        refresh tokens rotate (a spent one must never be used again)."""
        if not tokens.refresh_token:
            raise UnexpectedResponse(f"{self.network}: no refresh token to renew with")
        self.keep_secret(tokens.access_token, tokens.refresh_token)
        with self.client() as client:
            token = self.call(
                client.refresh_token, self.token_endpoint, refresh_token=tokens.refresh_token, **extra
            )
        token = dict(token)
        self.keep_secret(token.get("access_token"), token.get("refresh_token"))
        if self.rotates_refresh_token and not (self._last_token_body or {}).get("refresh_token"):
            # Authlib fills in the spent token when the answer has none.
            log.warning("%s: a refresh returned no new refresh token", self.network)
            token["refresh_token"] = None
        return self.token_set(token, previous=tokens)

    def token_set(self, token, previous=None, now=None, token_type="user"):
        """A TokenSet from a token response (`expires_in`,
        `refresh_token_expires_in`, `refresh_expires_in`), keeping what the
        previous set knew when the response is silent."""
        now = now or utcnow()
        refresh_token = token.get("refresh_token")
        if refresh_token is None and previous is not None and not self.rotates_refresh_token:
            refresh_token = previous.refresh_token
        refresh_expires_at = (
            after(token.get("refresh_token_expires_in"), now)
            or after(token.get("refresh_expires_in"), now)
            or moment(token.get("refresh_token_expires_at"))
        )
        if refresh_expires_at is None and previous is not None and refresh_token == previous.refresh_token:
            refresh_expires_at = previous.refresh_expires_at
        scope = token.get("scope") or (previous.scopes if previous else "")
        if isinstance(scope, list):
            scope = " ".join(scope)
        return TokenSet(
            access_token=token["access_token"],
            refresh_token=refresh_token,
            expires_at=after(token.get("expires_in"), now),
            refresh_expires_at=refresh_expires_at if refresh_token else None,
            data_access_expires_at=previous.data_access_expires_at if previous else None,
            scopes=" ".join(str(scope).replace(",", " ").split()),
            token_type=previous.token_type if previous else token_type,
            issued_at=now,
            person_external_id=previous.person_external_id if previous else None,
        )

    def single_profile(self, external_id, name, handle, tokens, role="owner"):
        """A consent that covers the person's own account: they may always renew it."""
        profile = GrantedProfile(
            network=self.network,
            external_id=str(external_id),
            name=name or handle or str(external_id),
            handle=handle or "",
            tokens=tokens,
            native_role=role,
            can_renew=CanRenew.YES,
        )
        return Grant(person_external_id=str(external_id), person_name=profile.name, profiles=[profile])


def retry_after(value, now=None):
    """Seconds from a `Retry-After` value: a number of seconds, or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    try:
        return max(0, int(value))
    except ValueError:
        pass
    try:
        moment_given = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment_given.tzinfo is None:
        moment_given = moment_given.replace(tzinfo=UTC)
    return max(0, int((moment_given - (now or utcnow())).total_seconds()))


__all__ = [
    "Adapter",
    "Grant",
    "GrantedProfile",
    "NetworkClient",
    "NetworkSettings",
    "TokenSet",
    "Validation",
    "network_url",
    "new_code_verifier",
]
