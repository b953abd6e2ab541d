"""Keyset (cursor) pagination for the API lists that grow with the seller (stores, assignments): a page
costs the same for the first rows as for the last, and rows added meanwhile are neither skipped nor
repeated. `next` / `previous` are opaque links; `page_size` (1-500, default 100)."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "pk"  # unique and stable: the order the rows were made in
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
