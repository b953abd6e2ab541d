"""Erase a person who has left every seller (the operator's side of accounts/privacy.py)."""

from django.core.management.base import BaseCommand, CommandError

from accounts import privacy
from accounts.cleaning import normalize_email
from accounts.models import User
from ozonseat.errors import ServiceError


class Command(BaseCommand):
    help = "Erase a person who has left every seller: pseudonymise them, delete sessions, tokens, devices."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user-id", type=int)
        who.add_argument("--email")

    def handle(self, *args, user_id=None, email=None, **options):
        users = (
            User.objects.filter(pk=user_id) if user_id else User.objects.filter(email=normalize_email(email))
        )
        user = users.first()
        if user is None:
            raise CommandError("No such person.")
        try:
            privacy.erase_person(user=user, actor=None)
        except ServiceError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"user {user.pk}: erased (now {privacy.pseudonym_email(user.pk)})")
