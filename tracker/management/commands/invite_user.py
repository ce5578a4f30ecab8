"""Create an account and email its owner a link to choose a password.

    manage.py invite_user ana@example.org [--username ana] [--staff] [--no-email]

The account has no usable password until its owner follows the link (the same one the
"forgot your password" page sends). With --no-email the link is printed instead.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class Command(BaseCommand):
    help = "Create an account and email a link to set its password (an invitation)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--username", help="default: the part of the email before @")
        parser.add_argument("--staff", action="store_true", help="may use the admin")
        parser.add_argument(
            "--no-email", action="store_true", help="print the link instead of sending it"
        )

    def handle(self, *args, email: str, username: str | None, staff: bool, no_email: bool, **kw):
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address") from None
        User = get_user_model()
        username = username or email.split("@")[0]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"the user name {username!r} is taken")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"an account already uses {email}")
        user = User.objects.create_user(username=username, email=email, is_staff=staff)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        link = settings.TRACKER_SITE_URL.rstrip("/") + reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        if no_email:
            self.stdout.write(f"Created {username}. Link to set the password:\n{link}")
            return
        site = settings.TRACKER_SITE_URL.rstrip("/")
        scheme, _, domain = site.partition("://")
        form = PasswordResetForm({"email": email})
        form.is_valid()
        # An unusable password is what an invitation has: send the link anyway.
        form.get_users = lambda _email: [user]
        form.save(domain_override=domain, use_https=scheme == "https")
        self.stdout.write(f"Created {username} and emailed {email} a link to set the password.")
