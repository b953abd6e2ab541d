"""A realistic sample of every audit event type: the target and changes its service records, about the
things of a cross-border seller whose people, stores, warehouses and custom roles have Chinese and Russian
names, so that any Latin word left on a ru or zh page is OzonSeat's, not the seller's.

`SAMPLES[action](world)` gives the keyword arguments of record_event. tests/audit/test_descriptions.py
requires a sample for every registered action (a new event type needs one here) and checks, against real
service calls, that each sample records the fields its service records."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from accounts import api_tokens
from accounts.models import Membership, MembershipKind, MembershipStatus, RevocationReason, Seller, User
from audit import events
from audit.selectors import EventFilters
from reviews import opening
from reviews.models import AccessReview
from roles import services as roles_services
from roles.models import Role, Store, Warehouse
from tests.factories import UserFactory, make_member, make_seller

# A moment that is a real date, not today's: descriptions show it in the seller's time zone.
ENDS_AT = "2031-03-15T09:30:00+00:00"


@dataclass
class SampleWorld:
    seller: Seller
    owner: Membership
    picker: Membership  # a member, the target of member events
    service: Membership  # a service account with a token
    token_id: int
    store: Store
    second_store: Store
    khimki: Warehouse
    podolsk: Warehouse
    picker_role: Role  # a template copy: stored in English, shown translated
    custom_role: Role
    deleted_role_id: int  # a template copy that was deleted
    deleted_role_name: str
    review: AccessReview  # an open access review of everyone


def build_sample_world() -> SampleWorld:
    seller, owner = make_seller(name="华东贸易")
    User.objects.filter(pk=owner.user_id).update(display_name="李伟", email="li.wei@example.com")
    owner.user.refresh_from_db()
    Seller.objects.filter(pk=seller.pk).update(time_zone="Asia/Shanghai")
    seller.refresh_from_db()
    picker = make_member(seller, user=UserFactory(display_name="Иван Петров", email="ivan@example.com"))
    actor = owner.user
    store = roles_services.add_store(
        actor=actor, seller=seller, name="华东旗舰店", client_id="123456", market="RU"
    )
    second_store = roles_services.add_store(
        actor=actor, seller=seller, name="Алматы маркет", client_id="654321", market="KZ"
    )
    khimki = roles_services.add_warehouse(actor=actor, store=store, name="Химки", kind="FBS")
    podolsk = roles_services.add_warehouse(actor=actor, store=store, name="Подольск", kind="rFBS")
    roles = {role.template_key: role for role in Role.objects.filter(seller=seller)}
    custom_role = roles_services.create_role(
        actor=actor, seller=seller, name="质检员", permissions=["orders.view", "stock.view"]
    )
    doomed = roles["product_manager"]
    deleted_role_id, deleted_role_name = doomed.pk, doomed.name
    roles_services.delete_role(actor=actor, role=doomed)
    service = api_tokens.create_service_account(actor=actor, seller=seller, name="ERP 同步")
    token = api_tokens.create_api_token(actor=actor, membership=service, name="库存同步").token
    review = opening.start_review(actor=actor, seller=seller)
    return SampleWorld(
        seller=seller,
        owner=owner,
        picker=picker,
        service=service,
        token_id=token.pk,
        store=store,
        second_store=second_store,
        khimki=khimki,
        podolsk=podolsk,
        picker_role=roles["courier_assembler"],
        custom_role=custom_role,
        deleted_role_id=deleted_role_id,
        deleted_role_name=deleted_role_name,
        review=review,
    )


@dataclass
class Sample:
    """record_event's arguments, and whether the sentence names a thing that no longer exists."""

    target: object = None
    target_type: str = ""
    target_id: int | None = None
    changes: dict | None = None
    actor: object = "owner"  # the owner's user; None: OzonSeat itself or nobody signed in
    names_deleted: bool = False

    def record_kwargs(self, world: SampleWorld) -> dict:
        return {
            "seller": world.seller,
            "actor": world.owner.user if self.actor == "owner" else self.actor,
            "target": self.target,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "changes": self.changes,
        }


SAMPLES: dict[str, Callable[[SampleWorld], Sample]] = {}


def sample(action: str):
    def register(factory):
        assert action not in SAMPLES, action
        SAMPLES[action] = factory
        return factory

    return register


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the seller ---


@sample(events.SELLER_CREATED)
def _(w):
    return Sample(
        target=w.seller,
        changes={"owner_user_id": [None, w.owner.user_id], "status": [None, "pending_confirmation"]},
    )


@sample(events.SELLER_UPDATED)
def _(w):
    return Sample(
        target=w.seller,
        changes={
            "name": ["华东", "华东贸易"],
            "default_language": ["en", "zh-hans"],
            "time_zone": ["UTC", "Asia/Shanghai"],
            "invitation_lifetime_hours": [72, 48],
            "require_two_factor": [False, True],
            "access_review_interval_days": [90, 30],
            "password_max_age_days": [0, 90],
            "session_idle_timeout_minutes": [60, 30],
            "session_max_age_hours": [12, 10],
            "access_review_length_days": [14, 10],
            "access_review_due_policy": ["leave", "suspend"],
        },
    )


@sample(events.OWNERSHIP_TRANSFERRED)
def _(w):
    return Sample(target=w.picker, changes={"owner_user_id": [w.owner.user_id, w.picker.user_id]})


# --- members and invitations ---


@sample(events.MEMBER_INVITED)
def _(w):
    return Sample(
        target=w.picker,
        changes={
            "status": [None, MembershipStatus.INVITED],
            "ends_at": [None, ENDS_AT],
            "invitation_id": [None, 41],
        },
    )


@sample(events.MEMBER_UPDATED)
def _(w):
    return Sample(target=w.picker, changes={"job_title": ["", "拣货组长"], "ends_at": [ENDS_AT, None]})


@sample(events.MEMBER_SUSPENDED)
def _(w):
    return Sample(target=w.picker, changes={"status": [MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]})


@sample(events.MEMBER_SIGNED_OUT)
def _(w):
    return Sample(target=w.picker, changes={"open_sessions": [2, 0]})


@sample(events.MEMBER_REACTIVATED)
def _(w):
    return Sample(target=w.picker, changes={"status": [MembershipStatus.SUSPENDED, MembershipStatus.ACTIVE]})


@sample(events.MEMBER_REMOVED)
def _(w):
    return Sample(
        target=w.picker,
        changes={
            "status": [MembershipStatus.ACTIVE, MembershipStatus.REMOVED],
            "open_sessions": [2, 0],
            "open_invitations": [1, 0],
        },
    )


@sample(events.MEMBER_EXPIRED)
def _(w):
    return Sample(
        target=w.picker,
        actor=None,
        changes={"status": [MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]},
    )


@sample(events.INVITATION_SENT)
def _(w):
    return Sample(target=w.picker, actor=None, changes={"invitation_id": [None, 41], "attempt": [None, 1]})


@sample(events.INVITATION_RESENT)
def _(w):
    return Sample(target=w.picker, changes={"invitation_id": [None, 42]})


@sample(events.INVITATION_REVOKED)
def _(w):
    return Sample(target=w.picker, changes={"status": [MembershipStatus.INVITED, MembershipStatus.REMOVED]})


@sample(events.INVITATION_ACCEPTED)
def _(w):
    return Sample(
        target=w.picker,
        actor=w.picker.user,
        changes={
            "status": [MembershipStatus.INVITED, MembershipStatus.ACTIVE],
            "password_set": [False, True],
        },
    )


@sample(events.EMAIL_CONFIRMED)
def _(w):
    return Sample(target=w.owner, changes={"status": [MembershipStatus.INVITED, MembershipStatus.ACTIVE]})


@sample(events.CONFIRMATION_RESENT)
def _(w):
    return Sample(target=w.owner, changes={"invitation_id": [None, 43]})


@sample(events.SERVICE_ACCOUNT_CREATED)
def _(w):
    return Sample(
        target=w.service,
        changes={
            "kind": [None, MembershipKind.SERVICE],
            "status": [None, MembershipStatus.ACTIVE],
        },
    )


@sample(events.TOKEN_CREATED)
def _(w):
    return Sample(target=w.service, changes={"token_id": [None, w.token_id], "expires_at": [None, ENDS_AT]})


@sample(events.TOKEN_REVOKED)
def _(w):
    return Sample(
        target=w.service,
        changes={
            "token_id": [w.token_id, w.token_id],
            "revoked": [False, True],
            "reason": [None, RevocationReason.MEMBER_REMOVED],
        },
    )


# --- signing in, people ---


@sample(events.LOGIN)
def _(w):
    return Sample(target_type="user", target_id=w.picker.user_id, actor=w.picker.user)


@sample(events.LOGIN_FAILED)
def _(w):
    return Sample(target_type="user", target_id=w.picker.user_id, actor=None)


@sample(events.LOGOUT)
def _(w):
    return Sample(target_type="user", target_id=w.picker.user_id, actor=w.picker.user)


@sample(events.PASSWORD_CHANGED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user)


@sample(events.SIGNED_OUT_ELSEWHERE)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user, changes={"other_sessions": [3, 0]})


@sample(events.PASSWORD_RESET)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user)


@sample(events.TWO_FACTOR_ENROLLED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user, changes={"two_factor": [False, True]})


@sample(events.SIGN_IN_LOCKED)
def _(w):
    return Sample(
        target_type="user",
        target_id=w.picker.user_id,
        actor=None,
        changes={"step": [None, "password"], "scope": [None, "account"], "retry_after_seconds": [None, 290]},
    )


@sample(events.RECOVERY_CODES_GENERATED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user, changes={"replaced_earlier_codes": [None, True]})


@sample(events.RECOVERY_CODE_USED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user, changes={"recovery_codes_left": [8, 7]})


@sample(events.TWO_FACTOR_RESET)
def _(w):
    return Sample(target=w.picker, changes={"two_factor": [True, False]})


@sample(events.PASSWORD_EXPIRY_REMINDED)
def _(w):
    return Sample(target=w.picker.user, actor=None, changes={"expires_at": [None, ENDS_AT]})


@sample(events.SELLER_SWITCHED)
def _(w):
    return Sample(target=w.picker, actor=w.picker.user)


@sample(events.DATA_EXPORTED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user)


@sample(events.ERASURE_REQUESTED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user)


@sample(events.ERASED)
def _(w):
    return Sample(target=w.picker.user, actor=w.picker.user)


@sample(events.PROFILE_UPDATED)
def _(w):
    return Sample(
        target=w.picker.user,
        actor=w.picker.user,
        changes={"display_name": [None, None], "preferred_language": ["", "ru"]},
    )


@sample(events.ACCESS_DENIED)
def _(w):
    return Sample(
        target_type="user",
        target_id=w.picker.user_id,
        actor=w.picker.user,
        changes={
            "path": [None, f"/sellers/{w.seller.pk}/audit/"],
            "status": [None, 403],
            "permission": [None, "audit.view"],
        },
    )


# --- the audit log ---


@sample(events.EXPORTED)
def _(w):
    filters = EventFilters(
        actor_id=w.picker.user_id,
        action=events.MEMBER_SUSPENDED,
        target_type="membership",
        target_id=w.picker.pk,
        store_id=w.store.pk,
        since=datetime(2031, 3, 1, tzinfo=UTC),
        until=datetime(2031, 4, 1, tzinfo=UTC),
    )
    return Sample(target=w.seller, changes={"format": [None, "csv"], "filters": [None, filters.as_dict()]})


@sample(events.ARCHIVED)
def _(w):
    return Sample(
        target_type="seller",
        target_id=w.seller.pk,
        actor=None,
        changes={
            "checkpoint_sequence": [0, 1200],
            "checkpoint_hash": ["0" * 64, _sha256("last archived")],
            "removed_count": [None, 1200],
            "archive_sha256": [None, _sha256("archive")],
            "cutoff": [None, "2030-03-15T00:00:00.000000Z"],
        },
    )


@sample(events.RETENTION_CHANGED)
def _(w):
    return Sample(target=w.seller, changes={"retention_days": [None, 365]})


@sample(events.DIGEST_RECIPIENTS_CHANGED)
def _(w):
    return Sample(target=w.seller, changes={"digest_recipient_count": [0, 2]})


# --- roles, assignments, stores ---


@sample(events.ROLE_CREATED)
def _(w):
    return Sample(
        target=w.custom_role,
        changes={"name": [None, "质检员"], "permissions": [None, ["orders.view", "stock.view"]]},
    )


@sample(events.ROLE_UPDATED)
def _(w):
    return Sample(
        target=w.custom_role,
        changes={
            "name": ["质检", "质检员"],
            "description": [False, True],
            "permissions": [["orders.view"], ["orders.view", "stock.view"]],
        },
    )


@sample(events.ROLE_CLONED)
def _(w):
    return Sample(
        target=w.custom_role,
        changes={
            "source_role_id": [None, w.picker_role.pk],
            "name": [None, "质检员"],
            "permissions": [None, list(w.picker_role.permissions)],
        },
    )


@sample(events.ROLE_DELETED)
def _(w):
    return Sample(
        target_type="role",
        target_id=w.deleted_role_id,
        names_deleted=True,
        changes={
            "name": [w.deleted_role_name, None],
            "permissions": [["products.edit", "products.view"], None],
            "moved_to_role_id": [None, w.custom_role.pk],
            "moved_assignment_ids": [None, [7, 9]],
        },
    )


def _scope(w):
    return {
        "assignment_id": 31,
        "role_id": w.picker_role.pk,
        "scope_kind": "warehouses",
        "market": None,
        "store_ids": [],
        "warehouse_ids": [w.khimki.pk, w.podolsk.pk],
    }


@sample(events.ASSIGNMENT_GRANTED)
def _(w):
    # A time-limited role (a Technology partner's) also brings the member's end date closer.
    changes = {name: [None, value] for name, value in _scope(w).items()}
    return Sample(target=w.picker, changes={**changes, "ends_at": [None, ENDS_AT]})


@sample(events.ASSIGNMENT_REVOKED)
def _(w):
    scope = {**_scope(w), "scope_kind": "market", "market": "KZ", "warehouse_ids": []}
    changes = {name: [value, None] for name, value in scope.items()}
    return Sample(target=w.picker, changes={**changes, "reason": [None, RevocationReason.MEMBER_REMOVED]})


@sample(events.ASSIGNMENT_SCOPE_CHANGED)
def _(w):
    scope = _scope(w)
    return Sample(
        target=w.picker,
        changes={
            "assignment_id": [31, 31],
            "role_id": [scope["role_id"], scope["role_id"]],
            "scope_kind": ["warehouses", "stores"],
            "market": ["", ""],
            "store_ids": [[], [w.store.pk]],
            "warehouse_ids": [scope["warehouse_ids"], []],
        },
    )


@sample(events.MEMBERS_IMPORTED)
def _(w):
    from onboarding.models import MemberImport

    upload, _created = MemberImport.objects.get_or_create(
        seller=w.seller, file_name="新仓库拣货员.xlsx", defaults={"uploaded_by": w.owner.user}
    )
    return Sample(target=upload, changes={"import_rows": [None, 32], "import_ready_rows": [None, 30]})


@sample(events.STORE_ADDED)
def _(w):
    return Sample(
        target=w.store,
        changes={"name": [None, "华东旗舰店"], "client_id": [None, "123456"], "market": [None, "RU"]},
    )


@sample(events.STORE_RENAMED)
def _(w):
    return Sample(target=w.store, changes={"name": ["华东店", "华东旗舰店"]})


@sample(events.STORE_DEACTIVATED)
def _(w):
    return Sample(target=w.second_store, changes={"is_active": [True, False]})


@sample(events.WAREHOUSE_ADDED)
def _(w):
    return Sample(
        target=w.khimki,
        changes={
            "store_id": [None, w.store.pk],
            "name": [None, "Химки"],
            "kind": [None, "FBS"],
            "country": [None, "RU"],
            "region": [None, "Московская область"],
        },
    )


@sample(events.WAREHOUSE_RENAMED)
def _(w):
    return Sample(target=w.khimki, changes={"name": ["Химки-1", "Химки"]})


@sample(events.WAREHOUSE_KIND_CHANGED)
def _(w):
    return Sample(target=w.khimki, changes={"kind": ["FBS", "rFBS"]})


@sample(events.ROLE_MAPPED_TO_CATALOG)
def _(w):
    # Written by roles migration 0005 (OzonSeat itself): the retired permissions read in every language.
    return Sample(
        target=w.custom_role,
        actor=None,
        changes={
            "permissions": [
                ["messages.reply", "messages.view", "orders.view", "shipments.manage"],
                [
                    "chats.reply",
                    "chats.view",
                    "customer_reviews.reply",
                    "customer_reviews.view",
                    "orders.process",
                    "orders.view",
                    "questions.reply",
                    "questions.view",
                    "supplies.manage",
                    "supplies.view",
                ],
            ]
        },
    )


@sample(events.WAREHOUSE_DEACTIVATED)
def _(w):
    return Sample(target=w.podolsk, changes={"is_active": [True, False]})


@sample(events.PERMISSIONS_REPAIRED)
def _(w):
    return Sample(target=w.seller, actor=None, changes={"added_rows": [0, 3], "removed_rows": [0, 1]})


# --- access reviews ---


@sample(events.REVIEW_OPENED)
def _(w):
    return Sample(
        target=w.review,
        changes={
            "trigger": [None, "manual"],
            "selection": [None, {"members": [w.picker.pk], "stores": [w.store.pk], "markets": ["KZ"]}],
            "item_count": [None, 3],
            "due_on": [None, "2031-03-29"],
            "due_policy": [None, "suspend"],
        },
    )


@sample(events.REVIEW_ITEM_DECIDED)
def _(w):
    item = w.review.items.get(membership=w.picker)
    return Sample(
        target=w.picker,
        changes={
            "review_id": [None, w.review.pk],
            "item_id": [None, item.pk],
            "decision": [None, "remove"],
            "commented": [None, True],
        },
    )


@sample(events.REVIEW_POLICY_APPLIED)
def _(w):
    return Sample(
        target=w.review,
        actor=None,
        changes={
            "policy": [None, "suspend"],
            "outcomes": [None, {"nothing_to_do": 1, "suspended": 2}],
            "item_ids": [None, [1, 2, 3]],
        },
    )


@sample(events.REVIEW_CLOSED)
def _(w):
    return Sample(
        target=w.review,
        changes={
            "status": ["open", "closed"],
            "reason": [None, "owner"],
            "decisions": [None, {"keep": 2, "remove": 1, "unanswered": 1}],
        },
    )
