"""Create (or reuse) a demo seller with a confirmed owner, for `make run`."""

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
        self.stdout.write(self.style.SUCCESS("Demo seller ready."))
        self.stdout.write(f"  Sign in at http://127.0.0.1:8000/login/ as {email} / {password}")
