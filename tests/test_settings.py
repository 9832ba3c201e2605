"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "x7#Qk2!vLp9@Zr4$Wm8^Tn3&Yb6*Hc1(Jd5)Fg0_Se-Ua+Oi=Pl~Ny.Mx,Bv;Cq"


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL"}
        and not key.startswith(("ATLAS_", "DJANGO_"))
    }
    base |= {"ATLAS_IGNORE_DOTENV": "1", "DJANGO_SETTINGS_MODULE": "atlas.settings"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SETUP = "import django; django.setup(); from django.conf import settings; print('started')"


def test_it_starts_with_a_secret_key_and_nothing_else():
    result = _run(SETUP, SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_it_refuses_to_start_without_a_secret_key():
    result = _run(SETUP)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ATLAS_FRESHNESS_DAYS", "half a year"),
        ("ATLAS_FRESHNESS_DAYS", "0"),
        ("DEBUG", "perhaps"),
        ("DATABASE_URL", "nosuchdb://somewhere/x"),
        ("CELERY_BROKER_URL", "http://127.0.0.1:6379"),
        ("DATABASE_CONN_MAX_AGE", "-5"),
        ("ATLAS_CACHE_URL", "memcached://127.0.0.1:11211"),
        ("API_PAGE_CACHE_SECONDS", "five minutes"),
        ("DATABASE_POOL_SIZE", "plenty"),
        ("ATLAS_CRAWLER_EXTRA_CA_FILE", "/nonexistent/private-ca.pem"),
        ("ATLAS_CRAWLER_EXTRA_CA_FILE", "README.md"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value):
    result = _run(SETUP, SECRET_KEY=GOOD_KEY, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_the_defaults_are_sqlite_and_in_process_tasks():
    code = SETUP + (
        "; print(settings.DATABASES['default']['ENGINE']);"
        " print(settings.CELERY_TASK_ALWAYS_EAGER); print(settings.ATLAS_FRESHNESS_DAYS)"
    )
    result = _run(code, SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["django.db.backends.sqlite3", "True", "180"]


def test_a_broker_url_turns_off_in_process_tasks():
    code = SETUP + "; print(settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    result = _run(code, SECRET_KEY=GOOD_KEY, CELERY_BROKER_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["False", "redis://127.0.0.1:6379/3"]


POSTGRES = "postgres://atlas@db.example.org:5432/atlas"


def test_a_pool_size_gives_postgresql_a_pool_of_that_many_connections():
    code = SETUP + "; print(settings.DATABASES['default']['OPTIONS']['pool'])"
    result = _run(code, SECRET_KEY=GOOD_KEY, DATABASE_URL=POSTGRES, DATABASE_POOL_SIZE="40")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "{'min_size': 1, 'max_size': 40}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_POOL_SIZE": "8"}, "DATABASE_POOL_SIZE needs PostgreSQL; DATABASE_URL names"),
        (
            {"DATABASE_URL": POSTGRES, "DATABASE_POOL_SIZE": "8", "DATABASE_CONN_MAX_AGE": "60"},
            "DATABASE_POOL_SIZE and DATABASE_CONN_MAX_AGE cannot both be set",
        ),
    ],
)
def test_a_pool_it_cannot_have_stops_start_up_saying_why(env, message):
    result = _run(SETUP, SECRET_KEY=GOOD_KEY, **env)
    assert result.returncode != 0
    assert message in result.stderr.splitlines()[-1]


def test_checks_of_sources_go_to_the_crawl_queue_and_the_rest_to_the_default_one():
    code = SETUP + (
        "; from atlas.celery import app; route = app.amqp.router.route;"
        " print(route({}, 'crawlers.tasks.check_source')['queue'].name);"
        " print(route({}, 'crawlers.tasks.sweep_sources')['queue'].name)"
    )
    result = _run(code, SECRET_KEY=GOOD_KEY, CELERY_BROKER_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["crawl", "celery"]


def test_check_deploy_is_clean_with_production_settings():
    code = (
        "import sys; from django.core.management import execute_from_command_line;"
        " execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = _run(
        code,
        SECRET_KEY=GOOD_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="atlas.example.org",
        DATABASE_URL="sqlite:////tmp/atlas-deploy-check.sqlite3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
