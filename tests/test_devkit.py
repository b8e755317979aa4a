"""The development tools (`devkit/`) stay apart from the product: a production
app never imports them, the wheel leaves them out, and a setting that needs
them where they are missing says so."""
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from fnmatch import fnmatch

import pytest

from portal import ROOT, create_app
from portal.config import ConfigurationError


@pytest.mark.usefixtures("sandbox_mounted")
def test_development_mounts_the_sandbox_mail_and_demo_command(app):
    assert {"sandbox", "devmail"} <= set(app.blueprints)
    assert "seed-demo" in app.cli.commands


@pytest.mark.slow
def test_production_never_imports_the_development_tools(tmp_path):
    env = {
        "KEEPALIVE_ENV": "production",
        "SECRET_KEY": "x" * 48,
        "TOKEN_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
        "KEEPALIVE_INSTANCE": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    probe = (
        "import json, sys\n"
        "from wsgi import app\n"
        "print(json.dumps({'blueprints': sorted(app.blueprints), 'commands': sorted(app.cli.commands),\n"
        "                  'devkit': sorted(m for m in sys.modules if m.partition('.')[0] == 'devkit')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["devkit"] == []
    assert "accounts" in seen["blueprints"] and not {"sandbox", "devmail"} & set(seen["blueprints"])
    assert "db-upgrade" in seen["commands"] and "seed-demo" not in seen["commands"]


@pytest.mark.parametrize("setting", ["SANDBOX", "DEV_TOOLS"])
def test_a_tool_turned_on_without_the_devkit_is_a_clear_error(app_config, monkeypatch, setting):
    monkeypatch.setitem(sys.modules, "devkit", None)  # as in an install of the wheel
    config = {**app_config, "SANDBOX": False, "DEV_TOOLS": False, setting: True}
    with pytest.raises(ConfigurationError, match="need the devkit package"):
        create_app(config)


def test_without_the_devkit_the_product_runs_with_the_tools_off(app_config, monkeypatch):
    monkeypatch.setitem(sys.modules, "devkit", None)
    app = create_app({**app_config, "SANDBOX": False, "DEV_TOOLS": False})
    app.extensions["keepalive.engine"].dispose()
    assert "accounts" in app.blueprints and "sandbox" not in app.blueprints


def test_the_wheel_leaves_the_devkit_out():
    """What `[tool.setuptools.packages.find]` puts in the wheel (setuptools
    matches each dotted package name against the patterns)."""
    with open(Path(ROOT) / "pyproject.toml", "rb") as pyproject:
        find = tomllib.load(pyproject)["tool"]["setuptools"]["packages"]["find"]

    def shipped(package):
        return any(fnmatch(package, pattern) for pattern in find.get("include", ["*"])) and not any(
            fnmatch(package, pattern) for pattern in find.get("exclude", [])
        )

    root = Path(ROOT)
    devkit = ["devkit"] + [
        ".".join(folder.relative_to(root).parts) for folder in (root / "devkit").rglob("*")
        if folder.is_dir() and folder.name != "__pycache__"
    ]
    assert shipped("portal") and shipped("portal.networks") and shipped("jobs")
    assert not [package for package in devkit if shipped(package)]
