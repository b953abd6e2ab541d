"""The members pages' URLs: mounted by ozonseat/urls.py in the `accounts` namespace, beside accounts.urls
(their names predate the move: "accounts:members", "accounts:member", ...)."""

from django.urls import path

from . import member_views

urlpatterns = [
    path("sellers/<int:seller_id>/members/", member_views.members, name="members"),
    path("sellers/<int:seller_id>/members/new/", member_views.invite, name="invite"),
    path("sellers/<int:seller_id>/members/bulk/", member_views.bulk_action, name="bulk_action"),
    path("sellers/<int:seller_id>/members/<int:membership_id>/", member_views.member, name="member"),
    path(
        "sellers/<int:seller_id>/members/<int:membership_id>/reset-two-factor/",
        member_views.member_reset_two_factor,
        name="member_reset_two_factor",
    ),
    path(
        "sellers/<int:seller_id>/members/<int:membership_id>/<slug:action>/",
        member_views.member_action,
        name="member_action",
    ),
]
