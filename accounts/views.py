"""Dashboard views for accounts: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound, ServiceError

from . import browser_sessions, selectors, services, session_policy, sign_in_throttle, time_zones, two_factor
from .authorization import (
    MANAGE_MEMBERS,
    MANAGE_SECURITY,
    get_effective_membership,
    member_has_seller_permission,
)
from .decorators import seller_view
from .forms import (
    AcceptInvitationForm,
    AuditedSetPasswordForm,
    ChangePasswordForm,
    EmailAuthenticationForm,
    QueuedPasswordResetForm,
    SellerSettingsForm,
    SignUpForm,
    TransferOwnershipForm,
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
