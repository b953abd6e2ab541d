"""The members pages: people (accounts) together with their access (roles), so they live in roles, above
both. Their URL names stay in the `accounts` namespace (ozonseat/urls.py mounts them there).

Who sees whom: the list, a member's page and their e-mail address need members.view (or members.manage)
over that member (roles.authority.people_reach); without it a member sees their own page and the names of
the colleagues they share a store with. Another member's page outside the viewer's reach answers 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import browser_sessions, selectors, services, two_factor
from accounts.authorization import (
    MANAGE_MEMBERS,
    MANAGE_SECURITY,
    MANAGE_TOKENS,
    member_has_seller_permission,
    require_may_act_on,
)
from accounts.decorators import record_refusal, seller_view
from accounts.forms import EditMemberForm, InviteMemberForm, apply_service_error
from accounts.models import MembershipStatus
from dashboard import selectors as dashboard_selectors
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound

from . import authority
from . import selectors as roles_selectors
from . import visibility as roles_visibility
from .catalog import all_permissions
from .forms import InviteAccessForm
from .invitations import invite_member_with_roles
from .models import Market
from .second_factor import reset_member_two_factor
from .selectors import effective_permissions, list_members_with_assignments

# --- members --------------------------------------------------------------------------------------


MEMBER_SORTS = {
    "name": ("sort_name", "pk"),
    "-name": ("-sort_name", "-pk"),
    "email": ("user__email", "pk"),
    "-email": ("-user__email", "-pk"),
    "status": ("status", "sort_name", "pk"),
    "-status": ("-status", "sort_name", "pk"),
    "added": ("created_at", "pk"),
    "-added": ("-created_at", "-pk"),
    "seen": (F("member_last_sign_in").asc(nulls_first=True), "pk"),
    "-seen": (F("member_last_sign_in").desc(nulls_last=True), "pk"),
}


MEMBERS_PER_PAGE = 20


@seller_view()
def members(request, *, seller, membership):
    """The seller's people, MEMBERS_PER_PAGE at a time (sorted, searched and filtered in the database):
    the page costs the same queries and about the same bytes for 10 people or 5,000."""
    reach = authority.people_reach(membership)
    if reach.is_empty:
        # Without members.view anywhere: their own page, their own access, colleagues' names.
        names, count = roles_visibility.colleague_names(membership)
        return render(
            request, "roles/colleagues.html", {"colleagues": names, "more": max(count - len(names), 0)}
        )
    status = request.GET.get("status", "")
    if status not in MembershipStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "")
    roles = list(roles_selectors.roles_for_choice(seller))
    role = next((r for r in roles if str(r.pk) == request.GET.get("role")), None)
    store = _chosen_store(seller, request.GET.get("store"))
    market = request.GET.get("market", "")
    if market not in Market.values:
        market = ""
    queryset = dashboard_selectors.filter_members_by_access(
        roles_visibility.visible_members(
            seller, membership, list_members_with_assignments(seller, status=status, search=search)
        ),
        role=role,
        store=store,
        market=market,
    )
    if sort in MEMBER_SORTS:
        queryset = queryset.order_by(*MEMBER_SORTS[sort])
    else:
        sort = ""
    page = Paginator(queryset, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("sort", None)
    query.pop("page", None)
    can_manage = member_has_seller_permission(membership, MANAGE_MEMBERS)
    people = list(page.object_list)
    return render(
        request,
        "accounts/members.html",
        {
            "members": people,
            "page": page,
            "status": status,
            "search": search,
            "sort": sort,
            "base_query": query.urlencode(),
            "statuses": MembershipStatus.choices,
            "roles": roles,
            "store_select": dashboard_selectors.store_select(seller, store, name="store"),
            "markets": Market.choices,
            "role": role,
            "store": store,
            "market": market,
            "can_manage": can_manage,
            # Only those the services would let this manager act on can be selected for a bulk action.
            "actable": authority.memberships_actor_may_act_on(membership, people, MANAGE_MEMBERS)
            if can_manage
            else set(),
        },
    )


def _chosen_store(seller, store_id):
    """The store of the filter, if it is one of the seller's active stores (else no filter). One query."""
    if not store_id:
        return None
    try:
        return roles_selectors.get_store_for_seller(seller, store_id)
    except NotFound:
        return None


BULK_ACTIONS = {
    "suspend": (
        services.suspend_member,
        gettext_lazy("Suspend"),
        gettext_lazy("%(names)s will be signed out everywhere and lose access until reactivated."),
        gettext_lazy("Suspended: %(names)s."),
    ),
    "resend": (
        services.resend_invitation,
        gettext_lazy("Resend invitation"),
        gettext_lazy("A new link is e-mailed to %(names)s; older links stop working."),
        gettext_lazy("New invitations sent to: %(names)s."),
    ),
}


@seller_view(MANAGE_MEMBERS)
@require_POST
def bulk_action(request, *, seller, membership):
    action = request.POST.get("action", "")
    back = redirect("accounts:members", seller_id=seller.pk)
    if action not in BULK_ACTIONS:
        messages.error(request, _("Choose what to do with the selected sub-accounts."))
        return back
    targets = roles_visibility.visible_members(seller, membership).filter(
        pk__in=_ids(request.POST.getlist("ids"))
    )
    targets = list(targets)
    if not targets:
        messages.error(request, _("Select at least one sub-account first."))
        return back
    service, label, consequence, done = BULK_ACTIONS[action]
    names = ", ".join(target.display_name for target in targets)
    if request.POST.get("confirmed") != "1":
        return render(
            request,
            "accounts/confirm_bulk.html",
            {
                "targets": targets,
                "label": label,
                "consequence": str(consequence) % {"names": names},
                "action": action,
            },
        )
    succeeded, failed = [], []
    for target in targets:
        try:
            service(actor=request.user, membership=target)
        except (Conflict, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            failed.append(f"{target.user}: {error.message}")
        else:
            succeeded.append(target.display_name)
    if succeeded:
        messages.success(request, str(done) % {"names": ", ".join(succeeded)})
    for problem in failed:
        messages.error(request, problem)
    return back


def _ids(values) -> list[int]:
    return [int(value) for value in values if value.isdigit()][:500]


@seller_view(MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def invite(request, *, seller, membership):
    # "Invite again" on a removed member's page comes here with the address and name filled in.
    initial = {name: request.GET.get(name, "")[:254] for name in ("email", "display_name", "job_title")}
    form = InviteMemberForm(request.POST or None, initial=initial)
    access_form = InviteAccessForm(
        request.POST or None,
        roles=roles_selectors.roles_for_choice(seller),
        seller=seller,  # stores and warehouses: searchable selects loaded on demand
        prefix="grant",
    )
    if request.method == "POST" and form.is_valid() and access_form.is_valid():
        try:
            invited = invite_member_with_roles(
                actor=request.user, seller=seller, grants=access_form.grants(), **form.cleaned_data
            )
        except (InvalidInput, Conflict, NotAllowed) as error:
            fields = {*(getattr(error, "errors", None) or {}), getattr(error, "field", None)}
            on_access = bool(fields & set(access_form.fields)) or isinstance(error, NotAllowed)
            apply_service_error(access_form if on_access else form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invited.user.email})
            return redirect("accounts:member", seller_id=seller.pk, membership_id=invited.pk)
    if request.method == "POST":
        messages.error(request, _("Nothing was saved. Please correct the errors below."))
    return render(request, "accounts/invite.html", {"form": form, "access_form": access_form})


@seller_view()
@require_http_methods(["GET", "POST"])
def member(request, membership_id, *, seller, membership):
    target = roles_visibility.get_visible_member_for_seller(seller, membership, membership_id)
    can_manage = member_has_seller_permission(membership, MANAGE_MEMBERS)
    manage_tokens = member_has_seller_permission(membership, MANAGE_TOKENS)
    manage_security = member_has_seller_permission(membership, MANAGE_SECURITY)
    removed = target.status == MembershipStatus.REMOVED  # their page is history: nothing to edit or act on
    # The one rule (roles.authority): no edit form or action the services would refuse.
    may_act = (
        not removed
        and (can_manage or manage_tokens or manage_security)
        and authority.may_act_on(membership, target)
    )
    editable = can_manage and may_act and authority.may_act_on(membership, target, MANAGE_MEMBERS)
    form = None
    if editable:
        form = EditMemberForm(
            request.POST or None, initial={"job_title": target.job_title, "ends_at": target.ends_at}
        )
    if request.method == "POST":
        if form is None:
            raise NotAllowed()
        if form.is_valid():
            try:
                services.update_member(actor=request.user, membership=target, **form.cleaned_data)
            except (InvalidInput, Conflict) as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    own_page = target.user_id == request.user.pk
    # Where someone is signed in, and with which tokens: for the people who manage members or tokens, and
    # for the person themselves.
    see_sessions = (editable and not removed) or own_page
    see_tokens = can_manage or own_page or manage_tokens
    can_reset_two_factor = (
        manage_security and may_act and two_factor.confirmed_device(target.user) is not None
    )
    return render(
        request,
        "accounts/member.html",
        {
            "target": target,
            "form": form,
            "editable": editable,
            "can_manage": can_manage,
            "removed": removed,
            "invitation": selectors.pending_invitation(target),
            # Their recent activity comes from the audit log: for those who may read it, and for themselves.
            "activity": dashboard_selectors.recent_activity(seller, membership=target, limit=10)
            if own_page or authority.audit_reach(membership).everywhere
            else None,
            "own_page": own_page,
            "sessions": browser_sessions.open_sessions(target.user) if see_sessions else None,
            "current_session": browser_sessions.current_session_id(request) if own_page else None,
            "tokens": selectors.member_api_tokens(target) if see_tokens else None,
            "tokens_readonly": not ((manage_tokens and may_act) or own_page),
            "can_reset_two_factor": can_reset_two_factor,
        },
    )


MEMBER_ACTIONS = {
    "suspend": (
        services.suspend_member,
        gettext_lazy("Suspend"),
        gettext_lazy("%(name)s will be signed out everywhere and lose access until reactivated."),
        gettext_lazy("%(name)s is suspended."),
    ),
    "signout": (
        services.sign_out_everywhere,
        gettext_lazy("Sign out everywhere"),
        gettext_lazy("%(name)s will be signed out of every browser."),
        gettext_lazy("%(name)s was signed out everywhere."),
    ),
    "reactivate": (
        services.reactivate_member,
        gettext_lazy("Reactivate"),
        gettext_lazy("%(name)s will get their access back."),
        gettext_lazy("%(name)s is active again."),
    ),
    "remove": (
        services.remove_member,
        gettext_lazy("Remove"),
        gettext_lazy(
            "%(name)s will be signed out everywhere and removed from this seller. Pending links stop working."
        ),
        gettext_lazy("%(name)s was removed."),
    ),
    "resend": (
        services.resend_invitation,
        gettext_lazy("Resend invitation"),
        gettext_lazy("A new link is e-mailed to %(name)s; older links stop working."),
        gettext_lazy("A new invitation was sent to %(name)s."),
    ),
    "revoke": (
        services.revoke_invitation,
        gettext_lazy("Revoke invitation"),
        gettext_lazy("The invitation link of %(name)s stops working."),
        gettext_lazy("The invitation of %(name)s was revoked."),
    ),
}


# Suspending or removing someone who can work today: the page names what exactly they lose.
ACTIONS_THAT_END_ACCESS = {"suspend", "remove"}


def _access_lost(target) -> list[tuple[str, list[str]]]:
    """(heading, names) for what the member can reach now: seller-wide permissions, stores, warehouses."""
    grid = effective_permissions(target)
    lost = [
        (
            _("On the whole seller"),
            [p.label for p in all_permissions() if p.codename in grid.seller_permissions],
        ),
        (_("Stores"), [store.name for store, held in grid.stores if held]),
        (_("Warehouses"), [f"{w.store.name} · {w.name}" for w, held in grid.warehouses if held]),
    ]
    return [(heading, names) for heading, names in lost if names]


SIGN_OUT_CONSEQUENCE = ngettext_lazy(
    "%(name)s will be signed out of %(count)d open session at once and has to sign in again. Their API "
    "tokens keep working: revoke those separately.",
    "%(name)s will be signed out of %(count)d open sessions at once and has to sign in again. Their API "
    "tokens keep working: revoke those separately.",
    "count",
)


@seller_view(MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_action(request, membership_id, action, *, seller, membership):
    if action not in MEMBER_ACTIONS:
        raise Http404()
    service, label, consequence, done = MEMBER_ACTIONS[action]
    target = roles_visibility.get_visible_member_for_seller(seller, membership, membership_id)
    name = target.display_name
    if request.method == "GET":
        try:  # nothing to confirm that the service would refuse
            require_may_act_on(actor=request.user, membership=target)
        except NotAllowed as error:
            messages.error(request, error.message)
            return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    if request.method == "POST":
        try:
            service(actor=request.user, membership=target)
        except Conflict as error:
            messages.error(request, error.message)
        except NotAllowed as error:
            record_refusal(request, seller=seller, error=error)
            messages.error(request, error.message)
        else:
            messages.success(request, str(done) % {"name": name})
        return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    lost = _access_lost(target) if action in ACTIONS_THAT_END_ACCESS and target.is_effective else []
    if action == "signout" and (count := len(browser_sessions.open_sessions(target.user))):
        consequence = str(SIGN_OUT_CONSEQUENCE % {"name": name, "count": count})
    else:
        consequence = str(consequence) % {"name": name}
    return render(
        request,
        "accounts/confirm_action.html",
        {"target": target, "label": label, "consequence": consequence, "action": action, "lost": lost},
    )


@seller_view(MANAGE_SECURITY)
@require_http_methods(["GET", "POST"])
def member_reset_two_factor(request, membership_id, *, seller, membership):
    """A lost phone: the owner, or a security manager who may act on the member, removes their second factor
    (asks first; the POST does it)."""
    target = roles_visibility.get_visible_member_for_seller(seller, membership, membership_id)
    if request.method == "POST":
        try:
            reset_member_two_factor(actor=request.user, membership=target)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _(
                    "The two-factor sign-in of %(name)s was reset. They set up a new one at their next "
                    "sign-in."
                )
                % {"name": target.user},
            )
        return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    return render(
        request,
        "accounts/confirm_action.html",
        {
            "target": target,
            "label": _("Reset two-factor sign-in"),
            "consequence": _(
                "The authenticator and recovery codes of %(name)s stop working and they are signed out "
                "everywhere. At their next sign-in, with their password, they set up a new authenticator. "
                "Do this only when you are sure the request really comes from them."
            )
            % {"name": target.user},
            "action": "reset_two_factor",
        },
    )
