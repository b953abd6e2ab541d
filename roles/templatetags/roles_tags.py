from django import template

from accounts.authorization import member_has_seller_permission

register = template.Library()


@register.filter
def holds(membership, permission):
    """{% if current_membership|holds:"roles.manage" %} — a seller-level catalog permission."""
    return membership is not None and member_has_seller_permission(membership, permission)
