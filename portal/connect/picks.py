"""The profiles one consent covers, kept while the person picks which to
connect: sealed (they hold tokens) in Redis under the hash of a random id,
for half an hour, bound to the agency and to whoever consented (a person
of the agency in this browser session, or a client through an invitation)."""
import json
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from portal.crypto import seal, unseal
from portal.networks.base import TokenSet
from portal.queue import redis, redis_key
from portal.url_secrets import hash_secret, plausible

TTL_SECONDS = 30 * 60


@dataclass
class Candidate:
    """A profile the consent covers, with what the network said of the account's rights."""

    external_id: str
    name: str
    handle: str
    native_role: str
    can_renew: str
    tokens: dict  # a TokenSet's fields, datetimes as ISO strings

    def token_set(self):
        values = {key: datetime.fromisoformat(value) if key.endswith("_at") and value else value
                  for key, value in self.tokens.items()}
        return TokenSet(**values)

    @classmethod
    def of(cls, granted):
        tokens = {item.name: getattr(granted.tokens, item.name) for item in fields(TokenSet)}
        tokens = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in tokens.items()}
        return cls(granted.external_id, granted.name, granted.handle, granted.native_role, str(granted.can_renew),
                   tokens)


@dataclass
class Pick:
    network: str
    organization_id: int
    candidates: list
    person_name: str = ""
    user_id: int | None = None
    nonce: str | None = None
    invitation_id: int | None = None
    selected: list = field(default_factory=list)  # external ids
    brand: str = ""  # "", a brand id, or "new"
    new_brand: str = ""
    id: str = ""  # the secret of the URL; never stored

    def __post_init__(self):
        self.candidates = [c if isinstance(c, Candidate) else Candidate(**c) for c in self.candidates]

    def candidate(self, external_id):
        return next((c for c in self.candidates if c.external_id == external_id), None)


def _key(pick_id):
    return redis_key(f"connect-pick:{hash_secret(pick_id)}")


def keep(pick):
    """Store `pick` (a new one gets its id) for TTL_SECONDS from now; returns its id."""
    pick.id = pick.id or secrets.token_urlsafe(24)
    body = {k: v for k, v in asdict(pick).items() if k != "id"}
    redis().set(_key(pick.id), seal(json.dumps(body)), ex=TTL_SECONDS)
    return pick.id


def find(pick_id):
    """The pick of `pick_id`, or None (unknown, expired or malformed)."""
    if not plausible(pick_id):
        return None
    raw = redis().get(_key(pick_id))
    if raw is None:
        return None
    pick = Pick(**json.loads(unseal(raw.decode())))
    pick.id = pick_id
    return pick


def forget(pick_id):
    redis().delete(_key(pick_id))
