"""Where a page's time goes: pyinstrument over N requests through Flask's
test client (one process, no server) on the pages database of the last run.

    pip install pyinstrument      (into the venv, for the benchmark only)
    python -m bench.profile_pages PATH [N] [htmx]

Prints the call tree and the functions by their own time; keeps both in bench/out.
"""
import re
import sys

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

from bench import world
from bench.wsgi_bench import app


def signed_in_client():
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": world.OWNER, "password": world.PASSWORD, "csrf_token": token})
    return client


def main(path, count=200, htmx=False):
    client = signed_in_client()
    headers = {"HX-Request": "true"} if htmx else {}
    assert client.get(path, headers=headers).status_code == 200  # templates compiled before profiling
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(count):
            client.get(path, headers=headers)
    name = path.strip("/").replace("/", "-")
    tree = profiler.output_text(color=False, unicode=True, show_all=False)
    flat = profiler.output(ConsoleRenderer(color=False, unicode=True, flat=True))
    (world.OUT / f"profile-{name}.txt").write_text(tree + "\n" + flat)
    print(tree)
    print("\n".join(flat.splitlines()[:40]))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200, "htmx" in sys.argv[3:])
