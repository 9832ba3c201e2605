"""Accounts and security: sign-up, session rotation, logout, disabled accounts, throttling, CSRF."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from assessments.permissions import is_reviewer

PASSWORD = "a long test passphrase"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_signing_up_makes_a_reviewer_and_signs_them_in(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie",
            "email": "newbie@example.org",
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert is_reviewer(user)
    assert client.get(reverse("assessments:dashboard")).status_code == 200


def test_sign_up_names_every_problem(client, reviewer):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "", "email": reviewer.email, "password1": "a", "password2": "b"},
    )
    assert response.status_code == 200
    assert {"username", "email", "password2"} <= set(response.context["form"].errors)


def test_login_rotates_the_session_and_logout_ends_it(client, reviewer):
    client.get(reverse("accounts:login"))
    client.session["probe"] = 1
    before = client.cookies.get("sessionid")
    before_key = before.value if before else None
    assert sign_in(client, reviewer.username).status_code == 302
    after_key = client.cookies["sessionid"].value
    assert after_key != before_key
    from django.contrib.sessions.models import Session

    assert Session.objects.filter(session_key=after_key).exists()
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=after_key).exists()
    assert client.get(reverse("assessments:dashboard")).status_code == 302


def test_a_disabled_account_loses_its_open_sessions(client, reviewer):
    sign_in(client, reviewer.username)
    assert client.get(reverse("assessments:dashboard")).status_code == 200
    reviewer.is_active = False
    reviewer.save()
    response = client.get(reverse("assessments:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_repeated_wrong_passwords_lock_the_login(client, reviewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, reviewer.username, "wrong").status_code == 200
    assert sign_in(client, reviewer.username, "wrong").status_code == 429
    locked = sign_in(client, reviewer.username)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert client.get(reverse("assessments:dashboard")).status_code == 302


def test_every_form_needs_the_csrf_token(db, reviewer):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(
        reverse("accounts:login"), {"username": "x", "password": "y"}
    ).status_code == (403)
    strict.force_login(reviewer)
    assert strict.post(reverse("assessments:new"), {"provider": "1"}).status_code == 403


def test_password_reset_sends_a_working_link(client, reviewer):
    response = client.post(reverse("accounts:password_reset"), {"email": reviewer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(
        line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line
    )
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another long passphrase", "new_password2": "another long passphrase"},
    )
    assert done.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.check_password("another long passphrase")


def test_an_admin_disabling_an_account_ends_its_sessions(client, reviewer, db):
    from django.contrib.sessions.models import Session

    from assessments.services.roles import user_disable

    admin_user = get_user_model().objects.create_superuser("ada", "ada@example.org", PASSWORD)
    sign_in(client, reviewer.username)
    other = Client()
    sign_in(other, reviewer.username)
    assert Session.objects.count() == 2
    assert user_disable(user=reviewer, actor=admin_user) == 2
    assert Session.objects.count() == 0
    assert client.get(reverse("assessments:dashboard")).status_code == 302


def test_only_an_admin_appoints_a_curator(reviewer, curator, db):
    from assessments.permissions import is_curator
    from assessments.services.moderation import AssessmentError
    from assessments.services.roles import user_role_set

    with pytest.raises(AssessmentError):
        user_role_set(user=reviewer, role="curator", granted=True, actor=curator)
    admin_user = get_user_model().objects.create_superuser("ada", "ada@example.org", PASSWORD)
    user_role_set(user=reviewer, role="curator", granted=True, actor=admin_user)
    fresh = get_user_model().objects.get(pk=reviewer.pk)
    assert is_curator(fresh)
