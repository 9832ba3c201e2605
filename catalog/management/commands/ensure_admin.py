from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the local admin account if it is missing and print how to log in. "
        "The password comes from ATLAS_ADMIN_PASSWORD, or a new random one is printed once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        password = os.environ.get("ATLAS_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            self.stdout.write(self.style.SUCCESS(f"Created the admin account {username!r}."))
        elif password and not user.check_password(password):
            self.stdout.write(
                f"The admin account {username!r} exists with another password; "
                f"reset it with: python manage.py changepassword {username}"
            )
            return
        if password:
            self.stdout.write(
                f"Admin login: {username} / {password}  (http://127.0.0.1:8000/admin/)"
            )
        else:
            self.stdout.write(
                f"The admin account {username!r} exists; "
                f"reset its password with: python manage.py changepassword {username}"
            )
