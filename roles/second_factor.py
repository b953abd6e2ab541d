"""Resetting a member's second factor (a lost phone): the owner, or a holder of security.manage who may act on
the member (roles.authority), removes their authenticator and recovery codes and signs them out everywhere;
they set up a new authenticator at their next sign-in. It lives here, not in accounts, because it needs the
roles rule."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import two_factor
from accounts.authorization import MANAGE_SECURITY
from accounts.models import Membership
from accounts.services import end_sessions
from audit import events
from audit.services import record_event
from ozonseat.errors import Conflict

from .authority import require_may_act_on


def reset_member_two_factor(*, actor, membership: Membership) -> Membership:
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user", "seller").get(pk=membership.pk)
        )
        require_may_act_on(actor=actor, membership=membership, permission=MANAGE_SECURITY)
        if not two_factor.remove_second_factor(membership.user):
            raise Conflict(
                _("%(name)s has no two-factor sign-in to reset.") % {"name": membership.user},
                code="no_second_factor",
            )
        end_sessions(membership.user)
        record_event(
            action=events.TWO_FACTOR_RESET,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes={"two_factor": [True, False]},
        )
    return membership
