from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import audit_events, me, members, tokens
from .docs import RedocView, SwaggerView
from .roles_support import ROLES

app_name = "api"

API_DOCS_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}

urlpatterns = [
    path("v1/ping", me.PingView.as_view(), name="ping"),
    path("v1/me", me.MeView.as_view(), name="me"),
    path("v1/me/data", me.MyDataView.as_view(), name="me-data"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs' own allowances beyond the site-wide policy: the styles these UIs inject themselves and
    # Redoc's search worker (a blob: URL). Still no inline script.
    path("docs/", csp_update(API_DOCS_CSP)(SwaggerView.as_view(url_name="api:schema")), name="docs"),
    path(
        "docs/redoc/",
        csp_update(API_DOCS_CSP)(RedocView.as_view(url_name="api:schema", template_name="api/redoc.html")),
        name="redoc",
    ),
]

# A seller's resources, mounted once under v1/sellers/<seller_id>/ (at the end): a request walks the
# patterns in order, so the prefix is matched once and the check, the hot path, is tried first.
seller_urlpatterns = [
    path("members", members.MemberListView.as_view(), name="members"),
    path("members/<int:membership_id>", members.MemberDetailView.as_view(), name="member"),
    path(
        "members/<int:membership_id>/suspend",
        members.MemberSuspendView.as_view(),
        name="member-suspend",
    ),
    path(
        "members/<int:membership_id>/reactivate",
        members.MemberReactivateView.as_view(),
        name="member-reactivate",
    ),
    path(
        "members/<int:membership_id>/remove",
        members.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        "members/<int:membership_id>/resend-invitation",
        members.MemberResendView.as_view(),
        name="member-resend-invitation",
    ),
    path(
        "members/<int:membership_id>/revoke-invitation",
        members.MemberRevokeView.as_view(),
        name="member-revoke-invitation",
    ),
    path("tokens", tokens.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:token_id>", tokens.TokenDetailView.as_view(), name="token"),
    path("service-accounts", tokens.ServiceAccountListView.as_view(), name="service-accounts"),
    path("audit-events", audit_events.AuditEventListView.as_view(), name="audit-events"),
    path(
        "audit-events/export",
        audit_events.AuditEventExportView.as_view(),
        name="audit-events-export",
    ),
]

if ROLES:  # the roles issue's resources and the check, as soon as roles.models / selectors exist
    from . import access, check, onboarding, reviews, scopes

    seller_urlpatterns.insert(0, path("check", check.CheckView.as_view(), name="check"))
    seller_urlpatterns += [
        path("permissions", scopes.PermissionCatalogView.as_view(), name="permissions"),
        path("role-templates", scopes.RoleTemplateListView.as_view(), name="role-templates"),
        path("roles", scopes.RoleListView.as_view(), name="roles"),
        path("roles/<int:role_id>", scopes.RoleDetailView.as_view(), name="role"),
        path("roles/<int:role_id>/clone", scopes.RoleCloneView.as_view(), name="role-clone"),
        path("stores", scopes.StoreListView.as_view(), name="stores"),
        path("stores/<int:store_id>", scopes.StoreDetailView.as_view(), name="store"),
        path(
            "stores/<int:store_id>/deactivate",
            scopes.StoreDeactivateView.as_view(),
            name="store-deactivate",
        ),
        path("stores/<int:store_id>/warehouses", scopes.WarehouseListView.as_view(), name="warehouses"),
        path("warehouses/<int:warehouse_id>", scopes.WarehouseDetailView.as_view(), name="warehouse"),
        path(
            "warehouses/<int:warehouse_id>/deactivate",
            scopes.WarehouseDeactivateView.as_view(),
            name="warehouse-deactivate",
        ),
        path("assignments", scopes.AssignmentListView.as_view(), name="assignments"),
        path(
            "assignments/<int:assignment_id>",
            scopes.AssignmentDetailView.as_view(),
            name="assignment",
        ),
        path(
            "assignments/<int:assignment_id>/scope",
            access.AssignmentScopeView.as_view(),
            name="assignment-scope",
        ),
        path("member-imports", onboarding.ImportListView.as_view(), name="member-imports"),
        path(
            "member-imports/<int:import_id>",
            onboarding.ImportDetailView.as_view(),
            name="member-import",
        ),
        path(
            "member-imports/<int:import_id>/apply",
            onboarding.ImportApplyView.as_view(),
            name="member-import-apply",
        ),
        path("reviews", reviews.ReviewListView.as_view(), name="reviews"),
        path("reviews/<int:review_id>", reviews.ReviewDetailView.as_view(), name="review"),
        path(
            "reviews/<int:review_id>/items",
            reviews.ReviewItemListView.as_view(),
            name="review-items",
        ),
        path(
            "reviews/<int:review_id>/items/<int:item_id>/decision",
            reviews.ReviewItemDecisionView.as_view(),
            name="review-item-decision",
        ),
        path(
            "reviews/<int:review_id>/keep-recommended",
            reviews.KeepRecommendedView.as_view(),
            name="review-keep-recommended",
        ),
    ]

urlpatterns.append(path("v1/sellers/<int:seller_id>/", include(seller_urlpatterns)))
