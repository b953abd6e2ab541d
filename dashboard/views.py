"""Dashboard pages that are not about one app's objects: overview, my access, profile, language."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from accounts import browser_sessions, password_policy, services, two_factor
from accounts import selectors as account_selectors
from accounts.authorization import member_has_permission_everywhere, member_has_seller_permission
from accounts.decorators import record_refusal, seller_view
from accounts.forms import ChangePasswordForm, ProfileForm, TwoFactorCodeForm, apply_service_error
from accounts.middleware import activate_time_zone
from accounts.selectors import current_seller_for_user
from accounts.views import change_own_password
from audit.services import AUDIT_VIEW
from ozonseat.errors import InvalidInput
from reviews import selectors as review_selectors
from roles import authority as role_authority
from roles import options as role_options
from roles import visibility as role_visibility

from . import selectors


@seller_view()
def overview(request, *, seller, membership):
    # Those who see everyone (the owner, whole-seller members.view) need no filter by id: the cards list
    # the seller's invited and active people, none of them removed.
    reach = role_authority.people_reach(membership)
    visible = (
        None if reach.everywhere else role_visibility.visible_member_ids(seller, membership, reach=reach)
    )
    return render(
        request,
        "dashboard/overview.html",
        {
            "by_status": selectors.members_by_status(seller),
            "by_role": selectors.members_by_role(seller),
            # People's names: only those the viewer may see (members.view where held).
            "pending": selectors.pending_invitations(seller, visible=visible),
            "inactive": selectors.inactive_members(seller, visible=visible),
            # Recent activity is a window on the audit log: for those who may read it.
            "activity": selectors.recent_activity(seller, limit=10)
            if member_has_permission_everywhere(membership, AUDIT_VIEW)
            else None,
            "inactive_days": selectors.INACTIVE_AFTER.days,
            "review_card": review_selectors.overview_card(seller, membership),
        },
    )


@seller_view()
def my_access(request, *, seller, membership):
    return render(
        request, "dashboard/my_access.html", {"target": membership, **selectors.my_access(membership)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    # Not a seller's page: times are shown in the time zone of the seller the person works for now.
    current_seller = current_seller_for_user(user)
    if current_seller is not None:
        activate_time_zone(current_seller)
    which = request.POST.get("form") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if which == "profile" else None,
        initial={"display_name": user.display_name, "preferred_language": user.preferred_language},
    )
    password_form = ChangePasswordForm(request.POST if which == "password" else None)
    if which == "profile" and profile_form.is_valid():
        try:
            services.update_profile(actor=user, **profile_form.cleaned_data)
        except InvalidInput as error:
            apply_service_error(profile_form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("dashboard:profile")
    elif which == "password" and password_form.is_valid():
        if change_own_password(request, password_form):
            return redirect("dashboard:profile")
    elif which == "signout_others":
        return _sign_out_other_sessions(request, user)
    if which in ("profile", "password") and request.method == "POST":
        messages.error(request, _("Please correct the errors below."))
    current = browser_sessions.current_session_id(request)
    sessions = browser_sessions.open_sessions(user)  # this one included, marked
    two_factor_on = two_factor.confirmed_device(user) is not None
    return render(
        request,
        "dashboard/profile.html",
        {
            "profile_form": profile_form,
            "password_form": password_form,
            "two_factor_on": two_factor_on,
            "recovery_codes_left": two_factor.recovery_codes_left(user) if two_factor_on else None,
            "recovery_form": TwoFactorCodeForm(prefix=None) if two_factor_on else None,
            "password_expires_at": password_policy.password_expires_at(user),
            "sessions": sessions,
            "current_session": current,
            "other_sessions": [session for session in sessions if session.pk != current],
        },
    )


def _sign_out_other_sessions(request, user):
    """Asks first (the POST without `confirmed`), then ends every other session; this one continues."""
    current = browser_sessions.current_session_id(request)
    if request.POST.get("confirmed") != "1":
        others = browser_sessions.other_open_sessions(user, current)
        return render(request, "dashboard/confirm_sign_out_others.html", {"others": others})
    count = services.sign_out_other_sessions(user=user, current_session_id=current)
    user.refresh_from_db()
    update_session_auth_hash(request, user)
    browser_sessions.keep_current(request, user)
    messages.success(
        request,
        ngettext(
            "%(count)d other session was signed out.", "%(count)d other sessions were signed out.", count
        )
        % {"count": count},
    )
    return redirect("dashboard:profile")


@require_POST
def set_language(request):
    """Django's set_language (cookie), plus the signed-in person's saved preference."""
    language = request.POST.get("language", "")
    response = django_set_language(request)
    if request.user.is_authenticated:
        try:
            services.set_preferred_language(actor=request.user, language=language)
        except InvalidInput:
            messages.error(request, _("Choose one of the offered languages."))
    return response


@seller_view()
@require_http_methods(["GET", "POST"])
def tokens(request, *, seller, membership):
    """API tokens: everyone manages their own; token managers also service accounts and their tokens.
    A new token's secret is shown once, in the response to the POST that made it (never stored, never
    put in a message or the session)."""
    from accounts import api_tokens
    from accounts.authorization import MANAGE_TOKENS
    from accounts.forms import ApiTokenForm, ServiceAccountForm
    from ozonseat.errors import Conflict, NotAllowed

    manage = member_has_seller_permission(membership, MANAGE_TOKENS)
    page = _tokens_page(seller, membership, manage=manage)
    which = request.POST.get("form") if request.method == "POST" else None
    if which in ("service_account", "service_token") and not manage:
        raise NotAllowed(permission=MANAGE_TOKENS)
    if which == "revoke":
        return _revoke_token(request, seller=seller, membership=membership, manage=manage)
    own_form = ApiTokenForm(request.POST if which == "own_token" else None, prefix="own")
    service_form = ServiceAccountForm(request.POST if which == "service_account" else None, prefix="service")
    service_token_form = ApiTokenForm(
        request.POST if which == "service_token" else None, prefix="st", accounts=page["actable_accounts"]
    )
    created = None
    form = {"own_token": own_form, "service_account": service_form, "service_token": service_token_form}.get(
        which
    )
    if form is not None and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if which == "service_account":
                account = api_tokens.create_service_account(actor=request.user, seller=seller, **data)
                messages.success(
                    request, _("Service account %(name)s added.") % {"name": account.display_name}
                )
                return redirect("dashboard:tokens", seller_id=seller.pk)
            owner = membership
            if which == "service_token":
                account_id = data.pop("account", None)
                owner = next((a for a in page["actable_accounts"] if a.pk == account_id), None)
                if owner is None:  # none offered: the actor may act on no service account
                    raise NotAllowed(permission=MANAGE_TOKENS)
            created = api_tokens.create_api_token(actor=request.user, membership=owner, **data)
        except (InvalidInput, Conflict, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            apply_service_error(form, error)
        else:
            page = _tokens_page(seller, membership, manage=manage)
            own_form = ApiTokenForm(prefix="own")
            service_token_form = ApiTokenForm(prefix="st", accounts=page["actable_accounts"])
    if form is not None and form.errors:
        messages.error(request, _("Nothing was saved. Please correct the errors below."))
    return render(
        request,
        "dashboard/tokens.html",
        {
            **page,
            "manage": manage,
            "created": created,
            "own_form": own_form,
            "service_form": service_form,
            "service_token_form": service_token_form,
        },
    )


def _tokens_page(seller, membership, *, manage):
    """The page's tokens, with the service accounts the actor may act on (roles.authority): only those are
    offered a new token, and only their tokens get a revoke button."""
    from roles.authority import memberships_actor_may_act_on

    page = selectors.tokens_page(seller, membership, manage=manage)
    actable = memberships_actor_may_act_on(membership, page["service_accounts"]) if manage else set()
    for account in page["service_accounts"]:
        account.tokens_readonly = account.pk not in actable
    page["actable_accounts"] = [account for account in page["service_accounts"] if account.pk in actable]
    return page


def _revoke_token(request, *, seller, membership, manage):
    """Revoking asks first (the same POST without `confirmed` renders the question) and says what happens.
    A member revokes their own tokens; a token manager also those of service accounts."""
    from accounts import api_tokens
    from accounts.authorization import MANAGE_TOKENS
    from ozonseat.errors import Conflict, NotAllowed

    token = selectors.get_token_for_seller(seller, request.POST.get("token"))
    if token.membership_id != membership.pk and not manage:
        raise NotAllowed(permission=MANAGE_TOKENS)
    # Started from a sub-account page: go back there (only this one known place, never a URL from the form).
    if request.POST.get("back") == "member":
        back = reverse(
            "accounts:member", kwargs={"seller_id": seller.pk, "membership_id": token.membership_id}
        )
    else:
        back = reverse("dashboard:tokens", kwargs={"seller_id": seller.pk})
    if request.POST.get("confirmed") != "1":
        return render(
            request,
            "dashboard/confirm_revoke.html",
            {
                "token": token,
                "label": _("Revoke token %(name)s") % {"name": token.name},
                "consequence": _(
                    "Programs using %(prefix)s… are refused from their next request. This cannot be undone."
                )
                % {"prefix": token.prefix},
                "back": back,
                "back_to_member": request.POST.get("back") == "member",
            },
        )
    try:
        api_tokens.revoke_api_token(actor=request.user, token=token)
    except Conflict as error:
        messages.error(request, error.message)
    except NotAllowed as error:
        record_refusal(request, seller=seller, error=error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect(back)


# --- options of the searchable selects: a page of matches, scoped to the seller ---------------------


def _options(rows_and_more) -> JsonResponse:
    rows, more = rows_and_more
    return JsonResponse({"results": [{"id": pk, "label": label} for pk, label in rows], "more": more})


@seller_view()
@require_safe
def store_options(request, *, seller, membership):
    """Stores matching `q`, for every member (as the stores page); `inactive=1` adds deactivated ones."""
    return _options(
        role_options.store_options(
            seller,
            request.GET.get("q", ""),
            include_inactive=request.GET.get("inactive") == "1",
            places=role_visibility.visible_places(membership),
        )
    )


@seller_view()
@require_safe
def warehouse_options(request, *, seller, membership):
    """Active warehouses matching `q` (their name or their store's), for every member (as a store's page)."""
    return _options(
        role_options.warehouse_options(
            seller, request.GET.get("q", ""), places=role_visibility.visible_places(membership)
        )
    )


@seller_view(AUDIT_VIEW)
@require_safe
def people_options(request, *, seller, membership):
    """The seller's people matching `q`: the audit log's person filter, for those who may read the log —
    with audit.view at a market or stores, the people within it."""
    reach = role_visibility.audit_event_reach(seller, membership)
    return _options(
        account_selectors.people_options(
            seller, request.GET.get("q", ""), within=None if reach is None else reach.member_ids
        )
    )
