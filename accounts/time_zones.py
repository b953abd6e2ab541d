"""Time zones a shop owner can pick from: cities and countries named in the reader's language, each with its
current UTC offset, the countries OzonSeat's sellers work in first. Names come from CLDR through Babel;
the values stay IANA names (what the seller stores and `zoneinfo` reads)."""

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location
from django.utils import timezone, translation
from django.utils.translation import gettext as _

UTC_ZONE = "UTC"

# China (owners and office staff), then Ozon's markets. Their zones are listed first, one group per country.
FIRST_COUNTRIES = ("CN", "RU", "KZ", "BY", "UZ", "KG", "AM", "GE", "AZ")

# Where the other zones are grouped: the CLDR region code (so Babel names it) of each IANA area.
AREA_REGIONS = {
    "Europe": "150",
    "Asia": "142",
    "Africa": "002",
    "America": "019",
    "Australia": "009",
    "Pacific": "009",
    "Antarctica": "AQ",
}
ISLANDS = "islands"  # Atlantic/…, Indian/…, Arctic/…: islands of several continents, grouped on their own


def _locale(language: str) -> Locale:
    return Locale.parse(translation.to_locale(language or "en"))


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """IANA name -> territory (ISO code) for every zone CLDR keeps that this system's tz database has."""
    available = zoneinfo.available_timezones()
    return {
        zone: territory
        for zone, territory in get_global("zone_territories").items()
        if zone in available and len(territory) == 2 and territory != "ZZ"
    }


def utc_offset(zone: str, at: datetime) -> str:
    offset = at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"  # noqa: RUF001 (a real minus sign, as CLDR writes offsets)
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _offset_minutes(zone: str, at: datetime) -> int:
    return int(at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds() // 60)


@lru_cache(maxsize=32)
def _choices(language: str, hour: datetime) -> tuple:
    locale = _locale(language)
    countries = locale.territories

    def city(zone: str) -> str:
        return get_timezone_location(zone, locale=locale, return_city=True)

    def option(zone: str, label: str) -> tuple[str, str]:
        return zone, f"({utc_offset(zone, hour)}) {label}"

    def ordered(zones):
        return sorted(zones, key=lambda zone: (_offset_minutes(zone, hour), city(zone)))

    zones = _zones()
    universal = _("Coordinated Universal Time")  # CLDR names it "Unknown Region (UTC) Time"
    choices: list = [(UTC_ZONE, f"({utc_offset(UTC_ZONE, hour)}) {universal}")]
    for country in FIRST_COUNTRIES:
        own = ordered(zone for zone, territory in zones.items() if territory == country)
        choices.append((countries.get(country, country), [option(zone, city(zone)) for zone in own]))
    regions: dict[str, list[str]] = {}
    for zone, territory in zones.items():
        if territory not in FIRST_COUNTRIES:
            regions.setdefault(AREA_REGIONS.get(zone.split("/")[0], ISLANDS), []).append(zone)
    for region in [*dict.fromkeys(AREA_REGIONS.values()), ISLANDS]:
        label = _("Islands") if region == ISLANDS else countries.get(region, region)
        options = []
        for zone in ordered(regions.get(region, ())):
            country, place = countries.get(zones[zone], zones[zone]), city(zone)
            options.append(option(zone, place if place == country else f"{country} · {place}"))
        choices.append((label, options))
    return tuple(choices)


def time_zone_choices() -> list:
    """Grouped choices for a form's select, in the active language, with offsets as of this hour."""
    hour = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return list(_choices(translation.get_language() or "en", hour))


def is_time_zone(name: str) -> bool:
    return name in zoneinfo.available_timezones()


def offered(name: str) -> bool:
    return name == UTC_ZONE or name in _zones()


def time_zone_label(name: str) -> str:
    """One zone as the choices show it, e.g. "(UTC+08:00) 上海"; its IANA name if CLDR does not know it."""
    for value, label in time_zone_choices():
        if isinstance(label, list | tuple):
            for zone, text in label:
                if zone == name:
                    return text
        elif value == name:
            return label
    return name


def default_time_zone(language: str) -> str:
    """Where someone signing up in this language most likely works (they can change it on the form)."""
    return {"zh-hans": "Asia/Shanghai"}.get(language, "Europe/Moscow")
