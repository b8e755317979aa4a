"""Tokens are encrypted at rest, and keys rotate without losing a token."""
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from portal import create_app
from portal.crypto import TokenCipher, unseal
from portal.models import Credential
from tests import factories

ACCESS = "EAAB-plaintext-access-token-0123456789"
REFRESH = "plaintext-refresh-token-9876543210"


def test_seal_and_unseal_round_trip():
    cipher = TokenCipher([Fernet.generate_key().decode()])
    sealed = cipher.seal(ACCESS)
    assert ACCESS not in sealed
    assert cipher.unseal(sealed) == ACCESS
    assert cipher.seal(None) is None and cipher.unseal(None) is None


def test_a_ciphertext_of_another_key_is_refused():
    sealed = TokenCipher([Fernet.generate_key().decode()]).seal(ACCESS)
    with pytest.raises(InvalidToken):
        TokenCipher([Fernet.generate_key().decode()]).unseal(sealed)


def test_no_plaintext_token_in_the_database(app, session, app_context, database):
    org = factories.organization(session)
    profile = factories.profile(session, org, network="x")
    factories.credential(session, profile, access_token=ACCESS, refresh_token=REFRESH)

    with database["engine"].connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM credential")).all()
    dump = repr(rows)
    assert rows and ACCESS not in dump and REFRESH not in dump
    if database["kind"] == "sqlite":
        path = Path(database["url"].removeprefix("sqlite:///"))
        with database["engine"].connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        # Read by another process: closing a file of an open SQLite database
        # in this one would drop this process's locks on it (POSIX locks).
        files = [str(p) for p in path.parent.glob(path.name + "*")]
        raw = subprocess.run(["cat", *files], capture_output=True, check=True).stdout
        assert ACCESS.encode() not in raw and REFRESH.encode() not in raw

    stored = session.get(Credential, rows[0].id)
    assert unseal(stored.sealed_access_token) == ACCESS
    assert unseal(stored.sealed_refresh_token) == REFRESH


def test_rotation_reseals_every_credential_with_the_newest_key(app, app_config, session, app_context):
    old_key = app.config["TOKEN_KEYS"][0]
    org = factories.organization(session)
    tokens = []
    for n in range(3):
        profile = factories.profile(session, org, network="tiktok")
        refresh = f"refresh-{n}" if n else None
        factories.credential(session, profile, access_token=f"access-{n}", refresh_token=refresh)
        tokens.append((f"access-{n}", refresh))

    new_key = Fernet.generate_key().decode()
    rotating = create_app({**app_config, "TOKEN_KEYS": [new_key, old_key]})
    with rotating.app_context():  # the test's own context is the old app's
        result = rotating.test_cli_runner().invoke(args=["rotate-token-keys"])
    assert result.exit_code == 0, result.output
    assert "3 credential(s)" in result.output
    rotating.extensions["keepalive.engine"].dispose()

    only_new = TokenCipher([new_key])
    only_old = TokenCipher([old_key])
    session.rollback()  # end the snapshot the session was reading in
    credentials = session.exec(sa.select(Credential).order_by(Credential.id)).scalars().all()
    for credential, (access, refresh) in zip(credentials, tokens, strict=True):
        assert only_new.unseal(credential.sealed_access_token) == access
        assert only_new.unseal(credential.sealed_refresh_token) == refresh
        with pytest.raises(InvalidToken):
            only_old.unseal(credential.sealed_access_token)


def test_production_refuses_to_start_without_keys(monkeypatch, tmp_path):
    from portal.config import Config, ConfigurationError

    env = {"KEEPALIVE_ENV": "production", "SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigurationError, match="TOKEN_KEYS"):
        Config(tmp_path, env)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Config(tmp_path, {"KEEPALIVE_ENV": "production", "TOKEN_KEYS": Fernet.generate_key().decode()})
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        Config(tmp_path, {**env, "TOKEN_KEYS": "not-a-key"})
    config = Config(tmp_path, {**env, "TOKEN_KEYS": Fernet.generate_key().decode()})
    assert config.SESSION_COOKIE_SECURE and not config.SANDBOX and not config.DEV_TOOLS


def test_development_keeps_its_generated_secrets(tmp_path):
    from portal.config import Config

    first, second = Config(tmp_path, {}), Config(tmp_path, {})
    assert first.SECRET_KEY == second.SECRET_KEY and len(first.SECRET_KEY) >= 32
    assert first.TOKEN_KEYS == second.TOKEN_KEYS
    assert (tmp_path / "token_key").stat().st_mode & 0o077 == 0
