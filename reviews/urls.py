from django.urls import path

from . import views

app_name = "reviews"

review = "sellers/<int:seller_id>/reviews/<int:review_id>/"

urlpatterns = [
    path("sellers/<int:seller_id>/reviews/", views.review_list, name="reviews"),
    path("sellers/<int:seller_id>/reviews/start/", views.start, name="start"),
    path(review, views.review, name="review"),
    path(review + "keep-recommended/", views.keep_recommended, name="keep_recommended"),
    path(review + "close/", views.close, name="close"),
    path(review + "items/<int:item_id>/", views.item, name="item"),
    path(review + "report/", views.report, name="report"),
    path(review + "report/print/", views.report_print, name="report_print"),
    path(review + "report.csv", views.report_csv, name="report_csv"),
]
