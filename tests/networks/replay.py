"""A local HTTP server that answers as the real networks' documentation says
they answer: each answer is a fixture file, `fixtures/<network>/<name>.json`,
holding the request it answers (method and URL), the status, headers and
body of the answer, and the documentation page it comes from.

The adapters reach it through their one URL rewrite (`network_url`): a call
to `https://HOST/PATH` arrives as `/sandbox/HOST/PATH`. Answers are keyed by
method, host and path; several answers served for one key are given in
turn, the last one again for every later call. Every request is kept, for
the tests to read what the adapter sent.

    replay.serve("tiktok/token", "tiktok/user_info")
    adapter = replay.adapter("tiktok")
"""
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from portal.networks import adapter_for
from tests import serving

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_ID, CLIENT_SECRET = "client-id", "client-secret"
CLIENT_SETTINGS = ("FACEBOOK", "INSTAGRAM", "THREADS", "X", "LINKEDIN", "GOOGLE", "PINTEREST")


def fixture(name):
    """The fixture `name` ("tiktok/user_info"), read from its file."""
    answer = json.loads((FIXTURES / f"{name}.json").read_text())
    assert answer.get("source", "").startswith("https://"), f"{name}: no documentation page"
    return answer


def key_of(method, url):
    parts = urlsplit(url)
    return method.upper(), parts.netloc + (parts.path or "/")


@dataclass
class Request:
    method: str
    url: str  # https://HOST/PATH?QUERY, as the adapter meant it
    headers: dict
    query: dict
    form: dict = field(default_factory=dict)

    @property
    def params(self):
        return {**self.query, **self.form}


class Replay:
    def __init__(self):
        self.answers = defaultdict(list)
        self.requests = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = serving.start(self.server)

    def serve(self, *names, **changes):
        """Answer each fixture's request with it; `changes` replace parts of
        the answers (`status`, `headers`, `body`)."""
        for name in names:
            answer = {**fixture(name), **changes}
            self.answers[key_of(answer["request"]["method"], answer["request"]["url"])].append(answer)
        return self

    def reset(self):
        self.answers.clear()
        self.requests.clear()

    def sent(self, method, url):
        """The requests the adapter sent to `method url` (query ignored)."""
        wanted = key_of(method, url)
        return [r for r in self.requests if key_of(r.method, r.url) == wanted]

    def config(self, **overrides):
        """App settings whose networks are this server."""
        config = {"SANDBOX": True, "SANDBOX_BASE_URL": self.url, "NETWORK_TIMEOUT": 5,
                  "GRAPH_API_VERSION": "v25.0", "TIKTOK_CLIENT_KEY": CLIENT_ID,
                  "TIKTOK_CLIENT_SECRET": CLIENT_SECRET}
        for name in CLIENT_SETTINGS:
            config[f"{name}_CLIENT_ID"] = CLIENT_ID
            config[f"{name}_CLIENT_SECRET"] = CLIENT_SECRET
        return {**config, **overrides}

    def adapter(self, network, **overrides):
        return adapter_for(network, self.config(**overrides))

    def close(self):
        serving.stop(self.server, self.thread)
        self.thread.join(5)

    def _answer(self, request):
        key = key_of(request.method, request.url)
        with self._lock:
            self.requests.append(request)
            queued = self.answers.get(key)
            if not queued:
                return 404, {}, {"error": f"no fixture answers {key[0]} {key[1]}"}
            answer = queued.pop(0) if len(queued) > 1 else queued[0]
        return answer["status"], answer.get("headers") or {}, answer.get("body")

    def _handler(self):
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self):
                parts = urlsplit(self.path)
                rest = parts.path.removeprefix("/sandbox/")
                url = "https://" + rest + (f"?{parts.query}" if parts.query else "")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = dict(parse_qsl(raw)) if "urlencoded" in (self.headers.get("Content-Type") or "") else {}
                request = Request(self.command, url, {k.lower(): v for k, v in self.headers.items()},
                                  dict(parse_qsl(parts.query)), form)
                status, headers, body = replay._answer(request)
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _reply

            def log_message(self, *args):  # keep the test output quiet
                pass

        return Handler
