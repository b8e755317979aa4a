"""Dates written once per locale and zone (`portal.templating.formatted`):
each answer is Babel's own for that locale and zone, whatever came before."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel import Locale, dates

from portal.templating import formatted

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
