"""Print the API token of a user, creating the token (and with --create, the user).

The token acts as its user, with that user's permissions: `--role` grants one of the roles
in tracker/permissions.py, and the command says what the user may do.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from tracker import permissions


class Command(BaseCommand):
    help = (
        "Print USERNAME's API token (created when missing). Writes send 'Token <key>'. "
        "What the user may do goes to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="create the user if missing")
        parser.add_argument("--rotate", action="store_true", help="replace an existing token")
        parser.add_argument(
            "--role",
            choices=sorted(permissions.ROLES),
            help="grant a role: contributor (submit sources, URLs, feeds), editor (+ edit "
            "facts), reviewer (+ verify facts)",
        )

    def handle(self, *args, username: str, create: bool, rotate: bool, role=None, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"no user {username!r} (use --create to make one)")
            user = User.objects.create_user(username=username)
        if role:
            group_name, _ = permissions.ROLES[role]
            group = Group.objects.filter(name=group_name).first()
            if group is None:
                raise CommandError(f"no group {group_name!r}: run manage.py migrate")
            user.groups.add(group)
            user = User.objects.get(pk=user.pk)  # permissions are cached per instance
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        # The key alone on stdout, so scripts can read it; the rights for the person.
        self.stdout.write(token.key)
        self.stderr.write(f"{username} may:")
        for line in permissions.user_abilities(user):
            self.stderr.write(f"  - {line}")
        if not permissions.user_can_submit(user):
            self.stderr.write("  (read-only: grant a role with --role contributor|editor|reviewer)")
