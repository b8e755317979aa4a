"""What the token API reads and answers, as pydantic models: the views
validate requests with them and the OpenAPI document is generated from them
(`portal.api.spec`)."""
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.api.rules import DEFAULT_MIN_VALID_SECONDS, MAX_MIN_VALID_SECONDS, ApiStatus
from portal.networks import NETWORKS

NetworkKey = StrEnum("NetworkKey", {key: key for key in NETWORKS})
MAX_PAGE = 100
DEFAULT_PAGE = 50
# Text that reaches the database: any character but NUL, which PostgreSQL refuses in a string.
TEXT = r"^[^\x00]*$"


class Query(BaseModel):
    # Unknown query parameters are refused, so that a misspelt filter is not silently ignored.
    model_config = ConfigDict(extra="forbid")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------

class ProfilesQuery(Query):
    network: NetworkKey | None = Field(None, description="Only profiles of this network.")
    brand: int | None = Field(None, ge=1, description="Only profiles enabled in this brand (its id).")
    status: ApiStatus | None = Field(None, description="Only profiles whose token is in this state.")
    q: str | None = Field(None, max_length=200, pattern=TEXT,
                          description="Only profiles whose name or handle holds this text.")
    cursor: str | None = Field(None, max_length=200, pattern=r"^[A-Za-z0-9_-]*$",
                               description="`next_cursor` of the previous page.")
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="Profiles per page.")


class TokenQuery(Query):
    min_valid_seconds: int = Field(
        DEFAULT_MIN_VALID_SECONDS, ge=0, le=MAX_MIN_VALID_SECONDS,
        description="Refresh the token first if it ends sooner than this (where the network allows).")
    force_refresh: bool = Field(False, description="Refresh the token now, however long it still lives.")


class FallbackQuery(Query):
    brand: int | None = Field(None, ge=1, description="Only profiles enabled in this brand (its id).")
    exclude: list[int] = Field(default_factory=list, max_length=100,
                               description="Ids of profiles not to hand out (repeat the parameter).")
    min_valid_seconds: int = Field(
        DEFAULT_MIN_VALID_SECONDS, ge=0, le=MAX_MIN_VALID_SECONDS,
        description="Refresh the chosen token first if it ends sooner than this (where the network allows).")


class ReportBody(Body):
    http_status: int | None = Field(None, ge=100, le=599, description="The HTTP status the network answered.")
    error_code: str | None = Field(None, max_length=100, pattern=TEXT,
                                   description="The network's error code or type, e.g. `190` or `OAuthException`.")


class RenewalLinkBody(Body):
    recipient: Literal["client", "member"] = Field(
        description="`client`: the account owner at the client, who has no account in Keepalive; "
                    "`member`: a person of the agency who may renew the profile (signs in to use the link).")
    email: str = Field(min_length=3, max_length=254, pattern=TEXT, description="Where the link goes.")
    language: Literal["en", "fr", "de", "nl"] = Field("en", description="The language of the email.")


# --- answers --------------------------------------------------------------------

class Brand(BaseModel):
    id: int
    name: str


class Renewer(BaseModel):
    name: str
    email: str


class RenewedBy(BaseModel):
    permission: str = Field(description="What a person needs on the network to renew the profile.")
    people: list[Renewer] = Field(description="The people of the agency who may renew it in Keepalive.")


class Profile(BaseModel):
    id: int
    network: NetworkKey
    external_id: str
    name: str
    handle: str
    brands: list[Brand]
    status: ApiStatus
    invalid_reason: str | None = Field(description="Why the token stopped working, when it did.")
    expires_at: datetime | None = Field(
        description="When Keepalive loses access unless a person acts (the effective expiry); null: no known end.")
    renews_silently: bool = Field(description="Whether Keepalive renews the token without a person.")
    renewable_by: RenewedBy
    url: str = Field(description="The profile's page in Keepalive.")


class ProfilePage(BaseModel):
    data: list[Profile]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProfileRef(BaseModel):
    id: int
    network: NetworkKey
    external_id: str
    name: str
    handle: str


class Token(BaseModel):
    access_token: str = Field(description="The live access token (a Facebook Page's or Instagram business "
                                          "account's: the Page token). Never a refresh token.")
    token_type: str = Field(description="`user`, `page` or `system_user`.")
    scopes: list[str]
    expires_at: datetime | None = Field(description="When the access token ends; null: no known end.")
    refreshed: bool = Field(description="Whether Keepalive refreshed the token for this request.")
    profile: ProfileRef


class ReportAccepted(BaseModel):
    status: Literal["checking", "already_checking"] = Field(
        description="The token is being checked with its network; a dead one is marked and its people told.")


class RenewalLink(BaseModel):
    id: int
    recipient: Literal["client", "member"]
    email: str
    expires_at: datetime


class Problem(BaseModel):
    """An error, as RFC 9457 describes (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(description="A URI naming the kind of problem; its page is in /api/docs.")
    title: str
    status: int
    detail: str | None = None
    reason: str | None = Field(None, description="409: why the token stopped working.")
    renewal_url: str | None = Field(None, description="409: where a person renews the token.")
    errors: list[dict] | None = Field(None, description="400: what is wrong with the request, field by field.")
