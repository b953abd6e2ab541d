"""Page links for the dashboard's bounded lists: the current query with one page parameter changed, so the
filters and the other lists' pages are kept."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageLinks:
    page: object  # django.core.paginator.Page
    previous_url: str | None
    next_url: str | None


def page_links(request, page, param: str = "page") -> PageLinks:
    def url(number):
        query = request.GET.copy()
        query[param] = number
        return "?" + query.urlencode()

    return PageLinks(
        page,
        url(page.previous_page_number()) if page.has_previous() else None,
        url(page.next_page_number()) if page.has_next() else None,
    )
