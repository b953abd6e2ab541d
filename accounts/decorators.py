"""The one seller-scoped entry for dashboard views (as Sentry's OrganizationEndpoint): the seller comes
from the URL, the user's working membership and the view's permission are checked once, and the view
receives `seller` and `membership`. A seller the user does not belong to answers 404, like one that does
not exist."""

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from audit.services import record_denial
from ozonseat.errors import NotAllowed, NotFound

from .authorization import (
    get_effective_membership,
    member_has_permission_everywhere,
    member_has_seller_permission,
)
from .middleware import activate_seller
from .models import Seller

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def seller_view(
    permission: str | None = None, *, change_permission: str | None = None, everywhere: bool = False
):
    """`permission` is needed for every request. `change_permission` is needed as well for a request that
    may change something (any method but GET, HEAD, OPTIONS): a page every member may read, whose forms
    only some may submit — the view shows its edit controls to those holding it. A permission held at a
    market or chosen stores passes (the view shows only what lies there), unless `everywhere`: pages about
    the whole seller (the access matrix, review reports) need it for the whole seller."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, seller_id, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            seller = Seller.objects.filter(pk=seller_id).first()
            membership = get_effective_membership(request.user, seller) if seller else None
            if membership is None:
                record_denial(request, seller=seller_id, status=404)
                raise Http404()
            request.membership = membership
            activate_seller(request, seller)
            needed = [permission] if permission else []
            if change_permission and request.method not in SAFE_METHODS:
                needed.append(change_permission)
            for code in needed:
                holds = member_has_permission_everywhere if everywhere else member_has_seller_permission
                if not holds(membership, code):
                    record_denial(request, seller=seller, status=403, permission=code)
                    raise PermissionDenied()
            try:
                return view(request, *args, seller=seller, membership=membership, **kwargs)
            except NotFound:
                raise Http404() from None
            except NotAllowed as error:
                missing = error.permission or (needed[-1] if needed else "")
                record_denial(request, seller=seller, status=403, permission=missing)
                raise PermissionDenied(str(error.message)) from None

        wrapper.seller_permission = permission
        wrapper.seller_change_permission = change_permission
        return wrapper

    return decorator


def record_refusal(request, *, seller, error: NotAllowed) -> None:
    """A refusal a view shows as a message (rather than the 403 page) is recorded like a 403."""
    record_denial(request, seller=seller, status=403, permission=error.permission)
