"""Settings come from the environment; production refuses unsafe ones in one line."""
import subprocess
import sys

import pytest

from portal import ROOT
from portal.config import Config, ConfigurationError


def test_defaults_for_development(tmp_path):
    config = Config(tmp_path, {})
    assert config.DATABASE_URL == f"sqlite:///{tmp_path / 'keepalive.sqlite'}"
    assert config.SANDBOX and config.DEV_TOOLS
    assert config.MAIL_PORT == 1025
    assert config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"


def test_postgresql_urls_use_psycopg(tmp_path):
    config = Config(tmp_path, {"DATABASE_URL": "postgresql://u@db:5432/keepalive"})
    assert config.DATABASE_URL == "postgresql+psycopg://u@db:5432/keepalive"


def test_extra_push_hosts_are_none_unless_set(tmp_path):
    assert Config(tmp_path, {}).PUSH_EXTRA_HOSTS == []
    config = Config(tmp_path, {"PUSH_EXTRA_HOSTS": "127.0.0.1, Push.Example.test  *.push.example.net"})
    assert config.PUSH_EXTRA_HOSTS == ["127.0.0.1", "push.example.test", "*.push.example.net"]


def test_a_malformed_number_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="MAIL_PORT must be a number"):
        Config(tmp_path, {"MAIL_PORT": "twenty-five"})


def test_mail_is_tried_again_after_the_waits_the_settings_give(tmp_path):
    assert Config(tmp_path, {}).MAIL_RETRY_INTERVALS == [60, 240, 600]
    assert Config(tmp_path, {"MAIL_RETRY_INTERVALS": "5, 30 120"}).MAIL_RETRY_INTERVALS == [5, 30, 120]
    for value in ("soon", "60,-1", "1.5"):
        with pytest.raises(ConfigurationError, match="MAIL_RETRY_INTERVALS must be whole seconds"):
            Config(tmp_path, {"MAIL_RETRY_INTERVALS": value})


@pytest.mark.slow
def test_production_without_secrets_exits_with_one_line(tmp_path):
    env = {"KEEPALIVE_ENV": "production", "KEEPALIVE_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_the_entry_point_keeps_what_starting_made_out_of_garbage_collections(tmp_path):
    """A full collection scans every object a process holds: the app's own
    (modules, routes, mappings) are frozen once it is made (`wsgi.py`)."""
    env = {"KEEPALIVE_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    script = "import gc; before = gc.get_freeze_count(); import wsgi; print(before, gc.get_freeze_count())"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split())
    assert before == 0 and after > 50_000
