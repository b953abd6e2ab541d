from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import audit_events, me, members, tokens
from .docs import RedocView, SwaggerView
from .roles_support import ROLES

app_name = "api"

seller = "v1/sellers/<int:seller_id>/"
API_DOCS_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}

# A request tries the patterns in order: the hot paths (ping, me, the check) come first.
urlpatterns = [
    path("v1/ping", me.PingView.as_view(), name="ping"),
    path("v1/me", me.MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs' own allowances beyond the site-wide policy: the styles these UIs inject themselves and
    # Redoc's search worker (a blob: URL). Still no inline script.
    path("docs/", csp_update(API_DOCS_CSP)(SwaggerView.as_view(url_name="api:schema")), name="docs"),
    path(
        "docs/redoc/",
        csp_update(API_DOCS_CSP)(RedocView.as_view(url_name="api:schema", template_name="api/redoc.html")),
        name="redoc",
    ),
    path("v1/me/data", me.MyDataView.as_view(), name="me-data"),
    path(seller + "members", members.MemberListView.as_view(), name="members"),
    path(seller + "members/<int:membership_id>", members.MemberDetailView.as_view(), name="member"),
    path(
        seller + "members/<int:membership_id>/suspend",
        members.MemberSuspendView.as_view(),
        name="member-suspend",
    ),
    path(
        seller + "members/<int:membership_id>/reactivate",
        members.MemberReactivateView.as_view(),
        name="member-reactivate",
    ),
    path(
        seller + "members/<int:membership_id>/remove",
        members.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        seller + "members/<int:membership_id>/resend-invitation",
        members.MemberResendView.as_view(),
        name="member-resend-invitation",
    ),
    path(
        seller + "members/<int:membership_id>/revoke-invitation",
        members.MemberRevokeView.as_view(),
        name="member-revoke-invitation",
    ),
    path(seller + "tokens", tokens.TokenListView.as_view(), name="tokens"),
    path(seller + "tokens/<int:token_id>", tokens.TokenDetailView.as_view(), name="token"),
    path(seller + "service-accounts", tokens.ServiceAccountListView.as_view(), name="service-accounts"),
    path(seller + "audit-events", audit_events.AuditEventListView.as_view(), name="audit-events"),
    path(
        seller + "audit-events/export",
        audit_events.AuditEventExportView.as_view(),
        name="audit-events-export",
    ),
]

if ROLES:  # the roles issue's resources and the check, as soon as roles.models / selectors exist
    from . import access, check, onboarding, reviews, scopes

    urlpatterns.insert(0, path(seller + "check", check.CheckView.as_view(), name="check"))
    urlpatterns += [
        path(seller + "permissions", scopes.PermissionCatalogView.as_view(), name="permissions"),
        path(seller + "role-templates", scopes.RoleTemplateListView.as_view(), name="role-templates"),
        path(seller + "roles", scopes.RoleListView.as_view(), name="roles"),
        path(seller + "roles/<int:role_id>", scopes.RoleDetailView.as_view(), name="role"),
        path(seller + "roles/<int:role_id>/clone", scopes.RoleCloneView.as_view(), name="role-clone"),
        path(seller + "stores", scopes.StoreListView.as_view(), name="stores"),
        path(seller + "stores/<int:store_id>", scopes.StoreDetailView.as_view(), name="store"),
        path(
            seller + "stores/<int:store_id>/deactivate",
            scopes.StoreDeactivateView.as_view(),
            name="store-deactivate",
        ),
        path(
            seller + "stores/<int:store_id>/warehouses", scopes.WarehouseListView.as_view(), name="warehouses"
        ),
        path(
            seller + "warehouses/<int:warehouse_id>", scopes.WarehouseDetailView.as_view(), name="warehouse"
        ),
        path(
            seller + "warehouses/<int:warehouse_id>/deactivate",
            scopes.WarehouseDeactivateView.as_view(),
            name="warehouse-deactivate",
        ),
        path(seller + "assignments", scopes.AssignmentListView.as_view(), name="assignments"),
        path(
            seller + "assignments/<int:assignment_id>",
            scopes.AssignmentDetailView.as_view(),
            name="assignment",
        ),
        path(
            seller + "assignments/<int:assignment_id>/scope",
            access.AssignmentScopeView.as_view(),
            name="assignment-scope",
        ),
        path(seller + "member-imports", onboarding.ImportListView.as_view(), name="member-imports"),
        path(
            seller + "member-imports/<int:import_id>",
            onboarding.ImportDetailView.as_view(),
            name="member-import",
        ),
        path(
            seller + "member-imports/<int:import_id>/apply",
            onboarding.ImportApplyView.as_view(),
            name="member-import-apply",
        ),
        path(seller + "reviews", reviews.ReviewListView.as_view(), name="reviews"),
        path(seller + "reviews/<int:review_id>", reviews.ReviewDetailView.as_view(), name="review"),
        path(
            seller + "reviews/<int:review_id>/items",
            reviews.ReviewItemListView.as_view(),
            name="review-items",
        ),
        path(
            seller + "reviews/<int:review_id>/items/<int:item_id>/decision",
            reviews.ReviewItemDecisionView.as_view(),
            name="review-item-decision",
        ),
        path(
            seller + "reviews/<int:review_id>/keep-recommended",
            reviews.KeepRecommendedView.as_view(),
            name="review-keep-recommended",
        ),
    ]
