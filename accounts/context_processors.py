from .selectors import sellers_for_user


def current_seller(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_seller": getattr(request, "seller", None),
        "current_membership": getattr(request, "membership", None),
        "my_sellers": sellers_for_user(user),
    }
