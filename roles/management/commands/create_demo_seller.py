"""Create (or reuse) a demo seller with a confirmed owner, for `make run`."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import Invitation, InvitationKind, User

DEMO_EMAIL = "owner@demo.ozonseat.localhost"
DEMO_PASSWORD = "demo-owner-password"


class Command(BaseCommand):
    help = "Create a demo seller whose owner can sign in at once; prints the login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, email, password, **options):
        if not User.objects.filter(email__iexact=email).exists():
            with transaction.atomic():
                membership = services.sign_up_seller(
                    email=email,
                    password=password,
                    display_name="Demo Owner",
                    seller_name="Demo Shop",
                    language="en",
                    time_zone="Europe/Moscow",
                )
                # The demo skips the confirmation e-mail: confirm through the same service a link would use.
                invitation = Invitation.objects.get(membership=membership, kind=InvitationKind.SIGNUP)
                from accounts.tokens import hash_token, new_token

                token = new_token()
                Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(token))
                services.confirm_email(token=token)
                _add_demo_shop(membership)
        self.stdout.write(self.style.SUCCESS("Demo seller ready."))
        self.stdout.write(f"  Sign in at {settings.SITE_URL}/login/ as {email} / {password}")
        self.stdout.write(f"  or as the warehouse picker {DEMO_STAFF[0][0]} / {STAFF_PASSWORD}")


STAFF_PASSWORD = "demo-staff-password"
# address, name, job title, role template, scope; the last one has not accepted yet
DEMO_STAFF = (
    ("picker@demo.ozonseat.localhost", "Ivan Petrov", "Warehouse, Khimki", "courier_assembler", "khimki"),
    ("support@demo.ozonseat.localhost", "Olga Smirnova", "Customer service", "customer_service", "market"),
    ("finance@demo.ozonseat.localhost", "Chen Jie", "Finance", "financial_manager", "seller"),
)


def _add_demo_shop(owner_membership) -> None:
    """Two stores with warehouses and three staff members, made through the same services the dashboard
    uses (so the audit log tells the story): two have accepted their invitation, one is still invited."""
    from accounts.tokens import hash_token, new_token
    from roles import services as roles_services
    from roles.invitations import invite_member_with_roles
    from roles.models import Role

    owner = User.objects.get(pk=owner_membership.user_id)  # as confirmed, not as signed up
    seller = owner_membership.seller
    moscow = roles_services.add_store(
        actor=owner, seller=seller, name="Demo Home RU", client_id="1502837", market="RU"
    )
    roles_services.add_store(
        actor=owner, seller=seller, name="Demo Home KZ", client_id="2204519", market="KZ"
    )
    khimki = roles_services.add_warehouse(actor=owner, store=moscow, name="Khimki", kind="FBS")
    roles_services.add_warehouse(actor=owner, store=moscow, name="Podolsk", kind="FBO")
    roles = {role.template_key: role.pk for role in Role.objects.filter(seller=seller)}
    scopes = {
        "khimki": {"scope_kind": "warehouses", "warehouses": [khimki.pk]},
        "market": {"scope_kind": "market", "market": "RU"},
        "seller": {"scope_kind": "seller"},
    }
    for index, (address, name, title, role, scope) in enumerate(DEMO_STAFF):
        member = invite_member_with_roles(
            actor=owner,
            seller=seller,
            email=address,
            display_name=name,
            job_title=title,
            grants=[{"role_id": roles[role], **scopes[scope]}],
        )
        if index == len(DEMO_STAFF) - 1:
            continue  # still invited: the link is in the outbox
        invitation = Invitation.objects.filter(membership=member).latest("created_at")
        token = new_token()
        Invitation.objects.filter(pk=invitation.pk).update(
            token_hash=hash_token(token), sent_at=invitation.created_at
        )
        services.accept_invitation(token=token, signed_in_user=None, password=STAFF_PASSWORD)
