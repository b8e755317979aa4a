"""A real HTTP server on loopback standing in for Slack, a webhook receiver
or a push service: it keeps every request and answers with the next status
of its script (then 200); "hang" in the script holds the answer until
`release` is set (or the receiver closes), and (status, url) redirects there."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests import serving


class Receiver:
    def __init__(self):
        self.requests = []  # (path, headers dict with lower-case names, body bytes)
        self.statuses = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == "hang":
                    receiver.release.wait(30)
                    status = 200
                status, location = status if isinstance(status, tuple) else (status, None)
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST  # what a redirect followed by a client that turns POST into GET would send

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = serving.start(self.server)

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.release.set()
        serving.stop(self.server, self.thread)
