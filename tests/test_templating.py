"""What the templates' helpers keep instead of building again: dates
written once per locale and zone (`portal.templating.formatted`), each
Babel's own for that locale and zone whatever came before; addresses built
once a process, each the app's own for its root."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel import Locale, dates
from flask import url_for

from portal.templating import formatted, profile_url, static_url

MOMENT = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)  # already the 23rd in Paris


def test_each_locale_and_zone_gets_its_own_date_and_time():
    seen = set()
    for locale in ("en", "fr", "de", "nl", "en"):
        for zone in ("UTC", "Europe/Paris", "UTC"):
            day = formatted(dates.format_date, MOMENT, "medium", Locale.parse(locale), ZoneInfo(zone))
            moment = formatted(dates.format_datetime, MOMENT, "medium", Locale.parse(locale), ZoneInfo(zone))
            assert day == dates.format_date(MOMENT.astimezone(ZoneInfo(zone)), "medium", locale=locale)
            assert moment == dates.format_datetime(MOMENT, "medium", tzinfo=ZoneInfo(zone), locale=locale)
            seen.add(day)
    assert len(seen) == 8  # four languages, two days


def test_addresses_built_once_a_process_follow_the_apps_root(app):
    """`static_url` and `profile_url` keep what they built per process: an
    app served under another root (a proxy's prefix) gets its own."""
    for root in ("", "/keepalive", ""):
        with app.test_request_context("/accounts", base_url=f"http://localhost{root}"):
            assert static_url("css/keepalive.css") == url_for("static", filename="css/keepalive.css")
            assert static_url("css/keepalive.css").startswith(f"{root}/static/")
            assert profile_url("accounts.profile", 42) == url_for("accounts.profile", profile_id=42) == \
                f"{root}/accounts/42"
            assert profile_url("renewal.renew", 7) == url_for("renewal.renew", profile_id=7)
