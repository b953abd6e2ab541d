from django import template

from accounts.authorization import member_has_seller_permission

register = template.Library()


@register.filter
def can_view_audit(membership) -> bool:
    return membership is not None and member_has_seller_permission(membership, "audit.view")
