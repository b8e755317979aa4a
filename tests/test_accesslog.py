"""The access log of the web server keeps no token, code or link secret: the
OAuth callback's `code`, the sandbox's tokens and the secrets in the paths of
emailed links are written `[redacted]`."""
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from devkit.run import ROOT, free_port
from portal import accesslog

CODE = "AQD-sandbox-code-7f3a9c"


def test_a_request_line_keeps_its_path_and_loses_its_secrets(caplog):
    accesslog.install()
    accesslog.install()  # once is enough, however many apps a process creates
    assert sum(isinstance(each, accesslog.Scrubbed) for each in logging.getLogger("werkzeug").filters) == 1
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"%s" %s %s', f"GET /renew/callback/facebook?code={CODE}&state=s1 HTTP/1.1",
                                           302, "-")
    assert caplog.messages == ['"GET /renew/callback/facebook?code=[redacted]&state=s1 HTTP/1.1" 302 -']


SECRET = "Zq3v-8sKp_Ta91xYw0bLmN4rD2eF6gH7"


@pytest.mark.parametrize(("path", "written"), [
    (f"/renew/link/{SECRET}", "/renew/link/[redacted]"),
    (f"/renew/client/{SECRET}?x=1", "/renew/client/[redacted]?x=1"),
    (f"/reset/{SECRET}", "/reset/[redacted]"),
    (f"/invitations/{SECRET}", "/invitations/[redacted]"),
    (f"/signup/confirm/{SECRET}", "/signup/confirm/[redacted]"),
    (f"/connect/{SECRET}/networks/facebook", "/connect/[redacted]/networks/facebook"),
    ("/renew/client/done", "/renew/client/done"),
    ("/reset/sent", "/reset/sent"),
    ("/connect/thanks", "/connect/thanks"),
    ("/settings/invitations/12/revoke", "/settings/invitations/12/revoke"),
    ("/accounts/connect/invite", "/accounts/connect/invite"),
])
def test_the_secrets_of_links_are_not_written(caplog, path, written):
    accesslog.install()
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"%s" %s %s', f"GET {path} HTTP/1.1", 200, "-")
    assert caplog.messages == [f'"GET {written} HTTP/1.1" 200 -']
    assert SECRET not in caplog.text


@pytest.mark.slow
def test_gunicorn_writes_the_callback_without_its_code(tmp_path, redis_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BASE_URL", "SECRET_KEY")}
    env.update(KEEPALIVE_INSTANCE=str(tmp_path), REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url, SANDBOX="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/renew/callback/facebook?code={CODE}&state=s1"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.build_opener(NoRedirects).open(url, timeout=5)
                break
            except urllib.error.HTTPError:
                break  # answered
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "/renew/callback/facebook?code=[redacted]&state=s1" in output, output
    assert CODE not in output


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
