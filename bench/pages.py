"""The pages benchmark's Python steps (wrk does the driving, from run.sh).

    python -m bench.pages seed DATABASE_URL      a fresh database for the pages
    python -m bench.pages signin BASE_URL        sign in as the Owner, check every
                                                 endpoint, print the Cookie header
    python -m bench.pages endpoints -            "name path htmx|page" lines for wrk
"""
import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

from bench import world

# (name, path, htmx request?): what wrk drives, in this order.
ENDPOINTS = [
    ("dropdown", "/accounts/expired-tokens", True),
    ("accounts", "/accounts", False),
    ("baseline_dropdown", "/bench/baseline/dropdown", True),
    ("baseline_accounts", "/bench/baseline/accounts", False),
]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def seed(database_url):
    app = world.bench_app(database_url)
    world.create_schema(app)
    print(world.seed_pages(app, world.now()))


def signin(base_url):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base_url}/login").read().decode()
    token = next(group for group in CSRF.search(page).groups() if group)
    form = urllib.parse.urlencode({"email": world.OWNER, "password": world.PASSWORD, "csrf_token": token})
    opener.open(f"{base_url}/login", data=form.encode()).read()
    for name, path, htmx in ENDPOINTS:
        request = urllib.request.Request(base_url + path, headers={"HX-Request": "true"} if htmx else {})
        response = opener.open(request)
        body = response.read().decode()
        if response.status != 200 or response.url != base_url + path:
            sys.exit(f"{path} answered {response.status} at {response.url}: not signed in?")
        rows = body.count('class="token-item') + body.count('id="profile-row-')
        print(f"{name}: {path} {len(body)} bytes, {rows} rows", file=sys.stderr)
    print("; ".join(f"{cookie.name}={cookie.value}" for cookie in jar))


def endpoints(_):
    for name, path, htmx in ENDPOINTS:
        print(name, path, "htmx" if htmx else "page")


if __name__ == "__main__":
    command, argument = sys.argv[1:3]
    {"seed": seed, "signin": signin, "endpoints": endpoints}[command](argument)
