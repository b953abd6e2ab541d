"""`user.has_perm(perm, obj)` for stores, warehouses and sellers: django-guardian's answer from the
derived index (the group object permissions of the role x scope groups the user is in, see roles.index),
gated on the membership being effective *now*.

Why the gate: suspending, removing, reactivating, editing roles and assignments all rewrite the index in
their own transaction, so the rows are never stale for them. A membership reaching `ends_at` is different:
nothing happens at that instant; the periodic `expire_memberships` job (every 5 minutes) suspends it and
takes the user out of the seller's groups. In between, the user is still in them — this backend answers
False anyway, because it checks the membership's end date on every call (one indexed query). Code that
reads guardian tables directly (e.g. `get_objects_for_user`) must use `roles.selectors.objects_for_user`,
which applies the same gate. Platform superusers are answered True by Django itself before any backend runs.
"""

from guardian.backends import ObjectPermissionBackend as GuardianBackend

from accounts.models import Membership, Seller

from .models import Store, Warehouse


def _seller_id_of(obj):
    if isinstance(obj, Seller):
        return obj.pk
    if isinstance(obj, Store | Warehouse):
        return obj.seller_id
    return None


class ObjectPermissionBackend(GuardianBackend):
    def _gate(self, user_obj, obj) -> bool:
        seller_id = _seller_id_of(obj)
        if seller_id is None:
            return True
        if not getattr(user_obj, "is_authenticated", False) or not user_obj.is_active:
            return False
        if isinstance(obj, Store | Warehouse) and not obj.is_active:
            return False
        return Membership.objects.effective().filter(user_id=user_obj.pk, seller_id=seller_id).exists()

    def has_perm(self, user_obj, perm, obj=None):
        if obj is None or not self._gate(user_obj, obj):
            return False
        return super().has_perm(user_obj, perm, obj)

    def get_all_permissions(self, user_obj, obj=None):
        if obj is None or not self._gate(user_obj, obj):
            return set()
        return super().get_all_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj, obj=None):
        if obj is None or not self._gate(user_obj, obj):
            return set()
        return super().get_group_permissions(user_obj, obj)
