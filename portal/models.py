"""The domain, as SQLModel tables (see docs/design.md, "Domain").

Enumerations are stored as short strings; the allowed values live in the
`StrEnum`s beside the tables so that rules and forms share them.
"""
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow


def _when(nullable=True, default=False, index=False):
    """A UTC timestamp column."""
    if default:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _fk(target, nullable=False, index=True, ondelete="CASCADE"):
    return Field(
        default=None,
        sa_column_args=[sa.ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
        index=index,
    )


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"


class AccessLevel(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class CanRenew(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class CredentialState(StrEnum):
    ACTIVE = "active"
    INVALID = "invalid"


class DeliveryStatus(StrEnum):
    """Where a message of the outbox (Delivery, WebhookDelivery) stands."""

    PENDING = "pending"  # written, or postponed after a transient failure
    SENDING = "sending"  # claimed by a job, outcome not recorded yet
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of tries
    OBSOLETE = "obsolete"  # its notice no longer holds: not sent


class InvalidReason(StrEnum):
    EXPIRED = "expired"
    PASSWORD_CHANGED = "password_changed"
    PERMISSION_REVOKED = "permission_revoked"
    ROLE_CHANGED = "role_changed"
    APP_REMOVED = "app_removed"
    CHECKPOINT = "checkpoint"
    UNKNOWN = "unknown"


# `Credential.token_type` of a token Meta Business Manager generated for a
# system user: it belongs to no person and has nothing to refresh.
SYSTEM_USER_TOKEN = "system_user"
# `Credential.token_type` of a Facebook Page's token: it does not expire; its
# data access does, and only a person's consent renews that.
PAGE_TOKEN = "page"

DEFAULT_EXPIRY_WINDOW_DAYS = 7
DEFAULT_THRESHOLDS = "7,3,1,0"


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    expiry_window_days: int = Field(default=DEFAULT_EXPIRY_WINDOW_DAYS)
    # Days before effective expiry at which notices go out, e.g. "7,3,1,0".
    notification_thresholds: str = Field(default=DEFAULT_THRESHOLDS, max_length=120)
    # The Slack incoming-webhook URL (it is a credential), sealed by portal.crypto; None: no Slack.
    sealed_slack_webhook_url: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default=True)
    # Goes up with every write that changes what its pages show (`portal.versions`): their ETags.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def thresholds(self):
        return sorted({int(day) for day in self.notification_thresholds.split(",") if day.strip()}, reverse=True)


class Brand(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    name: str = Field(max_length=120)
    created_at: datetime = _when(default=True)


class User(UserMixin, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    name: str = Field(default="", max_length=120)
    password_hash: str | None = Field(default=None, max_length=255)
    locale: str | None = Field(default=None, max_length=8)
    # An IANA time zone ("Europe/Berlin") that dates are shown in; None: not
    # chosen yet (the browser's is taken at the next page, else UTC).
    timezone: str | None = Field(default=None, max_length=64)
    active: bool = Field(default=True)
    # Bumped by a password change or reset: every session begun under an
    # older version ends (`portal.auth.sessions`).
    session_version: int = Field(default=1)
    created_at: datetime = _when(default=True)
    last_login_at: datetime | None = _when()

    @property
    def is_active(self):
        return self.active

    @property
    def display_name(self):
        return self.name or self.email


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id")
    organization_id: int = _fk("organization.id")
    role: str = Field(default=Role.MEMBER, max_length=20)
    can_manage_profiles: bool = Field(default=False)
    created_at: datetime = _when(default=True)


class SocialProfile(SQLModel, table=True):
    __tablename__ = "social_profile"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "network", "external_id"),
        # An organization's profiles of one network (the token API's fallback, the network filters).
        sa.Index("ix_social_profile_organization_network", "organization_id", "network", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    network: str = Field(max_length=40, index=True)
    external_id: str = Field(max_length=120)
    name: str = Field(max_length=200)
    handle: str = Field(default="", max_length=200)
    created_at: datetime = _when(default=True)


class BrandProfile(SQLModel, table=True):
    __tablename__ = "brand_profile"

    brand_id: int = Field(
        sa_column_args=[sa.ForeignKey("brand.id", ondelete="CASCADE")], primary_key=True
    )
    profile_id: int = Field(
        sa_column_args=[sa.ForeignKey("social_profile.id", ondelete="CASCADE")],
        primary_key=True,
        index=True,
    )


class ProfileAccess(SQLModel, table=True):
    __tablename__ = "profile_access"
    __table_args__ = (sa.UniqueConstraint("user_id", "profile_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id")
    profile_id: int = _fk("social_profile.id")
    level: str = Field(default=AccessLevel.VIEWER, max_length=20)


class CredentialFacts:
    """What a credential's columns say, for the entity and for the plain
    rows the lists read (`portal.profiles.CredentialView`) alike."""

    @property
    def is_invalid(self):
        return self.status == CredentialState.INVALID

    @property
    def is_system_user_token(self):
        return self.token_type == SYSTEM_USER_TOKEN


class Credential(CredentialFacts, SQLModel, table=True):
    """The token set of a profile.

    A new consent makes a new row and marks the previous one superseded, so
    the history of grants is kept; a silent refresh updates the current row
    in place and bumps `version`, which guards concurrent writers.
    """

    __table_args__ = (
        sa.Index(
            "uq_credential_current",
            "profile_id",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
        # A profile's history of grants, newest first (profile details).
        sa.Index("ix_credential_profile_history", "profile_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = _fk("social_profile.id", index=False)
    # Fernet ciphertexts (portal.crypto); the plaintext never reaches the database.
    sealed_access_token: str = Field(sa_type=sa.Text)
    sealed_refresh_token: str | None = Field(default=None, sa_type=sa.Text)
    token_type: str = Field(default="user", max_length=30)
    scopes: str = Field(default="", sa_type=sa.Text)
    expires_at: datetime | None = _when(index=True)
    refresh_expires_at: datetime | None = _when(index=True)
    data_access_expires_at: datetime | None = _when()
    granted_by_id: int | None = _fk("user.id", nullable=True, index=False, ondelete="SET NULL")
    # The network's id of the person whose consent issued it, where a
    # revocation needs it (Meta takes back a person's every token at once).
    person_external_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = _when(default=True)
    last_refreshed_at: datetime | None = _when()
    last_checked_at: datetime | None = _when()
    # None: never checked since the grant; False: the last check found it unusable.
    last_check_ok: bool | None = Field(default=None)
    status: str = Field(default=CredentialState.ACTIVE, max_length=20)
    invalid_reason: str | None = Field(default=None, max_length=30)
    invalidated_at: datetime | None = _when(index=True)  # the scan looks for recent ones
    superseded_at: datetime | None = _when()
    version: int = Field(default=1)

    @property
    def can_refresh_silently(self):
        return self.sealed_refresh_token is not None


def current_credential(refreshable):
    """A current credential with (or without) a refresh token: what each index
    below holds. A query states these conditions to be able to read them."""
    token = Credential.sealed_refresh_token
    return sa.and_(Credential.superseded_at.is_(None), token.is_not(None) if refreshable else token.is_(None))


def _current_credential_index(name, *columns, refreshable, **options):
    where = current_credential(refreshable)
    return sa.Index(name, *columns, sqlite_where=where, postgresql_where=where, **options)


# What the scan reads (jobs.scan, jobs.renewal): one range of one of these per
# case. Neither superseded grants nor credentials of the other kind are in them.
_current_credential_index("ix_credential_current_access_end", Credential.expires_at, refreshable=False)
_current_credential_index("ix_credential_current_refreshable_access_end", Credential.expires_at, refreshable=True)
_current_credential_index("ix_credential_current_refresh_end", Credential.refresh_expires_at, refreshable=True)
# Last refreshed, else created: when the grant was last exercised. The refresh
# token's end rides along so that long-dead grants are passed over in the
# index, without reading their rows (on PostgreSQL the id and status too;
# SQLite keeps the row id in every index).
_current_credential_index("ix_credential_current_refreshable_issued", Credential.last_refreshed_at,
                          Credential.created_at, Credential.refresh_expires_at, refreshable=True,
                          postgresql_include=["id", "status"])
# Meta's end of data access, which no refresh extends (a Page token has no
# end of its own): credentials of either kind.
_current = sa.text("superseded_at IS NULL")
sa.Index("ix_credential_current_data_access_end", Credential.data_access_expires_at,
         sqlite_where=_current, postgresql_where=_current)


class NativeRole(SQLModel, table=True):
    __tablename__ = "native_role"
    __table_args__ = (sa.UniqueConstraint("profile_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = _fk("social_profile.id")
    user_id: int = _fk("user.id")
    can_renew: str = Field(default=CanRenew.UNKNOWN, max_length=10)
    role: str = Field(default="", max_length=80)
    observed_at: datetime = _when(default=True)


class NotificationPreference(SQLModel, table=True):
    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id", "profile_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id")
    organization_id: int = _fk("organization.id")
    # None: applies to every profile the user may renew.
    profile_id: int | None = _fk("social_profile.id", nullable=True)
    email: bool = Field(default=True)
    push: bool = Field(default=False)
    slack: bool = Field(default=False)
    login_warning: bool = Field(default=True)


class Notification(SQLModel, table=True):
    """An in-app notice; always written, whatever the other channels."""

    __table_args__ = (sa.UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    user_id: int = _fk("user.id")
    organization_id: int = _fk("organization.id")
    profile_id: int = _fk("social_profile.id")
    credential_id: int | None = _fk("credential.id", nullable=True, ondelete="SET NULL")
    kind: str = Field(max_length=30)
    threshold_days: int | None = Field(default=None)
    expires_at: datetime | None = _when()
    created_at: datetime = _when(default=True)
    read_at: datetime | None = _when()
    # When a renewal made it moot (a token notice whose token was renewed since).
    resolved_at: datetime | None = _when()


class Delivery(SQLModel, table=True):
    """One message on one channel to one recipient: the outbox."""

    __table_args__ = (sa.UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=240)
    notification_id: int | None = _fk("notification.id", nullable=True, ondelete="SET NULL")
    channel: str = Field(max_length=20)
    recipient: str = Field(max_length=500)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default=True)
    sent_at: datetime | None = _when()


class RenewalLink(SQLModel, table=True):
    """A single-use link to renew one profile; the URL holds a secret, this row its hash."""

    __tablename__ = "renewal_link"

    id: int | None = Field(default=None, primary_key=True)
    secret_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    profile_id: int = _fk("social_profile.id")
    recipient: str = Field(max_length=254)
    purpose: str = Field(max_length=20)
    created_by_id: int | None = _fk("user.id", nullable=True, index=False, ondelete="SET NULL")
    created_at: datetime = _when(default=True)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()
    # Why its email could not be sent (the worker's answer); None once sent or while on its way.
    email_error: str | None = Field(default=None, sa_type=sa.Text)


class RenewalAttempt(SQLModel, table=True):
    __tablename__ = "renewal_attempt"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = _fk("social_profile.id")
    credential_id: int | None = _fk("credential.id", nullable=True, ondelete="SET NULL")
    user_id: int | None = _fk("user.id", nullable=True, ondelete="SET NULL")
    mode: str = Field(max_length=20)
    outcome: str = Field(max_length=30)
    reason: str | None = Field(default=None, max_length=60)
    detail: str | None = Field(default=None, sa_type=sa.Text)
    started_at: datetime = _when(default=True)
    finished_at: datetime | None = _when()


class AuditEvent(SQLModel, table=True):
    """One line of the activity log (`portal.audit` writes them; the codes,
    their words and kinds are `portal.activity.vocabulary`). The names of the
    profile and of the person are kept on the event, so that its line still
    reads after the profile is removed or the person has left."""
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_organization_created", "organization_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = _fk("organization.id", nullable=True, index=False)
    user_id: int | None = _fk("user.id", nullable=True, ondelete="SET NULL")
    profile_id: int | None = _fk("social_profile.id", nullable=True, ondelete="SET NULL")
    action: str = Field(max_length=60)
    # Free text of events written before `data` (shown as it is); new events leave it empty.
    detail: str = Field(default="", sa_type=sa.Text)
    # The event's own values (an email, a role, a renewal's mode and reason), read by the vocabulary.
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    profile_name: str = Field(default="", max_length=200)
    profile_network: str = Field(default="", max_length=40)
    # Who did it, as named then; empty with no user: Keepalive itself (a worker, the scan).
    actor_name: str = Field(default="", max_length=254)
    created_at: datetime = _when(default=True, index=True)


class ApiScope(StrEnum):
    """What an API key may do (`portal.api`)."""

    PROFILES_READ = "profiles:read"
    TOKENS_READ = "tokens:read"
    LINKS_WRITE = "links:write"


class ApiKey(SQLModel, table=True):
    """A key of the agency's own tools for the token API; the secret is shown
    once, this row keeps its keyed hash (`portal.api.keys`)."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    name: str = Field(max_length=120)
    # The first characters of the secret ("ka_live_Ab3d"), so that a key can be recognised in the list.
    prefix: str = Field(max_length=20)
    secret_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    scopes: str = Field(default="", max_length=200)  # space-separated ApiScope values
    # A key limited to one brand sees only that brand's profiles; deleting the brand deletes the key.
    brand_id: int | None = _fk("brand.id", nullable=True, index=False)
    created_by_id: int | None = _fk("user.id", nullable=True, index=False, ondelete="SET NULL")
    created_at: datetime = _when(default=True)
    expires_at: datetime | None = _when()
    revoked_at: datetime | None = _when()
    # Written at most once a minute per key, so that reading with a key costs no write.
    last_used_at: datetime | None = _when()
    last_used_address: str | None = Field(default=None, max_length=45)


class Invitation(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("secret_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    email: str = Field(max_length=254)
    role: str = Field(default=Role.MEMBER, max_length=20)
    can_manage_profiles: bool = Field(default=False)
    secret_hash: str = Field(max_length=64)
    invited_by_id: int | None = _fk("user.id", nullable=True, index=False, ondelete="SET NULL")
    created_at: datetime = _when(default=True)
    expires_at: datetime = _when(nullable=False)
    accepted_at: datetime | None = _when()
    revoked_at: datetime | None = _when()
    # Why its email could not be sent (the worker's answer); None once sent or while on its way.
    email_error: str | None = Field(default=None, sa_type=sa.Text)


class PasswordReset(SQLModel, table=True):
    __tablename__ = "password_reset"
    __table_args__ = (sa.UniqueConstraint("secret_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id")
    secret_hash: str = Field(max_length=64)
    created_at: datetime = _when(default=True)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()


class ConnectInvitation(SQLModel, table=True):
    """An invitation to a client to connect their own profiles: the networks
    asked for, the brand they join; the URL holds a secret, this row its hash.
    Usable until it expires, is withdrawn, or the client says they are done."""

    __tablename__ = "connect_invitation"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    email: str = Field(max_length=254)
    networks: str = Field(max_length=400)  # network keys, comma-separated
    message: str = Field(default="", sa_type=sa.Text)
    brand_id: int | None = _fk("brand.id", nullable=True, index=False, ondelete="SET NULL")
    locale: str = Field(default="en", max_length=8)
    secret_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    invited_by_id: int | None = _fk("user.id", nullable=True, index=False, ondelete="SET NULL")
    created_at: datetime = _when(default=True)
    sent_at: datetime = _when(default=True)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()
    connected: str = Field(default="", max_length=400)  # the networks the client connected, comma-separated
    # Why its last email could not be sent (the worker's answer); None once sent or while on its way.
    email_error: str | None = Field(default=None, sa_type=sa.Text)

    @property
    def network_keys(self):
        return [key for key in self.networks.split(",") if key]

    @property
    def connected_keys(self):
        return [key for key in self.connected.split(",") if key]


class Signup(SQLModel, table=True):
    """An agency asked for at /signup, made when its confirmation link is
    followed. Written for every request, whether or not the address already
    has an account (a worker decides which email to send): the page answers
    alike either way. `secret_hash` is set when the confirmation is sent."""

    id: int | None = Field(default=None, primary_key=True)
    agency_name: str = Field(max_length=120)
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, index=True)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=8)
    secret_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = _when(default=True)
    expires_at: datetime = _when(nullable=False)
    confirmed_at: datetime | None = _when()


class PushSubscription(SQLModel, table=True):
    """A browser that agreed to receive a user's web push notices."""

    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id")
    # The push service's URL for this browser; the same browser subscribing again replaces its row.
    endpoint: str = Field(max_length=1000, sa_column_kwargs={"unique": True})
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = _when(default=True)


class WebhookEndpoint(SQLModel, table=True):
    """An organization's receiver of signed token events (Standard Webhooks)."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = _fk("organization.id")
    url: str = Field(max_length=1000)
    # "whsec_<base64>", sealed by portal.crypto; shown once when the endpoint is made.
    sealed_secret: str = Field(sa_type=sa.Text)
    events: str = Field(default="", max_length=200)  # comma-separated event types
    active: bool = Field(default=True)
    created_at: datetime = _when(default=True)

    @property
    def event_types(self):
        return [event for event in self.events.split(",") if event]


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: the webhook outbox and its log."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=240)
    endpoint_id: int = _fk("webhook_endpoint.id")
    message_id: str = Field(max_length=60)  # the `webhook-id` header: the same on every retry
    event_type: str = Field(max_length=40)
    payload: str = Field(sa_type=sa.Text)  # the JSON body, fixed when the event happened
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    response_status: int | None = Field(default=None)
    created_at: datetime = _when(default=True)
    sent_at: datetime | None = _when()
