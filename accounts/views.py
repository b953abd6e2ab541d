"""Dashboard views for accounts: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import AUDIT_VIEW
from dashboard import selectors as dashboard_selectors
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound, ServiceError
from roles.authority import may_act_on
from roles.catalog import all_permissions
from roles.second_factor import reset_member_two_factor
from roles.selectors import effective_permissions, list_members_with_assignments

from . import browser_sessions, selectors, services, session_policy, sign_in_throttle, time_zones, two_factor
from .authorization import (
    MANAGE_MEMBERS,
    MANAGE_SECURITY,
    MANAGE_TOKENS,
    get_effective_membership,
    member_has_seller_permission,
    require_may_act_on,
)
from .decorators import record_refusal, seller_view
from .forms import (
    AcceptInvitationForm,
    AuditedSetPasswordForm,
    ChangePasswordForm,
    EditMemberForm,
    EmailAuthenticationForm,
    InviteMemberForm,
    QueuedPasswordResetForm,
    SellerSettingsForm,
    SignUpForm,
    TransferOwnershipForm,
    access_form_class,
    apply_service_error,
)
from .models import MembershipKind, MembershipStatus
from .policy import SIGN_IN_POLICY_FIELDS
from .tokens import password_reset_tokens

EMAIL_BACKEND = "accounts.backends.EmailBackend"


# --- signing up, in and out -----------------------------------------------------------------------


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    seller = selectors.current_seller_for_user(request.user)
    if seller is None:
        return render(request, "accounts/no_seller.html")
    membership = get_effective_membership(request.user, seller)
    if membership is not None and member_has_seller_permission(membership, MANAGE_MEMBERS):
        return redirect("dashboard:overview", seller_id=seller.pk)
    return redirect("dashboard:my_access", seller_id=seller.pk)


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    # Someone signing up from a Chinese or Russian browser (or after picking the language in the header)
    # gets their seller, their e-mails and their dashboard in that language unless they choose another.
    form = SignUpForm(request.POST or None, language=request.LANGUAGE_CODE)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.sign_up_seller(**form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return render(request, "accounts/sign_up_done.html", {"email": membership.user.email})
    return render(request, "accounts/sign_up.html", {"form": form})


CONFIRM_SESSION_KEY = "_ozonseat_confirm_token"
CONFIRM_URL_TOKEN = "pending"


@require_http_methods(["GET", "POST"])
def confirm_email(request, token):
    """Opening the link only shows a button; the POST confirms. Mail scanners that fetch links therefore
    cannot use up the single-use link before the person clicks it. The token moves into the session as for
    invitations."""
    if token == CONFIRM_URL_TOKEN:
        token = request.session.get(CONFIRM_SESSION_KEY, "")
    elif request.method == "GET":
        request.session[CONFIRM_SESSION_KEY] = token
        return redirect("accounts:confirm_email", token=CONFIRM_URL_TOKEN)
    try:
        if request.method == "GET":
            invitation = services.get_invitation_by_token(token)
            if invitation.kind != "signup":
                raise services.InvitationProblem(_("This link is not valid."), code="invalid")
            return render(request, "accounts/confirm_email.html", {"invitation": invitation})
        membership = services.confirm_email(token=token)
    except services.InvitationProblem as problem:
        return render(request, "accounts/link_problem.html", {"problem": problem}, status=400)
    request.session.pop(CONFIRM_SESSION_KEY, None)
    messages.success(request, _("Your e-mail address is confirmed. Sign in to start."))
    return redirect(f"{reverse('accounts:login')}?{urlencode({'email': membership.user.email})}")


# Set when a sign-in had the right password for an address not confirmed yet: that user, and only that one,
# may then be sent a new confirmation link from this session.
UNCONFIRMED_SESSION_KEY = "_ozonseat_unconfirmed_user"


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("email", "")}

    def form_invalid(self, form):
        lockout = getattr(self.request, "sign_in_lockout", None)
        if lockout is not None and getattr(self.request, "axes_locked_out", False):
            # The password was not even checked: say why, and when to try again.
            form.errors.pop("__all__", None)
            form.add_error(None, lockout.message())
            return sign_in_throttle.with_retry_after(super().form_invalid(form), lockout)
        unconfirmed = getattr(form, "unconfirmed_user", None)
        if unconfirmed is not None:
            # The password was right: this browser may ask for a new confirmation link, for this user only.
            self.request.session[UNCONFIRMED_SESSION_KEY] = unconfirmed.pk
        return self.render_to_response(self.get_context_data(form=form, offer_resend=unconfirmed is not None))

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.needs_second_factor(user):
            # The password was right, but the session is not signed in until the second step is done.
            two_factor.begin_pending_login(
                self.request, user, backend=user.backend, next_url=self.get_success_url()
            )
            return redirect(_second_step(user))
        return super().form_valid(form)


@require_POST
def resend_confirmation(request):
    """A new confirmation link for the unconfirmed owner whose password this session has just checked."""
    user_id = request.session.get(UNCONFIRMED_SESSION_KEY)
    if not isinstance(user_id, int):
        messages.error(request, _("Sign in with your e-mail address and password first."))
        return redirect("accounts:login")
    try:
        invitation = services.resend_sign_up_confirmation(user_id=user_id)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("accounts:login")
    request.session.pop(UNCONFIRMED_SESSION_KEY, None)
    return render(request, "accounts/sign_up_done.html", {"email": invitation.email, "resent": True})


def _second_step(user) -> str:
    if two_factor.confirmed_device(user) is None:
        return "accounts:two_factor_setup"
    return "accounts:two_factor_verify"


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def change_own_password(request, form) -> bool:
    """Change the signed-in person's password from a valid ChangePasswordForm. Their other sessions end
    with the old password; this one continues. False, with the reasons on the form, when refused."""
    try:
        user = services.change_password(
            user=request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password1"],
        )
    except InvalidInput as error:
        apply_service_error(form, error)
        return False
    update_session_auth_hash(request, user)
    browser_sessions.keep_current(request, user)
    session_policy.password_changed(request)
    messages.success(request, _("Your password is changed. Other devices were signed out."))
    return True


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_required(request):
    """A seller's policy made the password expire: a new one is chosen before anything else."""
    if not request.session.get(session_policy.PASSWORD_EXPIRED_KEY):
        return redirect("accounts:home")
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and change_own_password(request, form):
        return redirect("accounts:home")
    return render(request, "accounts/password_change_required.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        lockout = sign_in_throttle.password_reset_lockout(self.request, form.cleaned_data["email"])
        if lockout is not None:
            form.add_error(None, lockout.message())
            return sign_in_throttle.with_retry_after(self.form_invalid(form), lockout)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AuditedSetPasswordForm
    token_generator = password_reset_tokens
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# As Django's password reset: the link's token moves into the session and the browser is sent to a URL
# without it, so the token stays out of the address bar, Referer headers, and Django's logs of 4xx pages.
INVITATION_SESSION_KEY = "_ozonseat_invitation_token"
INVITATION_URL_TOKEN = "accept"


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    if token == INVITATION_URL_TOKEN:
        token = request.session.get(INVITATION_SESSION_KEY, "")
    elif request.method == "GET":
        request.session[INVITATION_SESSION_KEY] = token
        return redirect("accounts:accept_invitation", token=INVITATION_URL_TOKEN)
    try:
        invitation = services.get_invitation_by_token(token)
        if invitation.kind != "invitation":
            raise services.InvitationProblem(_("This link is not valid."), code="invalid")
    except services.InvitationProblem as problem:
        return render(request, "accounts/link_problem.html", {"problem": problem}, status=400)
    invited_user = invitation.membership.user
    signed_in = request.user.is_authenticated
    if signed_in and request.user.pk != invited_user.pk:
        return render(
            request,
            "accounts/link_problem.html",
            {
                "problem": NotAllowed(
                    _("This invitation was sent to another address. Sign out, then open the link again.")
                )
            },
            status=403,
        )
    needs_password = services.invitation_needs_password(invitation)
    form = (
        AcceptInvitationForm(
            request.POST or None, initial={"display_name": services.invitation_name(invitation)}
        )
        if needs_password
        else None
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form is not None else {}
        try:
            membership = services.accept_invitation(
                token=token,
                signed_in_user=request.user if signed_in else None,
                display_name=data.get("display_name", ""),
                password=data.get("password", ""),
            )
        except services.InvitationProblem as problem:
            return render(request, "accounts/link_problem.html", {"problem": problem}, status=400)
        except NotAllowed as error:
            return render(request, "accounts/link_problem.html", {"problem": error}, status=403)
        except InvalidInput as error:
            apply_service_error(form, error)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            services.switch_seller(user=membership.user, seller_id=membership.seller_id)
            if not signed_in and two_factor.needs_second_factor(membership.user):
                # The seller requires two-factor sign-in: set up the authenticator before getting in.
                two_factor.begin_pending_login(
                    request, membership.user, backend=EMAIL_BACKEND, next_url=reverse("accounts:home")
                )
                messages.success(request, _("Welcome to %(seller)s.") % {"seller": membership.seller.name})
                return redirect(_second_step(membership.user))
            if not signed_in:
                auth_login(request, membership.user, backend=EMAIL_BACKEND)
            messages.success(request, _("Welcome to %(seller)s.") % {"seller": membership.seller.name})
            return redirect("accounts:home")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"invitation": invitation, "form": form, "needs_password": needs_password, "signed_in": signed_in},
    )


@login_required
@require_POST
def switch_seller(request):
    try:
        seller = services.switch_seller(user=request.user, seller_id=request.POST.get("seller"))
    except NotFound:
        raise Http404() from None
    return redirect("dashboard:overview", seller_id=seller.pk)


# --- members --------------------------------------------------------------------------------------


MEMBER_SORTS = {
    "name": ("member_name", "pk"),
    "-name": ("-member_name", "-pk"),
    "email": ("user__email", "pk"),
    "-email": ("-user__email", "-pk"),
    "status": ("status", "member_name", "pk"),
    "-status": ("-status", "member_name", "pk"),
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
    from roles import selectors as roles_selectors
    from roles.models import Market

    status = request.GET.get("status", "")
    if status not in MembershipStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "")
    roles = list(roles_selectors.list_roles(seller))
    role = next((r for r in roles if str(r.pk) == request.GET.get("role")), None)
    store = _chosen_store(seller, request.GET.get("store"))
    market = request.GET.get("market", "")
    if market not in Market.values:
        market = ""
    queryset = dashboard_selectors.filter_members_by_access(
        list_members_with_assignments(seller, status=status, search=search),
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
    if can_manage:
        from roles.authority import memberships_actor_may_act_on
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
            "actable": memberships_actor_may_act_on(membership, people) if can_manage else set(),
        },
    )


def _chosen_store(seller, store_id):
    """The store of the filter, if it is one of the seller's active stores (else no filter). One query."""
    from roles import selectors as roles_selectors

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
    targets = selectors.list_members(seller).filter(pk__in=_ids(request.POST.getlist("ids")))
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
    from roles import selectors as roles_selectors
    from roles.invitations import invite_member_with_roles

    # "Invite again" on a removed member's page comes here with the address and name filled in.
    initial = {name: request.GET.get(name, "")[:254] for name in ("email", "display_name", "job_title")}
    form = InviteMemberForm(request.POST or None, initial=initial)
    access_form = access_form_class()(
        request.POST or None,
        roles=roles_selectors.list_roles(seller),
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
    target = selectors.get_membership_for_seller(seller, membership_id)
    can_manage = member_has_seller_permission(membership, MANAGE_MEMBERS)
    manage_tokens = member_has_seller_permission(membership, MANAGE_TOKENS)
    manage_security = member_has_seller_permission(membership, MANAGE_SECURITY)
    removed = target.status == MembershipStatus.REMOVED  # their page is history: nothing to edit or act on
    # The one rule (roles.authority): no edit form or action the services would refuse.
    may_act = (
        not removed and (can_manage or manage_tokens or manage_security) and may_act_on(membership, target)
    )
    editable = can_manage and may_act
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
    see_sessions = (can_manage and not removed) or own_page
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
            if own_page or member_has_seller_permission(membership, AUDIT_VIEW)
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
    target = selectors.get_membership_for_seller(seller, membership_id)
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
    target = selectors.get_membership_for_seller(seller, membership_id)
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


# --- seller ---------------------------------------------------------------------------------------


@seller_view(change_permission=MANAGE_SECURITY)
@require_http_methods(["GET", "POST"])
def seller_settings(request, *, seller, membership):
    if not member_has_seller_permission(membership, MANAGE_SECURITY):
        return render(
            request,
            "accounts/seller_settings.html",
            {
                "can_manage": False,
                "seller": seller,
                "time_zone": time_zones.time_zone_label(seller.time_zone),
            },
        )
    initial = {
        name: getattr(seller, name)
        for name in (
            "name",
            "default_language",
            "time_zone",
            "invitation_lifetime_hours",
            "require_two_factor",
            "access_review_interval_days",
            "access_review_length_days",
            "access_review_due_policy",
            *SIGN_IN_POLICY_FIELDS,
        )
    }
    form = SellerSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            # A sign-in policy field left out of the form stays as it is.
            data = {
                name: value
                for name, value in form.cleaned_data.items()
                if value is not None or name not in SIGN_IN_POLICY_FIELDS
            }
            services.update_seller_settings(actor=request.user, seller=seller, **data)
        except InvalidInput as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("accounts:seller_settings", seller_id=seller.pk)
    return render(request, "accounts/seller_settings.html", {"can_manage": True, "form": form})


@seller_view()
@require_http_methods(["GET", "POST"])
def transfer_ownership(request, *, seller, membership):
    if not membership.is_owner:
        raise NotAllowed()
    candidates = [
        m
        for m in selectors.list_members(seller, status=MembershipStatus.ACTIVE)
        if m.kind == MembershipKind.MEMBER and m.is_effective
    ]
    form = TransferOwnershipForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        new_owner = selectors.get_membership_for_seller(seller, form.cleaned_data["new_owner"])
        try:
            services.transfer_ownership(actor=request.user, seller=seller, new_owner=new_owner)
        except Conflict as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s is now the owner.") % {"name": new_owner.display_name})
            return redirect("accounts:members", seller_id=seller.pk)
    return render(request, "accounts/transfer_ownership.html", {"form": form})
