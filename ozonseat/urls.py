from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from accounts import urls as accounts_urls
from roles import member_urls

urlpatterns = [
    path("api/", include("ozonseat.api.urls")),
    # accounts' pages and the members pages (roles.member_urls: people with their access) share the
    # `accounts` namespace.
    path("", include((accounts_urls.urlpatterns + member_urls.urlpatterns, "accounts"))),
    path("", include("accounts.privacy_urls")),
    path("", include("dashboard.urls")),
    path("", include("roles.urls")),
    path("", include("audit.urls")),
    path("", include("reviews.urls")),
    path("", include("onboarding.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from . import dev_views

    urlpatterns += [
        path("dev/outbox/", dev_views.outbox, name="dev_outbox"),
        path("dev/outbox/<str:name>/", dev_views.outbox_message, name="dev_outbox_message"),
    ]

handler400 = "ozonseat.api.errorviews.bad_request"
handler404 = "ozonseat.api.errorviews.page_not_found"
handler500 = "ozonseat.api.errorviews.server_error"
