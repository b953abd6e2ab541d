"""Language and time zone for each request.

Language: the user's preference, then the language picked in the header switcher (cookie), then the
browser's Accept-Language, then the current seller's default. Time zone: the current seller's."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header


def browser_language(request) -> str | None:
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def cookie_language(request) -> str | None:
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code and code in dict(settings.LANGUAGES):
        return code
    return None


def choose_language(request, seller=None) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.preferred_language:
        return user.preferred_language
    return (
        cookie_language(request)
        or browser_language(request)
        or (seller.default_language if seller is not None else None)
        or settings.LANGUAGE_CODE
    )


def activate_time_zone(seller) -> None:
    try:
        timezone.activate(zoneinfo.ZoneInfo(seller.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


def activate_seller(request, seller) -> None:
    """Called by seller-scoped views once the seller of the URL is known."""
    request.seller = seller
    activate_time_zone(seller)
    language = choose_language(request, seller)
    translation.activate(language)
    request.LANGUAGE_CODE = language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = choose_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        timezone.deactivate()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        response.setdefault("Vary", "Accept-Language, Cookie")
        translation.deactivate()
        timezone.deactivate()
        return response
