from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("sellers/<int:seller_id>/", views.overview, name="overview"),
    path("sellers/<int:seller_id>/my-access/", views.my_access, name="my_access"),
    path("sellers/<int:seller_id>/tokens/", views.tokens, name="tokens"),
    path("sellers/<int:seller_id>/options/stores/", views.store_options, name="store_options"),
    path("sellers/<int:seller_id>/options/warehouses/", views.warehouse_options, name="warehouse_options"),
    path("sellers/<int:seller_id>/options/people/", views.people_options, name="people_options"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
]
