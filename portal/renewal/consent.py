"""Interactive renewal: send a person to the network's consent page and take
the answer back.

The `state` of each consent is a random value whose record lives in Redis
for ten minutes and is taken (GETDEL) by the callback, once checked: single
use, expiring, and bound to who started it (the signed-in user and a nonce
kept in their session, or the renewal link). The PKCE verifier stays on the
server. A person's consent renews only what Keepalive lets them renew,
whatever else the network granted.
"""
import json
import secrets
from dataclasses import asdict, dataclass, field

from flask import current_app, session as web_session, url_for
from sqlmodel import select

from portal import app_settings
from portal.db import get_session
from portal.models import (
    SYSTEM_USER_TOKEN,
    CanRenew,
    Credential,
    CredentialState,
    Membership,
    NativeRole,
    ProfileAccess,
    SocialProfile,
    User,
)
from portal.networks.base import new_code_verifier
from portal.networks.outcomes import AppSettingsRefused, NetworkError, PermissionMissing, RenewNeeded, Transient
from portal.permissions import may_renew
from portal.queue import redis, redis_key
from portal.renewal.credentials import record_attempt, record_native_role, store_grant
from portal.url_secrets import hash_secret

STATE_TTL_SECONDS = 600
NONCE_KEY = "consent_nonce"


# What a consent is for: renewing one profile (and what else it covers), or
# connecting the profiles it covers, for a person of the agency or a client
# through an invitation (`portal.connect`).
RENEW, CONNECT = "renew", "connect"


@dataclass
class ConsentRecord:
    network: str
    profile_id: int | None  # None: a consent that connects profiles
    organization_id: int
    code_verifier: str
    next_url: str
    user_id: int | None = None
    nonce: str | None = None
    link_id: int | None = None
    purpose: str = RENEW
    invitation_id: int | None = None  # a client's consent through an invitation to connect


@dataclass
class ConsentResult:
    ok: bool
    message_key: str
    profile: SocialProfile | None = None
    renewed: list = field(default_factory=list)  # every profile this consent renewed
    could_renew: list = field(default_factory=list)  # names of people who could, when we could not
    next_url: str | None = None
    link_id: int | None = None


def redirect_uri(network_key):
    return current_app.config["BASE_URL"] + url_for("callback.network_callback", network_key=network_key)


def _key(state):
    return redis_key(f"consent:{hash_secret(state)}")


def session_nonce():
    """A random value in the browser session that a consent is bound to."""
    if NONCE_KEY not in web_session:
        web_session[NONCE_KEY] = secrets.token_urlsafe(16)
    return web_session[NONCE_KEY]


def start(adapter, profile, next_url, user_id=None, link_id=None):
    """The network's consent URL for renewing `profile`, with its state recorded."""
    return begin(adapter, profile.network, profile.organization_id, next_url, profile_id=profile.id,
                 user_id=user_id, link_id=link_id)


def begin(adapter, network, organization_id, next_url, profile_id=None, user_id=None, link_id=None,
          purpose=RENEW, invitation_id=None):
    """The network's consent URL, with the record of its state kept for the callback."""
    state = secrets.token_urlsafe(32)
    record = ConsentRecord(
        network=network,
        profile_id=profile_id,
        organization_id=organization_id,
        code_verifier=new_code_verifier(),
        next_url=next_url,
        user_id=user_id,
        nonce=session_nonce() if user_id is not None else None,
        link_id=link_id,
        purpose=purpose,
        invitation_id=invitation_id,
    )
    redis().set(_key(state), json.dumps(asdict(record)), ex=STATE_TTL_SECONDS)
    return adapter.authorize_url(state, record.code_verifier, redirect_uri(network))


def take_record(state, network, user_id):
    """The record of `state`, removed so it can never serve twice; None if
    unknown, expired, or not this callback's: another network's, or started by
    another browser. Such a request leaves the state alone (it is checked
    before it is taken), so that it cannot spend a state it may not use."""
    if not state or len(state) > 200:
        return None
    key = _key(state)
    raw = redis().get(key)
    if not raw:
        return None
    record = ConsentRecord(**json.loads(raw))
    if record.network != network or not bound_to_caller(record, user_id):
        return None
    if redis().getdel(key) != raw:
        return None  # taken meanwhile by a request racing this one
    return record


def bound_to_caller(record, user_id):
    """The callback comes back to whoever started the consent."""
    if record.link_id is not None or record.invitation_id is not None:
        return True  # checked by the link's own page, which started it
    return record.user_id is not None and record.user_id == user_id and record.nonce == web_session.get(NONCE_KEY)


def complete(adapter, record, args):
    """Finish a consent from the callback's query `args`; store nothing unless
    the consenting account is the profile's own."""
    db = get_session()
    profile = db.get(SocialProfile, record.profile_id)
    if profile is None or profile.organization_id != record.organization_id:
        return ConsentResult(False, "profile_gone", next_url=record.next_url)
    result = _complete(db, adapter, record, args, profile)
    result.profile, result.next_url, result.link_id = profile, record.next_url, record.link_id
    if not result.ok:
        record_attempt(db, profile, "interactive", "failed", user_id=record.user_id, reason=result.message_key,
                       audited=record.link_id is None)
        db.commit()
    return result


def _complete(db, adapter, record, args, profile):
    if record.user_id is not None and not renewable_by(db, record.user_id, profile.organization_id, [profile]):
        return ConsentResult(False, "not_allowed")  # their rights changed since they started
    grant, failure = exchange(adapter, record, args)
    if failure:
        return ConsentResult(False, failure)
    granted = {(p.network, p.external_id): p for p in grant.profiles}
    own = granted.get((profile.network, profile.external_id))
    if own is None:
        return ConsentResult(False, "wrong_account")
    if own.can_renew == CanRenew.NO:
        if record.user_id is not None:
            record_native_role(db, profile.id, record.user_id, own.native_role, own.can_renew)
            db.commit()
        return ConsentResult(False, "insufficient_permission", could_renew=who_could_renew(db, profile.id))
    # A renewal link renews its one profile and nothing else.
    renewed = renew_covered(db, grant, profile.organization_id, record.user_id, own_profile_id=profile.id,
                            only_own=record.link_id is not None)
    db.commit()
    return ConsentResult(True, "renewed", renewed=renewed)


def exchange(adapter, record, args):
    """(grant, None) for the callback's `args`, or (None, failure key): the
    consent declined, no code, or the network's refusal, classified."""
    if args.get("error") or args.get("error_reason"):
        return None, "denied"
    code = args.get("code")
    if not code:
        return None, "no_code"
    try:
        grant = adapter.exchange_code(code, record.code_verifier, redirect_uri(record.network))
    except Transient:
        return None, "unavailable"
    except AppSettingsRefused as error:
        app_settings.report(record.network, error.detail)
        return None, "app_settings"
    except (RenewNeeded, PermissionMissing, NetworkError):
        return None, "refused"
    app_settings.accepted(record.network)
    return grant, None


def renew_covered(db, grant, organization_id, user_id, own_profile_id=None, only_own=False):
    """Store the new tokens of every profile of the organization that
    `grant` covers and that the consenting account may renew on the network
    (and the person, if any, in Keepalive, with their rights as they are
    now); returns those profiles. A Page kept alive by a system user's token
    keeps it (a person's token would be a worse one), unless it is
    `own_profile_id`, the profile being renewed; `only_own` renews that one
    alone. The caller commits."""
    granted = {(p.network, p.external_id): p for p in grant.profiles}
    others = db.exec(
        select(SocialProfile).where(
            SocialProfile.organization_id == organization_id,
            SocialProfile.external_id.in_({p.external_id for p in grant.profiles}),
        )
    ).all()
    if user_id is not None:
        # The network says what the account may do; Keepalive's own rules say
        # what this person may renew.
        others = renewable_by(db, user_id, organization_id, others)
    renewed = []
    on_system_user_tokens = on_system_user_token(db, [candidate.id for candidate in others])
    for candidate in others:
        granted_profile = granted.get((candidate.network, candidate.external_id))
        if granted_profile is None or granted_profile.can_renew == CanRenew.NO:
            continue
        if candidate.id != own_profile_id and (only_own or candidate.id in on_system_user_tokens):
            continue
        credential = store_grant(db, candidate, granted_profile.tokens, granted_by_id=user_id)
        if user_id is not None:
            record_native_role(db, candidate.id, user_id, granted_profile.native_role, granted_profile.can_renew)
        # A renewal link's own event tells of it (`links.service.tell_agency`).
        record_attempt(db, candidate, "interactive", "renewed", credential, user_id, audited=not only_own)
        renewed.append(candidate)
    return renewed


def renewable_by(db, user_id, organization_id, profiles):
    """Those of `profiles` the person may renew now (`may_renew`, with their membership as it is)."""
    membership = db.exec(select(Membership).where(
        Membership.user_id == user_id, Membership.organization_id == organization_id)).first()
    levels = dict(db.exec(select(ProfileAccess.profile_id, ProfileAccess.level).where(
        ProfileAccess.user_id == user_id, ProfileAccess.profile_id.in_([p.id for p in profiles]))).all())
    return [p for p in profiles if may_renew(membership, levels.get(p.id))]


def on_system_user_token(db, profile_ids):
    """Which of `profile_ids` a valid system user's token keeps alive."""
    return set(db.exec(select(Credential.profile_id).where(
        Credential.profile_id.in_(profile_ids), Credential.superseded_at.is_(None),
        Credential.token_type == SYSTEM_USER_TOKEN, Credential.status != CredentialState.INVALID)).all())


def who_could_renew(db, profile_id):
    """People of the agency the network last said can renew this profile."""
    return db.exec(
        select(User)
        .join(NativeRole, NativeRole.user_id == User.id)
        .where(NativeRole.profile_id == profile_id, NativeRole.can_renew == CanRenew.YES)
        .order_by(User.name, User.email)
    ).all()
