from django.urls import path

from . import two_factor_views, views

app_name = "accounts"

# The members pages (people with their access) live in roles.member_urls; the project mounts them in this
# namespace (ozonseat/urls.py), so their names stay "accounts:members", "accounts:member", ...

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.sign_up, name="sign_up"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/resend-confirmation/", views.resend_confirmation, name="resend_confirmation"),
    path("login/two-factor/", two_factor_views.two_factor_verify, name="two_factor_verify"),
    path("login/two-factor/setup/", two_factor_views.two_factor_setup, name="two_factor_setup"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/expired/", views.password_change_required, name="password_change_required"),
    path("profile/two-factor/", two_factor_views.profile_two_factor_setup, name="two_factor_enrol"),
    path(
        "profile/two-factor/recovery-codes/",
        two_factor_views.regenerate_recovery_codes,
        name="recovery_codes",
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("sellers/switch/", views.switch_seller, name="switch_seller"),
    path("sellers/<int:seller_id>/settings/", views.seller_settings, name="seller_settings"),
    path("sellers/<int:seller_id>/transfer-ownership/", views.transfer_ownership, name="transfer_ownership"),
]
