"""Options of the searchable selects (ozonseat/widgets.py) for stores and warehouses: a page of matches
at a time, and the labels of the chosen ones; each scoped to one seller, one query."""

from django.db.models import Q
from django.utils.translation import gettext

from .models import PERMISSION_WAREHOUSE_KINDS, Store, Warehouse

OPTIONS_LIMIT = 20


def _page_of_options(rows) -> tuple[list[tuple[int, str]], bool]:
    rows = list(rows)
    return rows[:OPTIONS_LIMIT], len(rows) > OPTIONS_LIMIT


def _store_label(name, market, active=True) -> str:
    label = f"{name} ({market})"
    return label if active else f"{label} — {gettext('deactivated')}"


def store_options(seller, search: str = "", *, include_inactive: bool = False, places=None):
    """([(store id, label)], more): the first stores matching `search` (name or Client-ID), one query.
    `places`: visibility.visible_places of the asking member (None: every store)."""
    queryset = Store.objects.filter(seller=seller)
    if places is not None:
        queryset = queryset.filter(places.store_q).distinct()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    search = search.strip()[:100]
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
    rows = queryset.order_by("name", "pk").values_list("pk", "name", "market", "is_active")[
        : OPTIONS_LIMIT + 1
    ]
    return _page_of_options((pk, _store_label(name, market, active)) for pk, name, market, active in rows)


def store_labels(seller, ids, *, include_inactive: bool = False) -> list[tuple[int, str]]:
    """(id, label) of the chosen stores that are the seller's (others are dropped), one query."""
    queryset = Store.objects.filter(seller=seller, pk__in=list(ids)[:500])
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    rows = queryset.order_by("name", "pk").values_list("pk", "name", "market", "is_active")
    return [(pk, _store_label(name, market, active)) for pk, name, market, active in rows]


def _warehouse_label(store_name, name, kind) -> str:
    return f"{store_name} · {name} ({kind})"


def warehouse_options(seller, search: str = "", *, places=None):
    """([(warehouse id, label)], more): the first active FBS and rFBS warehouses (the ones warehouse scopes
    give anything on) whose name or store's name matches.
    `places`: visibility.visible_places of the asking member (None: every warehouse)."""
    queryset = Warehouse.objects.filter(
        seller=seller, is_active=True, store__is_active=True, kind__in=PERMISSION_WAREHOUSE_KINDS
    )
    if places is not None:
        queryset = queryset.filter(places.warehouse_q)
    search = search.strip()[:100]
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(store__name__icontains=search))
    rows = queryset.order_by("store__name", "name", "pk").values_list("pk", "store__name", "name", "kind")
    return _page_of_options((pk, _warehouse_label(*rest)) for pk, *rest in rows[: OPTIONS_LIMIT + 1])


def warehouse_labels(seller, ids) -> list[tuple[int, str]]:
    rows = (
        Warehouse.objects.filter(
            seller=seller,
            is_active=True,
            store__is_active=True,
            kind__in=PERMISSION_WAREHOUSE_KINDS,
            pk__in=list(ids)[:500],
        )
        .order_by("store__name", "name", "pk")
        .values_list("pk", "store__name", "name", "kind")
    )
    return [(pk, _warehouse_label(*rest)) for pk, *rest in rows]
