"""The pages benchmark's Python steps (wrk does the driving, from run.sh).

    python -m bench.pages seed DATABASE_URL   a fresh database for the pages
    python -m bench.pages render [ROUNDS]     each page and its baseline rendered in one process (Flask's
                                              test client, no server), in turns; writes render.json
    python -m bench.pages signin BASE_URL     sign in as the Owner, check every endpoint (and that an
                                              unchanged repeat view answers 304), print the Cookie header
    python -m bench.pages endpoints           "name path kind" lines for wrk (kind: page, htmx, or
                                              conditional: the page again with the ETag it was given)

No page is kept on the server: every answer renders, but an unchanged repeat
view, which answers 304 Not Modified (`portal.web.conditional`).
"""
import http.cookiejar
import json
import re
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from bench import world

# (name, path, kind), in the order wrk drives them: each page right before its baseline.
ENDPOINTS = [
    ("accounts", "/accounts", "page"),
    ("baseline_accounts", "/bench/baseline/accounts", "page"),
    ("dropdown", "/accounts/expired-tokens", "htmx"),
    ("baseline_dropdown", "/bench/baseline/dropdown", "htmx"),
    ("accounts_unchanged", "/accounts", "conditional"),
]
# (page, its baseline): what one process renders in turns.
RENDERED = [("accounts", "baseline_accounts"), ("dropdown", "baseline_dropdown")]
HTMX = {"HX-Request": "true"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')
ETAG_FILE = "accounts-etag"


def seed(database_url):
    app = world.bench_app(database_url)
    world.create_schema(app)
    print(world.seed_pages(app, world.now()))


def path_of(name):
    return next(path for endpoint, path, _ in ENDPOINTS if endpoint == name)


def headers_of(kind):
    return HTMX if kind == "htmx" else {}


def kind_of(name):
    return next(kind for endpoint, _, kind in ENDPOINTS if endpoint == name)


def render(rounds=7, requests=20):
    """Each page and its baseline through Flask's test client in one process,
    in turns of `requests` requests: the median and best milliseconds a
    request (wall clock and CPU), and the bytes of an answer."""
    from bench.wsgi_bench import app

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = next(group for group in CSRF.search(page).groups() if group)
    client.post("/login", data={"email": world.OWNER, "password": world.PASSWORD, "csrf_token": token})
    results = {}
    for name, baseline in RENDERED:
        for endpoint in (name, baseline):
            answer = client.get(path_of(endpoint), headers=headers_of(kind_of(endpoint)))
            assert answer.status_code == 200, (endpoint, answer.status_code)
            results[endpoint] = {"bytes": len(answer.get_data()), "wall": [], "cpu": []}
        for _ in range(rounds):
            for endpoint in (name, baseline):
                headers = headers_of(kind_of(endpoint))
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(requests):
                    client.get(path_of(endpoint), headers=headers)
                results[endpoint]["wall"].append((time.perf_counter() - wall) / requests * 1000)
                results[endpoint]["cpu"].append((time.process_time() - cpu) / requests * 1000)
    summary = {endpoint: {"bytes": run["bytes"], "rounds": rounds, "requests": requests,
                          "wall_median": statistics.median(run["wall"]), "wall_best": min(run["wall"]),
                          "cpu_median": statistics.median(run["cpu"]), "cpu_best": min(run["cpu"])}
               for endpoint, run in results.items()}
    (world.OUT / "render.json").write_text(json.dumps(summary, indent=1))
    for endpoint, run in summary.items():
        print(f"{endpoint}: {run['wall_median']:.1f} ms (best {run['wall_best']:.1f}), CPU {run['cpu_median']:.1f} ms, "
              f"{run['bytes']} bytes")


def signin(base_url):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base_url}/login").read().decode()
    token = next(group for group in CSRF.search(page).groups() if group)
    form = urllib.parse.urlencode({"email": world.OWNER, "password": world.PASSWORD, "csrf_token": token})
    opener.open(f"{base_url}/login", data=form.encode()).read()
    etag = None
    for name, path, kind in ENDPOINTS:
        headers = headers_of(kind)
        if kind == "conditional":
            headers = {"If-None-Match": etag}
        request = urllib.request.Request(base_url + path, headers=headers)
        try:
            response = opener.open(request)
            status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # urllib raises on a 304
            response, status, body = error, error.code, ""
        expected = 304 if kind == "conditional" else 200
        if status != expected or response.url != base_url + path:
            sys.exit(f"{path} answered {status} at {response.url}, not {expected}: not signed in?")
        if name == "accounts":
            etag = response.headers["ETag"]
            (world.OUT / ETAG_FILE).write_text(etag)
        rows = body.count('class="token-item') + body.count('id="profile-row-')
        print(f"{name}: {path} {status}, {len(body)} bytes, {rows} rows", file=sys.stderr)
    print("; ".join(f"{cookie.name}={cookie.value}" for cookie in jar))


def endpoints():
    for name, path, kind in ENDPOINTS:
        print(name, path, kind)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"seed": seed, "render": lambda *args: render(*map(int, args)), "signin": signin,
     "endpoints": endpoints}[command](*arguments)
