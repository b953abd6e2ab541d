from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("sellers/<int:seller_id>/audit/", views.events, name="events"),
    path("sellers/<int:seller_id>/audit/export/", views.export, name="export"),
    path("sellers/<int:seller_id>/audit/retention/", views.retention, name="retention"),
    path(
        "sellers/<int:seller_id>/audit/digest-recipients/",
        views.digest_recipients,
        name="digest-recipients",
    ),
]
