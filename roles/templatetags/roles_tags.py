from django import template

from accounts.authorization import member_has_seller_permission

register = template.Library()


@register.filter
def holds(membership, permission):
    """{% if current_membership|holds:"roles.manage" %} — a seller-level catalog permission."""
    return membership is not None and member_has_seller_permission(membership, permission)


@register.inclusion_tag("roles/member_access.html", takes_context=True)
def member_access(context, target):
    """{% member_access target %} on a member's page: their roles and scopes, the grant / revoke forms
    (for a member manager) and their effective permissions per store — one line in the page's template,
    no view code."""
    from roles.views import member_access_context

    request = context["request"]
    seller = context["current_seller"]
    membership = context.get("current_membership") or request.membership
    data = member_access_context(request, seller=seller, membership=membership, target=target)
    data.update(
        target=target,
        current_seller=seller,
        request=request,
        csrf_token=context.get("csrf_token"),
        user=request.user,
    )
    return data
