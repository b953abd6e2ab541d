from django.urls import path

from . import views

app_name = "onboarding"

base = "sellers/<int:seller_id>/members/import/"

urlpatterns = [
    path(base, views.upload, name="upload"),
    path(base + "template/", views.template_file, name="template"),
    path(base + "<int:import_id>/", views.member_import, name="import"),
    path(base + "<int:import_id>/result/", views.result_file, name="result"),
]
