"""Configuration read from the environment (and a `.env` file).

Development keeps a generated secret key and token key in `instance/`, so a
fresh checkout runs with no set-up; production refuses to start without real
ones and says which variable to set.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from portal.networks import DEFAULT_GRAPH_API_VERSION, DEFAULT_LINKEDIN_API_VERSION, SANDBOX_CLIENT, client_settings

# Seconds before a Redis that does not answer is given up on (the queue and
# sessions' connection, and the rate limits'): a request waits seconds, not minutes.
REDIS_TIMEOUTS = {"socket_timeout": 5, "socket_connect_timeout": 2}


class ConfigurationError(RuntimeError):
    """A setting production cannot run without is missing or unsafe."""


def _flag(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env, name, default, kind=int):
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return kind(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {value!r}.") from None


def _items(value):
    """The parts of a setting that lists several, separated by commas or spaces."""
    return (value or "").replace(",", " ").split()


def _seconds(env, name, default):
    """A list of whole seconds from a setting, separated by commas or spaces."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return list(default)
    try:
        seconds = [int(part) for part in _items(value)]
    except ValueError:
        seconds = [-1]
    if any(second < 0 for second in seconds):
        raise ConfigurationError(f"{name} must be whole seconds separated by commas, not {value!r}.")
    return seconds


def _kept_secret(instance_path, name, make):
    """A development secret generated once and kept in the instance folder."""
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _names(value):
    """A list of host names from a setting, separated by commas or spaces, lower-cased."""
    return [name.lower() for name in _items(value)]


def _choice(env, name, choices, default):
    value = (env.get(name) or "").strip().lower() or default
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def database_url(url):
    """SQLAlchemy's spelling of a database URL, with psycopg 3 for PostgreSQL."""
    if not url:
        return url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Every setting, read from the environment when the app is created."""

    def __init__(self, instance_path, environ=None):
        env = os.environ if environ is None else environ
        self.ENV_NAME = env.get("KEEPALIVE_ENV", "development").strip().lower()
        production = self.ENV_NAME == "production"

        self.SECRET_KEY = env.get("SECRET_KEY", "")
        keys = [k.strip() for k in env.get("TOKEN_KEYS", "").split(",") if k.strip()]
        if production:
            if len(self.SECRET_KEY) < 32:
                raise ConfigurationError(
                    "Set SECRET_KEY to a random string of at least 32 characters "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
                )
            if not keys:
                raise ConfigurationError(
                    "Set TOKEN_KEYS to one or more Fernet keys, newest first "
                    "(python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')."
                )
        else:
            self.SECRET_KEY = self.SECRET_KEY or _kept_secret(
                instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
            )
            keys = keys or [
                _kept_secret(instance_path, "token_key", lambda: Fernet.generate_key().decode())
            ]
        for key in keys:
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ConfigurationError(
                    "TOKEN_KEYS holds a value that is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)."
                ) from None
        self.TOKEN_KEYS = keys

        self.DATABASE_URL = database_url(env.get("DATABASE_URL")) or (
            f"sqlite:///{Path(instance_path) / 'keepalive.sqlite'}"
        )
        self.REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.QUEUE_NAME = env.get("QUEUE_NAME", "keepalive")
        # Before every key of the app's own in Redis (`portal.queue.redis_key`).
        self.REDIS_KEY_PREFIX = env.get("REDIS_KEY_PREFIX", "keepalive")
        self.BASE_URL = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.SANDBOX = _flag(env.get("SANDBOX"), default=not production)
        self.SANDBOX_DATABASE_URL = database_url(env.get("SANDBOX_DATABASE_URL")) or (
            f"sqlite:///{Path(instance_path) / 'sandbox.sqlite'}"
        )
        self.SANDBOX_TIMEOUT_SECONDS = _number(env, "SANDBOX_TIMEOUT_SECONDS", 15.0, float)
        # Where the sandbox answers for the networks; empty: BASE_URL.
        self.SANDBOX_BASE_URL = env.get("SANDBOX_BASE_URL", "").rstrip("/")
        # Meta keeps each version about two years; Owners are warned 30 days before it ends.
        self.GRAPH_API_VERSION = env.get("GRAPH_API_VERSION", DEFAULT_GRAPH_API_VERSION)
        # LinkedIn's versioned APIs (/rest) want a YYYYMM version, each supported about a year.
        self.LINKEDIN_API_VERSION = env.get("LINKEDIN_API_VERSION", DEFAULT_LINKEDIN_API_VERSION)
        self.NETWORK_TIMEOUT = _number(env, "NETWORK_TIMEOUT", 10.0, float)
        # One OAuth client per network family; the sandbox registers its own.
        default_id, default_secret = SANDBOX_CLIENT if self.SANDBOX else ("", "")
        for id_name, secret_name in client_settings():
            setattr(self, id_name, env.get(id_name) or default_id)
            setattr(self, secret_name, env.get(secret_name) or default_secret)
        self.DEV_MAIL_DIR = env.get("DEV_MAIL_DIR") or str(Path(instance_path) / "mail")
        self.DEV_TOOLS = not production

        self.MAIL_SERVER = env.get("MAIL_SERVER", "127.0.0.1")
        self.MAIL_PORT = _number(env, "MAIL_PORT", 1025)
        self.MAIL_USE_TLS = _flag(env.get("MAIL_USE_TLS"))
        self.MAIL_USE_SSL = _flag(env.get("MAIL_USE_SSL"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER", "Keepalive <keepalive@localhost>")
        self.MAIL_TIMEOUT = _number(env, "MAIL_TIMEOUT", 10.0, float)
        # A message the relay cannot take now is tried again after each of these waits
        # (`portal.mailer.enqueue_message`): four tries over a quarter of an hour.
        self.MAIL_RETRY_INTERVALS = _seconds(env, "MAIL_RETRY_INTERVALS", (60, 240, 600))
        # Slack, outgoing webhooks and push services: seconds to wait for an answer.
        self.WEBHOOK_TIMEOUT = _number(env, "WEBHOOK_TIMEOUT", 10.0, float)
        # Web push ("mobile notifications"): a key pair from `flask --app wsgi vapid-keys`.
        self.VAPID_PRIVATE_KEY = env.get("VAPID_PRIVATE_KEY", "")
        self.VAPID_PUBLIC_KEY = env.get("VAPID_PUBLIC_KEY", "")
        self.VAPID_SUBJECT = env.get("VAPID_SUBJECT", "mailto:keepalive@localhost")
        # Push services accepted beside the browsers' own (`portal.notifications.webpush`):
        # a local stand-in in development and tests; none unless set.
        self.PUSH_EXTRA_HOSTS = _names(env.get("PUSH_EXTRA_HOSTS"))

        # A session ends after this long without a request; a remembered one this
        # long after sign-in (`portal.auth.sessions`).
        self.SESSION_IDLE_HOURS = _number(env, "SESSION_IDLE_HOURS", 12)
        self.REMEMBER_DAYS = _number(env, "REMEMBER_DAYS", 14)
        self.REMEMBER_COOKIE_DURATION = timedelta(days=self.REMEMBER_DAYS)
        # The signed session cookie is refused past this age, whatever Redis holds.
        self.PERMANENT_SESSION_LIFETIME = timedelta(days=self.REMEMBER_DAYS)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = production
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = production
        self.PREFERRED_URL_SCHEME = "https" if production else "http"
        self.TRUSTED_PROXIES = _number(env, "TRUSTED_PROXIES", 0)

        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI") or self.REDIS_URL
        if self.RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://", "redis+unix://")):
            self.RATELIMIT_STORAGE_OPTIONS = dict(REDIS_TIMEOUTS)
        # A storage that does not answer refuses the attempt (503, `portal.unavailable`) rather than
        # let it through uncounted (swallowed) or count it in this process alone (the fallback).
        self.RATELIMIT_SWALLOW_ERRORS = False
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
        self.RATELIMIT_HEADERS_ENABLED = True
        self.LOGIN_ATTEMPTS_PER_MINUTE = _number(env, "LOGIN_ATTEMPTS_PER_MINUTE", 10)
        # Requests each API key may make a minute (`portal.api`); past them, 429 with Retry-After.
        self.API_REQUESTS_PER_MINUTE = _number(env, "API_REQUESTS_PER_MINUTE", 600)
        self.LINK_LIFETIME_HOURS = _number(env, "LINK_LIFETIME_HOURS", 72)
        # Whether anyone may create an agency at /signup; `create-agency` works either way.
        self.SIGNUP = _choice(env, "SIGNUP", ("open", "closed"), "closed" if production else "open")
        self.SCAN_INTERVAL_SECONDS = _number(env, "SCAN_INTERVAL_SECONDS", 600)

        self.BABEL_DEFAULT_LOCALE = "en"
        self.LANGUAGES = ["en", "fr", "de", "nl"]
        # The .po catalogues live here; `make` compiles them to .mo beside them.
        self.BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")
        self.WTF_CSRF_TIME_LIMIT = None  # the session bounds a token's life
        # The cost of password hashes: an argon2-cffi profile (`portal.auth.passwords`).
        self.PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if k.isupper()}
