"""Reads for imports, scoped to one seller."""

from ozonseat.errors import NotFound

from .models import MemberImport, RowState


def get_import_for_seller(seller, import_id) -> MemberImport:
    try:
        import_id = int(import_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    found = MemberImport.objects.filter(seller=seller, pk=import_id).first()
    if found is None:
        raise NotFound()
    return found


def recent_imports(seller, limit=10):
    return MemberImport.objects.filter(seller=seller).order_by("-created_at", "-pk")[:limit]


def rows_of(member_import):
    return member_import.rows.order_by("number")


def counts(member_import) -> dict:
    states = dict.fromkeys(RowState.values, 0)
    for state in member_import.rows.values_list("state", flat=True):
        states[state] += 1
    return states
