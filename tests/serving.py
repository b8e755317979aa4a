"""Servers on loopback for the tests, each in a thread of its own, stopped
at once when a test ends."""
import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

# How soon a serving loop notices it is asked to stop: socketserver's own
# 0.5 s would be waited at the end of every test with a server.
POLL_SECONDS = 0.02


def start(server):
    """Serve `server` (a socketserver) in a thread; the thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    return thread


def stop(server, thread):
    server.shutdown()
    thread.join(10)
    server.server_close()


@contextmanager
def served(app):
    """The WSGI `app` served by Werkzeug on 127.0.0.1 and a free port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = start(server)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop(server, thread)
