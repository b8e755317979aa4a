"""The pages benchmark's Python steps (wrk does the driving, from run.sh).

    python -m bench.pages seed DATABASE_URL      a fresh database for the pages
    python -m bench.pages signin BASE_URL SERVER sign in as the Owner, check the
                                                 endpoints of SERVER, print the Cookie header
    python -m bench.pages endpoints SERVER       "name path htmx|page" lines for wrk

SERVER: `kept` (pages kept as rendered, as the product runs) or `rendered`
(PAGE_CACHE_SECONDS=0: every request renders, as the first after a change).
"""
import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

from bench import world

# (name, path, htmx request?, server): what wrk drives, in this order.
ENDPOINTS = [
    ("dropdown", "/accounts/expired-tokens", True, "kept"),
    ("accounts", "/accounts", False, "kept"),
    ("baseline_dropdown", "/bench/baseline/dropdown", True, "kept"),
    ("baseline_accounts", "/bench/baseline/accounts", False, "kept"),
    ("dropdown_rendered", "/accounts/expired-tokens", True, "rendered"),
    ("accounts_rendered", "/accounts", False, "rendered"),
]
# The environment of each server.
SERVERS = {"kept": {}, "rendered": {"PAGE_CACHE_SECONDS": "0"}}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def seed(database_url):
    app = world.bench_app(database_url)
    world.create_schema(app)
    print(world.seed_pages(app, world.now()))


def signin(base_url, server):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base_url}/login").read().decode()
    token = next(group for group in CSRF.search(page).groups() if group)
    form = urllib.parse.urlencode({"email": world.OWNER, "password": world.PASSWORD, "csrf_token": token})
    opener.open(f"{base_url}/login", data=form.encode()).read()
    for name, path, htmx, _ in served_by(server):
        request = urllib.request.Request(base_url + path, headers={"HX-Request": "true"} if htmx else {})
        response = opener.open(request)
        body = response.read().decode()
        if response.status != 200 or response.url != base_url + path:
            sys.exit(f"{path} answered {response.status} at {response.url}: not signed in?")
        rows = body.count('class="token-item') + body.count('id="profile-row-')
        print(f"{name}: {path} {len(body)} bytes, {rows} rows", file=sys.stderr)
    print("; ".join(f"{cookie.name}={cookie.value}" for cookie in jar))


def served_by(server):
    return [endpoint for endpoint in ENDPOINTS if endpoint[3] == server]


def endpoints(server):
    for name, path, htmx, _ in served_by(server):
        print(name, path, "htmx" if htmx else "page")


def environment(server):
    """`VAR=value` words for `env`, setting up SERVER."""
    print(" ".join(f"{name}={value}" for name, value in SERVERS[server].items()))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"seed": seed, "signin": signin, "endpoints": endpoints, "environment": environment}[command](*arguments)
