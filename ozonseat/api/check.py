"""The check endpoint: "may this member do this, here?" for one or many triples, with the reason.

The hot path. The number of queries depends on the number of distinct subjects (members) in the request,
never on the number of triples: one for the subjects and the named stores and warehouses together, and
`roles.selectors.check_permissions` (a fixed one) per subject; a request about one member (by membership
id, the usual case) reads all of it in one query."""

import functools
import re
from collections import defaultdict

from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from accounts.authorization import member_has_seller_permission
from accounts.models import Membership, MembershipKind, User
from ozonseat.prepared import PreparedQuery, bare_instance
from roles import catalog
from roles.models import Store, Warehouse
from roles.selectors import REASONS, check_permissions, check_permissions_of_member, check_rows_of_member

from .serializers import StrictSerializer
from .views import SellerView

MAX_CHECKS = 500
MAX_SUBJECTS = 20


def _all_within_manager_reach(membership, seller, memberships) -> bool:
    from roles.authority import Holdings, members_within_reach

    others = {m.pk for m in memberships} - {membership.pk}
    reach = Holdings(membership).reach(catalog.MEMBERS_MANAGE)
    if reach.everywhere or not others:
        return True
    within = Membership.objects.filter(members_within_reach(reach, seller), pk__in=others).count()
    return within == len(others)


class CheckItemSerializer(StrictSerializer):
    member = serializers.IntegerField(
        required=False, min_value=1, help_text="Membership id (or give `user`)."
    )
    user = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Your own user id, as `me` gives it (or give `member`). Other people are named by "
        "`member`: a user id is global, so the API lists none.",
    )
    permission = serializers.CharField(max_length=64, help_text="A catalog codename, e.g. orders.process.")
    store = serializers.IntegerField(required=False, min_value=1, help_text="For store-level permissions.")
    warehouse = serializers.IntegerField(required=False, min_value=1, help_text="For warehouse-level ones.")

    def validate(self, attrs):
        if ("member" in attrs) == ("user" in attrs):
            raise serializers.ValidationError({"member": [_("Give exactly one of member or user.")]})
        if "store" in attrs and "warehouse" in attrs:
            raise serializers.ValidationError({"store": [_("Give at most one of store or warehouse.")]})
        return attrs


class CheckRequestSerializer(StrictSerializer):
    checks = CheckItemSerializer(many=True, min_length=1, max_length=MAX_CHECKS)


# The largest id a row can have (PostgreSQL bigint): a larger one names nothing, and is not sent to the
# database (it would not fit the lookup's bigint arrays).
MAX_ID = 2**63 - 1
_ITEM_KEYS = frozenset(["member", "user", "permission", "store", "warehouse"])
_ID_KEYS = ("member", "user", "store", "warehouse")
# What a catalog codename looks like; anything else (blanks, padding, other characters) is left to the
# serializer, which decides and words the error.
_PLAIN_CODENAME = re.compile(r"[a-z][a-z0-9_.]{0,63}\Z")


def _validated_checks(data) -> list[dict]:
    """The request's triples. A body whose every item is plainly well-formed — ids as JSON integers from 1,
    a codename-shaped permission, exactly one of member / user, at most one of store / warehouse, no other
    keys — is accepted as it is: exactly what `CheckRequestSerializer` would return for it, without its
    per-field machinery (most of the cost of a 100-triple check). Anything else is validated by the
    serializer, which answers with its field errors as before."""
    checks = data.get("checks") if type(data) is dict and len(data) == 1 else None
    if type(checks) is list and 1 <= len(checks) <= MAX_CHECKS:
        for item in checks:
            if (
                type(item) is not dict
                or not item.keys() <= _ITEM_KEYS
                or ("member" in item) == ("user" in item)
                or ("store" in item and "warehouse" in item)
                or type(item.get("permission")) is not str
                or not _PLAIN_CODENAME.match(item["permission"])
                or not all(type(item[key]) is int and item[key] >= 1 for key in _ID_KEYS if key in item)
            ):
                break
        else:
            return checks
    items = CheckRequestSerializer(data=data)
    items.is_valid(raise_exception=True)
    return items.validated_data["checks"]


def _ids(values) -> list[int]:
    return sorted(value for value in values if value <= MAX_ID)


class CheckScopeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["owner", "seller", "market", "store", "warehouse"])
    id = serializers.IntegerField(allow_null=True)
    market = serializers.CharField(allow_null=True)


class CheckGrantSerializer(serializers.Serializer):
    role_id = serializers.IntegerField(allow_null=True)
    role_name = serializers.CharField()
    assignment_id = serializers.IntegerField(allow_null=True)
    scope_kind = serializers.CharField()
    scope = CheckScopeSerializer()


class CheckTargetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(catalog.LEVELS))
    id = serializers.IntegerField()


class CheckResultSerializer(serializers.Serializer):
    member = serializers.IntegerField(allow_null=True)
    user = serializers.IntegerField(allow_null=True, help_text="The `user` the check gave, if it gave one.")
    permission = serializers.CharField()
    target = CheckTargetSerializer()
    allowed = serializers.BooleanField()
    reason = serializers.CharField(help_text="A stable code: " + ", ".join(sorted(REASONS)))
    explanation = serializers.CharField()
    grants = CheckGrantSerializer(many=True)


class CheckResponseSerializer(serializers.Serializer):
    results = CheckResultSerializer(many=True)


def _scope(grant) -> dict:
    scope_object = grant.scope_object
    if isinstance(scope_object, Store):
        return {"type": "store", "id": scope_object.pk, "market": None}
    if isinstance(scope_object, Warehouse):
        return {"type": "warehouse", "id": scope_object.pk, "market": None}
    if isinstance(scope_object, str):
        return {"type": "market", "id": None, "market": scope_object}
    kind = "owner" if grant.scope_kind == "owner" else "seller"
    return {"type": kind, "id": getattr(scope_object, "pk", None), "market": None}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


@functools.cache
def _prepared_lookup() -> PreparedQuery:
    """The same lookup as `_subjects_and_targets` builds, with the ids as arrays: one fixed text,
    prepared once per connection on PostgreSQL. An empty array finds nothing."""
    return PreparedQuery(
        f"SELECT 'm', m.id, m.user_id, CASE WHEN u.is_active THEN 1 ELSE 0 END "  # noqa: S608
        f"FROM {_table(Membership)} m JOIN {_table(User)} u ON u.id = m.user_id "
        f"WHERE m.seller_id = %s AND (m.id = ANY(%s) OR m.user_id = ANY(%s)) "
        f"UNION ALL SELECT 's', s.id, NULL, 0 FROM {_table(Store)} s "
        f"WHERE s.seller_id = %s AND s.id = ANY(%s) "
        f"UNION ALL SELECT 'w', w.id, w.store_id, 0 FROM {_table(Warehouse)} w "
        f"WHERE w.seller_id = %s AND w.id = ANY(%s)",
        ["bigint", "bigint[]", "bigint[]", "bigint", "bigint[]", "bigint", "bigint[]"],
    )


def _member_ref(pk, seller_id, user_id, user_active):
    membership = bare_instance(Membership, {"id": pk, "seller_id": seller_id, "user_id": user_id})
    membership._state.fields_cache["user"] = bare_instance(User, {"id": user_id, "is_active": user_active})
    return membership


def _subjects_and_targets(seller, member_ids, user_ids, store_ids, warehouse_ids):
    """One query (UNION ALL) for the request's members (by membership or user id) and its stores and
    warehouses, each only in this seller: an id of another seller is not found, like one that does not
    exist. Returns unsaved references (ids and the fields the check reads); `check_permissions` then reads
    the members' state and the targets' state itself, fresh."""
    member_ids, user_ids, store_ids, warehouse_ids = map(
        _ids, (member_ids, user_ids, store_ids, warehouse_ids)
    )
    parts, params = [], []
    if member_ids or user_ids:
        conditions = []
        params.append(seller.pk)
        if member_ids:
            conditions.append(f"m.id IN ({_in(member_ids)})")
            params += list(member_ids)
        if user_ids:
            conditions.append(f"m.user_id IN ({_in(user_ids)})")
            params += list(user_ids)
        parts.append(
            f"SELECT 'm', m.id, m.user_id, CASE WHEN u.is_active THEN 1 ELSE 0 END "  # noqa: S608
            f"FROM {_table(Membership)} m JOIN {_table(User)} u ON u.id = m.user_id "
            f"WHERE m.seller_id = %s AND ({' OR '.join(conditions)})"
        )
    if store_ids:
        parts.append(
            f"SELECT 's', s.id, NULL, 0 FROM {_table(Store)} s "  # noqa: S608
            f"WHERE s.seller_id = %s AND s.id IN ({_in(store_ids)})"
        )
        params += [seller.pk, *store_ids]
    if warehouse_ids:
        parts.append(
            f"SELECT 'w', w.id, w.store_id, 0 FROM {_table(Warehouse)} w "  # noqa: S608
            f"WHERE w.seller_id = %s AND w.id IN ({_in(warehouse_ids)})"
        )
        params += [seller.pk, *warehouse_ids]
    memberships, stores, warehouses = [], {}, {}
    if not parts:
        return memberships, stores, warehouses
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _prepared_lookup().execute(
                cursor,
                [
                    seller.pk, member_ids, user_ids, seller.pk, store_ids, seller.pk, warehouse_ids,
                ],
            )  # fmt: skip
        else:
            cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    for kind, pk, other, active in rows:
        if kind == "m":
            memberships.append(_member_ref(pk, seller.pk, other, bool(active)))
        elif kind == "s":
            stores[pk] = bare_instance(Store, {"id": pk, "seller_id": seller.pk})
        else:
            warehouses[pk] = bare_instance(Warehouse, {"id": pk, "seller_id": seller.pk, "store_id": other})
    return memberships, stores, warehouses


class CheckView(SellerView):
    @extend_schema(
        operation_id="check",
        request=CheckRequestSerializer,
        responses=CheckResponseSerializer,
        summary="Check permissions",
        description=(
            f"Answer up to {MAX_CHECKS} (member or user, permission, store / warehouse / seller) triples, in "
            f"order, each with the reason and the granting roles and assignments. At most {MAX_SUBJECTS} "
            "distinct members per request. An unknown member, store or warehouse answers `allowed: false` "
            "with its reason, never an error for the whole batch. Any working member of the seller may ask "
            f"about themselves; asking about others needs `{catalog.MEMBERS_MANAGE}`, or a service "
            "account's token."
        ),
        examples=[
            OpenApiExample(
                "One store",
                request_only=True,
                value={"checks": [{"member": 42, "permission": "orders.process", "store": 7}]},
            )
        ],
    )
    def post(self, request, seller_id):
        checks = _validated_checks(request.data)
        member_ids = {item["member"] for item in checks if "member" in item}
        user_ids = {item["user"] for item in checks if "user" in item}
        store_ids = {item["store"] for item in checks if "store" in item}
        warehouse_ids = {item["warehouse"] for item in checks if "warehouse" in item}
        if len(member_ids) == 1 and not user_ids and max([*member_ids, *store_ids, *warehouse_ids]) <= MAX_ID:
            results = self._one_member(checks, next(iter(member_ids)), store_ids, warehouse_ids)
        else:
            results = self._any_subjects(checks, member_ids, user_ids, store_ids, warehouse_ids)
        explanations = {}  # one translation per reason, not per triple
        for result in results:
            reason = result["reason"]
            if reason not in explanations:
                explanations[reason] = str(REASONS.get(reason, reason))
            result["explanation"] = explanations[reason]
        return Response({"results": results})

    def _require_may_ask(self, memberships, subjects, by_member, by_user) -> None:
        asks_about_others = any(
            getattr(by_member.get(i) if kind == "m" else by_user.get(i), "pk", None) != self.membership.pk
            for kind, i in subjects
        )
        if asks_about_others and not (
            self.membership.kind == MembershipKind.SERVICE
            or (
                # members.manage over every member asked about (a KZ lead asks about KZ members only)
                member_has_seller_permission(self.membership, catalog.MEMBERS_MANAGE)
                and _all_within_manager_reach(self.membership, self.seller, memberships)
            )
        ):
            raise exceptions.PermissionDenied(_("Asking about other members needs members.manage."))

    def _one_member(self, checks, member_id, store_ids, warehouse_ids) -> list[dict]:
        """The usual request, about one member: the member, the targets and what the check reads in one
        query (`check_rows_of_member`), answered exactly as `_any_subjects` answers it. A store or
        warehouse of another seller is not found, as the lookup there finds none."""
        seller = self.seller
        rows = check_rows_of_member(seller, member_id, store_ids, warehouse_ids)
        found, _assignments, store_states, warehouse_states = rows[:4]
        memberships = []
        if found is not None:
            memberships.append(_member_ref(found["pk"], seller.pk, found["user_id"], found["user_active"]))
        by_member = {m.pk: m for m in memberships}
        self._require_may_ask(memberships, {("m", member_id)}, by_member, {})
        stores = {
            pk: bare_instance(Store, {"id": pk, "seller_id": seller.pk})
            for pk, state in store_states.items()
            if state[-1] == seller.pk
        }
        warehouses = {
            pk: bare_instance(Warehouse, {"id": pk, "seller_id": seller.pk, "store_id": state[0]})
            for pk, state in warehouse_states.items()
            if state[-1] == seller.pk
        }
        results, pending = self._triples(checks, by_member, {}, stores, warehouses)
        for entries in pending.values():
            answers = check_permissions_of_member(
                seller=seller,
                queries=[(permission, target) for _index, _base, permission, target in entries],
                rows=rows,
            )
            _fill(results, entries, answers)
        return results

    def _any_subjects(self, checks, member_ids, user_ids, store_ids, warehouse_ids) -> list[dict]:
        memberships, stores, warehouses = _subjects_and_targets(
            self.seller, member_ids, user_ids, store_ids, warehouse_ids
        )
        by_member = {m.pk: m for m in memberships}
        by_user = {m.user_id: m for m in memberships}
        subjects = {(("m", i)) for i in member_ids} | {("u", i) for i in user_ids}
        self._require_may_ask(memberships, subjects, by_member, by_user)
        distinct = {m.pk for m in memberships}
        if len(distinct) > MAX_SUBJECTS:
            raise exceptions.ValidationError(
                {"checks": [_("At most %(count)d distinct members per request.") % {"count": MAX_SUBJECTS}]}
            )
        results, pending = self._triples(checks, by_member, by_user, stores, warehouses)
        for membership, entries in pending.items():
            answers = check_permissions(
                user=membership.user,
                seller=self.seller,
                queries=[(permission, target) for _index, _base, permission, target in entries],
            )
            _fill(results, entries, answers)
        return results

    def _triples(self, checks, by_member, by_user, stores, warehouses):
        """(results with the triples answered without the check filled in, the others per membership)."""
        results: list[dict | None] = [None] * len(checks)
        pending = defaultdict(list)  # membership -> [(index, permission, target)]
        for index, item in enumerate(checks):
            membership = by_member.get(item["member"]) if "member" in item else by_user.get(item["user"])
            if "store" in item:
                target, target_ref = stores.get(item["store"]), {"type": "store", "id": item["store"]}
            elif "warehouse" in item:
                target, target_ref = (
                    warehouses.get(item["warehouse"]),
                    {"type": "warehouse", "id": item["warehouse"]},
                )
            else:
                target, target_ref = self.seller, {"type": "seller", "id": self.seller.pk}
            base = {
                "member": membership.pk if membership else item.get("member"),
                # Echoed, never looked up: a user id is global and not this seller's to learn.
                "user": item.get("user"),
                "permission": item["permission"],
                "target": target_ref,
            }
            if membership is None or target is None:
                reason = "not_a_member" if membership is None else "not_found"
                results[index] = {**base, "allowed": False, "reason": reason, "grants": []}
                continue
            pending[membership].append(
                (index, base, item["permission"], None if target is self.seller else target)
            )
        return results, pending


def _fill(results, entries, answers) -> None:
    for (index, base, _permission, _target), answer in zip(entries, answers, strict=True):
        results[index] = {
            **base,
            "allowed": answer.allowed,
            "reason": answer.reason,
            "grants": [
                {
                    "role_id": grant.role_id,
                    "role_name": str(grant.role_name),
                    "assignment_id": grant.assignment_id,
                    "scope_kind": grant.scope_kind,
                    "scope": _scope(grant),
                }
                for grant in answer.grants
            ],
        }
