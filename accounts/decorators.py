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

from .authorization import get_effective_membership, member_has_seller_permission
from .middleware import activate_seller
from .models import Seller


def seller_view(permission: str | None = None):
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
            if permission and not member_has_seller_permission(membership, permission):
                record_denial(request, seller=seller, status=403, permission=permission)
                raise PermissionDenied()
            try:
                return view(request, *args, seller=seller, membership=membership, **kwargs)
            except NotFound:
                raise Http404() from None
            except NotAllowed as error:
                record_denial(request, seller=seller, status=403, permission=permission or "")
                raise PermissionDenied(str(error.message)) from None

        wrapper.seller_permission = permission
        return wrapper

    return decorator
