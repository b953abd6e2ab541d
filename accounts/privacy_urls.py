from django.urls import path

from . import privacy_views

app_name = "privacy"

urlpatterns = [
    path("privacy/", privacy_views.notice, name="notice"),
    path("profile/my-data/", privacy_views.export, name="export"),
    path("profile/erase/", privacy_views.erase, name="erase"),
]
