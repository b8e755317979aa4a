"""`python -m devkit.run` (what `make run` runs): choosing a Redis,
building the commands, and a real run stopped by SIGTERM or by a dying child."""
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from redis import Redis
from rq import Queue, Worker

from devkit import run as run_command
from devkit.run import (
    LOCAL_REDIS,
    ROOT,
    child_environment,
    choose_redis,
    commands,
    free_port,
    port_answers,
    port_is_free,
    redis_answers,
    redis_server_binary,
    redis_server_command,
    start_private_redis,
    stop,
)


def closed_url():
    return f"redis://127.0.0.1:{free_port()}/0"


def test_configured_redis_that_answers_is_used(redis_url):
    assert choose_redis(redis_url) == redis_url


def test_configured_redis_that_does_not_answer_falls_back_to_the_local_one():
    configured = closed_url()
    seen = []

    def answers(url):
        seen.append(url)
        return redis_answers(url) if url == configured else url == LOCAL_REDIS

    assert choose_redis(configured, answers) == LOCAL_REDIS
    assert seen == [configured, LOCAL_REDIS]


def test_no_redis_answering_means_a_private_one():
    assert choose_redis(closed_url(), answers=lambda url: False) is None
    assert choose_redis(None, answers=lambda url: False) is None


@pytest.mark.slow
def test_private_redis_is_started_and_stopped():
    child, url = start_private_redis()
    try:
        assert url != LOCAL_REDIS
        connection = Redis.from_url(url)
        connection.set("devrun-test", "1")
        assert connection.get("devrun-test") == b"1"
        connection.close()
    finally:
        stop(child)
    assert not child.running
    assert not redis_answers(url, timeout=0.5)


def test_redis_binary_and_command():
    assert redis_server_binary(which=lambda name: "/opt/redis/bin/redis-server") == "/opt/redis/bin/redis-server"
    command = redis_server_command("/usr/bin/redis-server", 6390)
    assert command == ["/usr/bin/redis-server", "--save", "", "--appendonly", "no",
                       "--port", "6390", "--bind", "127.0.0.1", "--loglevel", "warning"]


def test_commands_share_one_redis_and_queue():
    built = commands("/venv/bin/python", 5001, "redis://127.0.0.1:7000/0", "keepalive", 1026, "/tmp/mail")
    assert list(built) == ["mail capture", "web server", "worker", "scheduler"]
    assert built["web server"][-4:] == ["--host", "127.0.0.1", "--port", "5001"]
    assert built["worker"][-7:] == ["worker", "--worker-class", "jobs.worker.Worker", "--with-scheduler", "--url",
                                   "redis://127.0.0.1:7000/0", "keepalive"]
    assert built["scheduler"][-3:] == ["--url", "redis://127.0.0.1:7000/0", "jobs/cron.py"]
    assert built["mail capture"][-4:] == ["--port", "1026", "--dir", "/tmp/mail"]
    web = commands("py", 5001, "redis://x", "q", 1025, "/m", gunicorn=True)["web server"]
    assert web[:3] == ["py", "-m", "gunicorn"] and "127.0.0.1:5001" in web


def test_child_environment():
    env = child_environment({"PATH": "/bin"}, "redis://r", 1026, "/tmp/mail", "http://127.0.0.1:5001")
    assert env["REDIS_URL"] == "redis://r" and env["MAIL_PORT"] == "1026"
    assert env["MAIL_SERVER"] == "127.0.0.1" and env["DEV_MAIL_DIR"] == "/tmp/mail"
    assert env["BASE_URL"] == "http://127.0.0.1:5001"
    kept = child_environment({"BASE_URL": "https://portal.example"}, "redis://r", 1025, "/m", "http://x")
    assert kept["BASE_URL"] == "https://portal.example"


def test_busy_port_is_refused_before_anything_starts(monkeypatch, tmp_path):
    import socket

    monkeypatch.setenv("KEEPALIVE_INSTANCE", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(run_command.StartupError, match=f"Port {port} is in use"):
            run_command.run(port)


class Run:
    """`python -m devkit.run` as `make run` starts it, output collected."""

    def __init__(self, tmp_path, redis_url):
        self.port = free_port()
        self.mail_port = free_port()
        self.queue = f"devrun-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BASE_URL", "PORT")}
        env.update(KEEPALIVE_INSTANCE=str(tmp_path / "instance"), REDIS_URL=redis_url,
                   QUEUE_NAME=self.queue, MAIL_PORT=str(self.mail_port), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devkit.run", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return "".join(self.lines)

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, self.output
            time.sleep(0.1)

    def workers(self):
        connection = Redis.from_url(self.redis_url)
        return Worker.all(connection=connection, queue=Queue(self.queue, connection=connection))

    def finish(self, timeout=30):
        code = self.process.wait(timeout)
        self.reader.join(5)
        assert not self.reader.is_alive(), "a process of the run outlived it:\n" + self.output
        self.process.stdout.close()
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def sign_in(base_url, email, password):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base_url}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page)
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token.group(1)})
    response = opener.open(f"{base_url}/login", data=form.encode(), timeout=10)
    return response.geturl(), response.read().decode()


@pytest.fixture
def private_redis():
    """A Redis of the test's own, stopped after it: what a real run leaves
    (its scheduler's scans and their time, its jobs) meets no other test."""
    child, url = start_private_redis()
    yield url
    stop(child)


@pytest.mark.slow
@pytest.mark.worker
def test_a_real_run_serves_the_demo_and_stops_on_sigterm(tmp_path, private_redis):
    run = Run(tmp_path, private_redis)
    try:
        run.wait_for("Press Ctrl-C to stop.")
        base_url = f"http://127.0.0.1:{run.port}"
        assert f"{base_url}/dev/mail" in run.output and "owner@demo.test" in run.output
        assert "keepalive-demo" in run.output

        url, page = sign_in(base_url, "owner@demo.test", "keepalive-demo")
        assert url == f"{base_url}/" and "Northwind Agency" in page

        deadline = time.monotonic() + 15
        while not run.workers():
            assert time.monotonic() < deadline, run.output
            time.sleep(0.1)
        health = urllib.request.urlopen(f"{base_url}/healthz", timeout=5).read().decode()
        assert '"workers":1' in health.replace(" ", "")
        assert port_answers(run.mail_port)

        run.process.send_signal(signal.SIGTERM)
        assert run.finish() == 0, run.output
    finally:
        run.kill()
    # Nothing listens any more. (Binding may still fail for a minute: the mail capture closes an SMTP
    # connection first, after QUIT, so its port keeps the worker's delivery in TIME_WAIT.)
    assert not port_answers(run.port) and not port_answers(run.mail_port)
    assert run.workers() == []


def alive(pid):
    """Running (not gone, not a zombie waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_a_dying_child_is_named_and_its_group_cleaned_up(tmp_path):
    """A child whose leader died (SIGKILL) may leave its own children (the
    worker's scheduler): they are stopped with it."""
    pid_file = tmp_path / "grandchild.pid"
    child = run_command.start("worker", ["sh", "-c", f"sleep 60 & echo $! > {pid_file}; exec sleep 60"])
    others = [run_command.start("web server", ["sleep", "60"])]
    try:
        deadline = time.monotonic() + 5
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        grandchild = int(pid_file.read_text())
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait(5)
        assert alive(grandchild)
        with pytest.raises(run_command.StartupError, match="The worker stopped unexpectedly"):
            run_command.check_children(others + [child])
        run_command.stop_all(others + [child], grace=5)
        assert not others[0].running
        deadline = time.monotonic() + 5
        while alive(grandchild):
            assert time.monotonic() < deadline, "the orphan of the dead child is still running"
            time.sleep(0.02)
    finally:
        for leftover in others + [child]:
            if leftover.running:
                leftover.process.kill()
                leftover.process.wait()


def test_no_demo_prepares_an_empty_portal_beside_the_sandbox_samples(tmp_path, capsys):
    """`make run RUN_ARGS=--no-demo`: the newest schema, no agency, and the
    sandbox network's own sample people and accounts to connect."""
    import sqlalchemy as sa
    from sqlmodel import Session, select

    from devkit.sandbox import samples, store
    from portal import create_app
    from portal.models import Organization, User

    app = create_app({"TESTING": True, "SANDBOX": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite'}",
                      "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite'}"})
    run_command.prepare_database(app, demo=False)
    run_command.prepare_database(app, demo=False)  # safe to repeat
    assert "no demo agency" in capsys.readouterr().out
    with Session(app.extensions["keepalive.engine"]) as session:
        assert session.exec(select(Organization)).all() == [] and session.exec(select(User)).all() == []
    with app.app_context(), store.transaction() as c:
        emails = {row["email"] for row in store.many(c, sa.select(store.persons.c.email))}
        assert set(samples.PEOPLE) <= emails
    app.extensions["sandbox.engine"].dispose()
    app.extensions["keepalive.engine"].dispose()

    banner = run_command.banner("http://127.0.0.1:5000", "redis://r", False, 1025, demo=False)
    assert "http://127.0.0.1:5000/signup" in banner and "keepalive-demo" not in banner
    assert "keepalive-demo" in run_command.banner("http://127.0.0.1:5000", "redis://r", False, 1025)


def test_no_demo_is_an_option_of_the_command(monkeypatch):
    seen = {}
    monkeypatch.setattr(run_command.signal, "signal", lambda *args: None)  # the test's own handlers stay
    monkeypatch.setattr(run_command, "run", lambda port, use_gunicorn=False, demo=True: seen.update(demo=demo))
    assert run_command.main(["--no-demo"]) == 0 and seen == {"demo": False}
    assert run_command.main([]) == 0 and seen == {"demo": True}
