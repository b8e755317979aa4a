"""The sandbox world and the OAuth machinery every network shares.

Its own database (`SANDBOX_DATABASE_URL`), on its own metadata: the people
who sign in at a network, the accounts they hold roles on, the registered
clients, authorization codes, issued tokens, a log of calls and the faults
to inject. Times are epoch seconds (floats): what the networks speak.

One row of `grants` is one issued token set; the rows of one consent share a
`lineage`, so that "revoke the whole grant" (X on refresh-token reuse, a
reused authorization code) is one update. Every write is a short
transaction; on SQLite each one takes the write lock at BEGIN (IMMEDIATE) so
that several processes serialize instead of failing with "database is locked".
"""
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import current_app

ACTIVE = "active"
STATES = ("active", "expired", "revoked", "password_changed", "role_changed", "app_removed", "checkpoint")
CLIENT_ID = "keepalive-sandbox"
CLIENT_SECRET = "sandbox-secret"
# One registered client per provider (a provider may serve several network keys).
PROVIDERS = ("facebook", "instagram", "threads", "x", "linkedin", "google", "tiktok", "pinterest")
PROVIDER_OF = {
    "facebook": "facebook", "instagram_business": "facebook", "instagram": "instagram", "threads": "threads",
    "x": "x", "linkedin_personal": "linkedin", "linkedin_company": "linkedin", "youtube": "google",
    "google_business": "google", "tiktok": "tiktok", "pinterest": "pinterest",
}
CODE_LIFETIME = 600

metadata = sa.MetaData()

persons = sa.Table(
    "sandbox_persons", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("external_id", sa.String(40), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_changed_at", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
)

accounts = sa.Table(
    "sandbox_accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("network", sa.String(40), nullable=False),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("handle", sa.String(200), nullable=False, default=""),
    # An Instagram business account's Facebook Page.
    sa.Column("linked_id", sa.Integer, sa.ForeignKey("sandbox_accounts.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("network", "external_id"),
)

roles = sa.Table(
    "sandbox_roles", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("sandbox_persons.id", ondelete="CASCADE"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("sandbox_accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("role", sa.String(60), nullable=False),
    sa.Column("can_renew", sa.Boolean, nullable=False, default=True),
    sa.UniqueConstraint("person_id", "account_id"),
)

clients = sa.Table(
    "sandbox_clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    sa.Column("client_secret", sa.String(200), nullable=False),
    sa.UniqueConstraint("provider", "client_id"),
)

# The redirect URIs registered for a client, matched exactly. None registered:
# the app's own, from the SANDBOX_REDIRECT_URI pattern (as a developer would
# enter them in the network's console).
redirect_uris = sa.Table(
    "sandbox_redirect_uris", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    sa.Column("uri", sa.Text, nullable=False),
)

codes = sa.Table(
    "sandbox_codes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(200), nullable=False, unique=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("network", sa.String(40), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("person_id", sa.Integer, nullable=False),
    sa.Column("account_id", sa.Integer),
    sa.Column("scopes", sa.Text, nullable=False, default=""),
    sa.Column("code_challenge", sa.String(200)),
    sa.Column("challenge_method", sa.String(10)),
    sa.Column("offline", sa.Boolean, nullable=False, default=False),
    sa.Column("prompt_consent", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

grants = sa.Table(
    "sandbox_grants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lineage", sa.String(32), nullable=False, index=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("network", sa.String(40), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    sa.Column("person_id", sa.Integer, nullable=False, index=True),
    sa.Column("account_id", sa.Integer),
    # user (Meta short-lived), long (long-lived), page (Meta Page token), token (others)
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("access_token", sa.String(300), nullable=False, unique=True),
    sa.Column("access_expires_at", sa.Float),
    sa.Column("refresh_token", sa.String(300), unique=True),
    sa.Column("refresh_expires_at", sa.Float),
    sa.Column("refresh_spent_at", sa.Float),
    sa.Column("data_access_expires_at", sa.Float),
    sa.Column("scopes", sa.Text, nullable=False, default=""),
    sa.Column("state", sa.String(20), nullable=False, default=ACTIVE),
    sa.Column("rotated_from", sa.Integer),
    sa.Column("code", sa.String(200), index=True),
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("consented_at", sa.Float, nullable=False),
)

calls = sa.Table(
    "sandbox_calls", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("network", sa.String(40), nullable=False),
    sa.Column("endpoint", sa.String(80), nullable=False),
    sa.Column("grant_type", sa.String(40)),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(80), nullable=False),
)

faults = sa.Table(
    "sandbox_faults", metadata,
    sa.Column("network", sa.String(40), primary_key=True),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("remaining", sa.Integer, nullable=False),
)

# Shortened lifetimes (seconds) per network key or provider: access_lifetime,
# refresh_lifetime, refresh_min_age (Instagram's and Threads' 24 hours); and
# approved_partner (1: LinkedIn has approved the app for refresh tokens).
settings = sa.Table(
    "sandbox_settings", metadata,
    sa.Column("network", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)

_engine_lock = threading.Lock()


def now():
    return time.time()


def iso(epoch):
    """An epoch as an ISO 8601 UTC string (None stays None)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def new_secret(prefix="", size=32):
    return prefix + secrets.token_urlsafe(size)


def new_numeric_id(digits=15):
    return str(10 ** (digits - 1) + secrets.randbelow(9 * 10 ** (digits - 1)))


# ---------------------------------------------------------------- database


def database_url(app):
    url = app.config.get("SANDBOX_DATABASE_URL") or f"sqlite:///{app.instance_path}/sandbox.sqlite"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def _make_engine(url):
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_world(engine):
    try:
        metadata.create_all(engine)
    except sa.exc.OperationalError:
        # Another process created the tables between our check and our CREATE.
        metadata.create_all(engine)
    with engine.begin() as c:
        _register_clients(c)


def _register_clients(c):
    present = {row.provider for row in c.execute(sa.select(clients.c.provider))}
    for provider in PROVIDERS:
        if provider not in present:
            try:
                with c.begin_nested():
                    c.execute(clients.insert().values(
                        provider=provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
            except sa.exc.IntegrityError:
                pass


def engine(app=None):
    """The sandbox's engine, its tables created on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("sandbox.engine")
    if found is None:
        with _engine_lock:
            found = app.extensions.get("sandbox.engine")
            if found is None:
                found = _make_engine(database_url(app))
                _create_world(found)
                app.extensions["sandbox.engine"] = found
    return found


@contextmanager
def transaction():
    """One short transaction on the sandbox database."""
    with engine().begin() as c:
        yield c


def reset():
    """Wipe the world: every person, account, token, code, call and fault."""
    with transaction() as c:
        for table in reversed(metadata.sorted_tables):
            c.execute(table.delete())
        _register_clients(c)


def one(c, statement):
    row = c.execute(statement).first()
    return None if row is None else dict(row._mapping)


def many(c, statement):
    return [dict(row._mapping) for row in c.execute(statement)]


# ---------------------------------------------------------------- settings


def setting(c, names, name, default):
    """A shortened lifetime for the first of `names` (network key, provider) that has one."""
    for network in names:
        row = one(c, sa.select(settings.c.value).where(settings.c.network == network, settings.c.name == name))
        if row is not None:
            return row["value"]
    return default


def change_setting(c, network, name, value):
    c.execute(settings.delete().where(settings.c.network == network, settings.c.name == name))
    if value is not None:
        c.execute(settings.insert().values(network=network, name=name, value=float(value)))


# ---------------------------------------------------------------- people and accounts


def upsert_person(c, email, name=None):
    email = email.strip().lower()
    person = one(c, sa.select(persons).where(persons.c.email == email))
    if person is None:
        c.execute(persons.insert().values(
            email=email, name=name or email.split("@")[0].replace(".", " ").title(),
            external_id=new_numeric_id(), created_at=now()))
        return one(c, sa.select(persons).where(persons.c.email == email))
    if name and name != person["name"]:
        c.execute(persons.update().where(persons.c.id == person["id"]).values(name=name))
        person["name"] = name
    return person


def upsert_account(c, network, external_id, name=None, handle=None, linked_id=None):
    account = one(c, sa.select(accounts).where(
        accounts.c.network == network, accounts.c.external_id == str(external_id)))
    values = {k: v for k, v in {"name": name, "handle": handle, "linked_id": linked_id}.items() if v is not None}
    if account is None:
        c.execute(accounts.insert().values(
            network=network, external_id=str(external_id), name=name or str(external_id),
            handle=handle or "", linked_id=linked_id, created_at=now()))
    elif values:
        c.execute(accounts.update().where(accounts.c.id == account["id"]).values(**values))
    return one(c, sa.select(accounts).where(
        accounts.c.network == network, accounts.c.external_id == str(external_id)))


def set_role(c, person_id, account_id, role, can_renew=True):
    """Give, change or (role None) take away a person's role; returns True when
    the person lost rights they had (removed, or no longer able to renew)."""
    current = one(c, sa.select(roles).where(roles.c.person_id == person_id, roles.c.account_id == account_id))
    if role is None:
        c.execute(roles.delete().where(roles.c.person_id == person_id, roles.c.account_id == account_id))
        return current is not None
    if current is None:
        c.execute(roles.insert().values(person_id=person_id, account_id=account_id, role=role,
                                        can_renew=bool(can_renew)))
        return False
    c.execute(roles.update().where(roles.c.id == current["id"]).values(role=role, can_renew=bool(can_renew)))
    return bool(current["can_renew"]) and not can_renew


def accounts_of(c, person_id, network):
    """(account, role) of a person on a network, oldest first."""
    rows = c.execute(
        sa.select(accounts, roles.c.role, roles.c.can_renew)
        .join(roles, roles.c.account_id == accounts.c.id)
        .where(roles.c.person_id == person_id, accounts.c.network == network)
        .order_by(accounts.c.id)
    )
    return [dict(row._mapping) for row in rows]


def role_of(c, person_id, account_id):
    return one(c, sa.select(roles).where(roles.c.person_id == person_id, roles.c.account_id == account_id))


def own_account(c, person, network, role="OWNER"):
    """The account a person signs in to on a one-account network, made on first sign-in."""
    held = accounts_of(c, person["id"], network)
    if held:
        return held[0]
    local = person["email"].split("@")[0]
    account = upsert_account(c, network, new_numeric_id(), person["name"], "@" + local)
    set_role(c, person["id"], account["id"], role, True)
    return accounts_of(c, person["id"], network)[0]


# ---------------------------------------------------------------- clients


def client_ok(c, provider, client_id, client_secret=None, check_secret=True):
    row = client(c, provider, client_id)
    if row is None:
        return False
    return not check_secret or secrets.compare_digest(row["client_secret"], client_secret or "")


def client(c, provider, client_id):
    return one(c, sa.select(clients).where(clients.c.provider == provider, clients.c.client_id == (client_id or "")))


def rotate_secret(c, provider, secret=None):
    """A new secret for the provider's sandbox client (the old one stops
    working at once), as a network's console does; returns it."""
    secret = secret or new_secret("", 18)
    c.execute(clients.update().where(clients.c.provider == provider, clients.c.client_id == CLIENT_ID)
              .values(client_secret=secret))
    return secret


def registered_redirect_uris(c, provider, client_id):
    """The redirect URIs registered for the client: those stored, else the app's
    own callback for each network of the provider (SANDBOX_REDIRECT_URI)."""
    stored = [row["uri"] for row in many(c, sa.select(redirect_uris.c.uri).where(
        redirect_uris.c.provider == provider, redirect_uris.c.client_id == client_id))]
    if stored:
        return stored
    pattern = current_app.config.get("SANDBOX_REDIRECT_URI") or ""
    base_url = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return [pattern.format(base_url=base_url, network=network)
            for network, owner in PROVIDER_OF.items() if owner == provider and pattern]


def register_redirect_uris(c, provider, uris, client_id=CLIENT_ID):
    c.execute(redirect_uris.delete().where(redirect_uris.c.provider == provider,
                                           redirect_uris.c.client_id == client_id))
    for uri in uris:
        c.execute(redirect_uris.insert().values(provider=provider, client_id=client_id, uri=uri))


def approved_partner(c, provider="linkedin"):
    """LinkedIn issues refresh tokens only to apps it approved for them."""
    return bool(setting(c, [provider], "approved_partner", 0))


# ---------------------------------------------------------------- codes


def new_code(c, provider, network, client_id, redirect_uri, person_id, scopes, account_id=None,
             code_challenge=None, challenge_method=None, offline=False, prompt_consent=False, prefix=""):
    value = new_secret(prefix, 24)
    moment = now()
    c.execute(codes.insert().values(
        code=value, provider=provider, network=network, client_id=client_id, redirect_uri=redirect_uri,
        person_id=person_id, account_id=account_id, scopes=scopes, code_challenge=code_challenge,
        challenge_method=challenge_method, offline=offline, prompt_consent=prompt_consent,
        created_at=moment, expires_at=moment + setting(c, [network, provider], "code_lifetime", CODE_LIFETIME)))
    return value


def pkce_matches(code_row, verifier):
    import base64
    import hashlib

    challenge = code_row["code_challenge"]
    if not challenge:
        return True
    if not verifier:
        return False
    if (code_row["challenge_method"] or "plain").upper() == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    return secrets.compare_digest(computed, challenge)


def redeem_code(c, provider, code, client_id, redirect_uri, verifier=None, require_pkce=False):
    """The code row, spent now; or (None, problem) with problem one of
    unknown, used, expired, client, redirect_uri, pkce.

    A second use revokes every token issued from the code, as the OAuth
    security advice asks and the networks do."""
    row = one(c, sa.select(codes).where(codes.c.code == (code or ""), codes.c.provider == provider))
    if row is None:
        return None, "unknown"
    if row["used_at"] is not None:
        c.execute(grants.update().where(grants.c.lineage.in_(
            sa.select(grants.c.lineage).where(grants.c.code == row["code"]).scalar_subquery()
        )).values(state="revoked"))
        return None, "used"
    spent = c.execute(codes.update().where(codes.c.id == row["id"], codes.c.used_at.is_(None))
                      .values(used_at=now())).rowcount
    if not spent:
        return None, "used"
    if row["expires_at"] <= now():
        return None, "expired"
    if row["client_id"] != client_id:
        return None, "client"
    if row["redirect_uri"] != (redirect_uri or ""):
        return None, "redirect_uri"
    if (require_pkce or row["code_challenge"]) and not (row["code_challenge"] and pkce_matches(row, verifier)):
        return None, "pkce"
    return row, None


# ---------------------------------------------------------------- tokens


def issue(c, provider, network, client_id, person_id, *, kind="token", account_id=None, scopes="",
          access_lifetime=None, refresh=False, refresh_lifetime=None, refresh_expires_at=None,
          data_access_expires_at=None, lineage=None, rotated_from=None, code=None, consented_at=None,
          access_prefix="", refresh_prefix="", state=ACTIVE):
    """A new token set; lifetimes in seconds (None: no expiry)."""
    moment = now()
    if refresh and refresh_expires_at is None and refresh_lifetime is not None:
        refresh_expires_at = moment + refresh_lifetime
    values = dict(
        lineage=lineage or secrets.token_hex(8), provider=provider, network=network, client_id=client_id,
        person_id=person_id, account_id=account_id, kind=kind,
        access_token=new_secret(access_prefix),
        access_expires_at=None if access_lifetime is None else moment + access_lifetime,
        refresh_token=new_secret(refresh_prefix) if refresh else None,
        refresh_expires_at=refresh_expires_at if refresh else None,
        data_access_expires_at=data_access_expires_at, scopes=scopes, state=state,
        rotated_from=rotated_from, code=code, issued_at=moment, consented_at=consented_at or moment,
    )
    new_id = c.execute(grants.insert().values(**values)).inserted_primary_key[0]
    return dict(values, id=new_id)


def by_access_token(c, token, provider=None):
    statement = sa.select(grants).where(grants.c.access_token == (token or ""))
    if provider:
        statement = statement.where(grants.c.provider == provider)
    return one(c, statement)


def by_refresh_token(c, token, provider):
    return one(c, sa.select(grants).where(grants.c.refresh_token == (token or ""), grants.c.provider == provider))


def access_problem(grant, moment=None):
    """Why an access token no longer works (a state), or None."""
    if grant is None:
        return "unknown"
    if grant["state"] != ACTIVE:
        return grant["state"]
    if grant["access_expires_at"] is not None and grant["access_expires_at"] <= (moment or now()):
        return "expired"
    return None


def refresh_problem(grant, moment=None):
    if grant is None or not grant["refresh_token"]:
        return "unknown"
    if grant["state"] != ACTIVE:
        return grant["state"]
    if grant["refresh_expires_at"] is not None and grant["refresh_expires_at"] <= (moment or now()):
        return "expired"
    return None


def spend_refresh_token(c, grant):
    """Mark a rotating refresh token used. False when it was already spent:
    then the whole grant is revoked (a stolen refresh token was replayed)."""
    spent = c.execute(grants.update().where(grants.c.id == grant["id"], grants.c.refresh_spent_at.is_(None))
                      .values(refresh_spent_at=now())).rowcount
    if not spent:
        set_lineage_state(c, grant["lineage"], "revoked")
    return bool(spent)


def set_lineage_state(c, lineage, state):
    c.execute(grants.update().where(grants.c.lineage == lineage, grants.c.state == ACTIVE).values(state=state))


def effective_state(grant, moment=None):
    """The state an admin sees: a token set that can still be refreshed is
    alive until its refresh token ends."""
    moment = moment or now()
    if grant["state"] != ACTIVE:
        return grant["state"]
    if grant["refresh_token"] and grant["refresh_spent_at"] is None:
        end = grant["refresh_expires_at"]
    else:
        end = grant["access_expires_at"]
    return "expired" if end is not None and end <= moment else ACTIVE


# ---------------------------------------------------------------- faults and the call log


def set_fault(c, network, mode, count):
    c.execute(faults.delete().where(faults.c.network == network))
    if mode != "none" and count > 0:
        c.execute(faults.insert().values(network=network, mode=mode, remaining=int(count)))


def take_fault(c, names):
    """The fault mode armed for the first of `names`, using up one of its calls."""
    for network in names:
        row = one(c, sa.select(faults).where(faults.c.network == network))
        if row is None:
            continue
        taken = c.execute(faults.update().where(faults.c.network == network, faults.c.remaining > 0)
                          .values(remaining=faults.c.remaining - 1)).rowcount
        c.execute(faults.delete().where(faults.c.network == network, faults.c.remaining <= 0))
        if taken:
            return row["mode"]
    return None


def log_call(c, provider, network, endpoint, grant_type, status, outcome):
    c.execute(calls.insert().values(at=now(), provider=provider, network=network, endpoint=endpoint,
                                    grant_type=grant_type, status=status, outcome=outcome[:80]))


def renew(c, grant, *, access_lifetime, new_refresh_token=False, refresh_expires_at=None,
          access_prefix="", refresh_prefix=""):
    """A new access token from `grant`'s refresh token, in the same lineage.

    With `new_refresh_token` the new set carries a refresh token of its own
    (rotation: the caller has spent the old one, or, continuous refresh, the
    old one simply lives out its time); without, the old refresh token stays
    where it is and keeps working."""
    return issue(
        c, grant["provider"], grant["network"], grant["client_id"], grant["person_id"], kind=grant["kind"],
        account_id=grant["account_id"], scopes=grant["scopes"], access_lifetime=access_lifetime,
        refresh=new_refresh_token, refresh_expires_at=refresh_expires_at,
        data_access_expires_at=grant["data_access_expires_at"], lineage=grant["lineage"], rotated_from=grant["id"],
        code=grant["code"], consented_at=grant["consented_at"], access_prefix=access_prefix,
        refresh_prefix=refresh_prefix,
    )


def person(c, person_id):
    return one(c, sa.select(persons).where(persons.c.id == person_id))


def account(c, account_id):
    return one(c, sa.select(accounts).where(accounts.c.id == account_id))
