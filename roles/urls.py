from django.urls import path

from . import views

app_name = "roles"

urlpatterns = [
    path("sellers/<int:seller_id>/roles/", views.role_list, name="roles"),
    path("sellers/<int:seller_id>/roles/new/", views.role_create, name="role_create"),
    path("sellers/<int:seller_id>/roles/templates/", views.role_templates, name="role_templates"),
    path("sellers/<int:seller_id>/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path(
        "sellers/<int:seller_id>/roles/<int:role_id>/permissions/",
        views.role_permissions,
        name="role_permissions",
    ),
    path("sellers/<int:seller_id>/roles/<int:role_id>/clone/", views.role_clone, name="role_clone"),
    path("sellers/<int:seller_id>/roles/<int:role_id>/delete/", views.role_delete, name="role_delete"),
    path("sellers/<int:seller_id>/stores/", views.store_list, name="stores"),
    path("sellers/<int:seller_id>/stores/<int:store_id>/", views.store_detail, name="store"),
    path(
        "sellers/<int:seller_id>/stores/<int:store_id>/deactivate/",
        views.store_deactivate,
        name="store_deactivate",
    ),
    path("sellers/<int:seller_id>/warehouses/<int:warehouse_id>/", views.warehouse_detail, name="warehouse"),
    path(
        "sellers/<int:seller_id>/warehouses/<int:warehouse_id>/deactivate/",
        views.warehouse_deactivate,
        name="warehouse_deactivate",
    ),
    path("sellers/<int:seller_id>/access/<int:membership_id>/grant/", views.grant, name="grant"),
    path("sellers/<int:seller_id>/access/matrix/", views.access_matrix, name="access_matrix"),
    path(
        "sellers/<int:seller_id>/access/assignments/<int:assignment_id>/revoke/", views.revoke, name="revoke"
    ),
    path(
        "sellers/<int:seller_id>/access/assignments/<int:assignment_id>/scope/",
        views.assignment_scope,
        name="assignment_scope",
    ),
]
