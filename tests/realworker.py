"""A database of their own for tests that run real Celery workers in other processes.

A worker in another process cannot see the transaction-wrapped test database, so such tests
create a throwaway PostgreSQL database, migrate it, point the subprocesses' environment at it
and at a Redis broker database, and reach it from the test through a second connection alias.
They skip, saying why, when Redis or PostgreSQL is not answering.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]


def postgres_server_url() -> str:
    explicit = os.environ.get("ATLAS_TEST_POSTGRES_URL")
    if explicit:
        return explicit
    current = os.environ.get("DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(current)._replace(path="/postgres"))
    return "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def worker_database(
    *,
    django_db_blocker,
    alias: str,
    prefix: str,
    redis_url: str,
    extra_env: dict[str, str],
    fast_commits: bool = False,
    migrate_timeout: int = 300,
) -> Iterator[dict[str, str]]:
    """Yield the environment for worker subprocesses; the database is reachable as ``alias``.

    The broker database is flushed before and after, and the database dropped after.
    """
    import psycopg
    import redis
    from django.db import connections
    from environ import Env

    try:
        broker = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        broker.ping()
    except Exception as exc:
        pytest.skip(f"Redis is not answering at {redis_url} ({exc}); worker tests need it.")
    server_url = postgres_server_url()
    try:
        admin = psycopg.connect(server_url, autocommit=True, connect_timeout=3)
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not answering at {server_url} ({exc}); worker tests need it.")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    if fast_commits:
        # A throwaway database: commits need not wait for the disk (the workers are killed,
        # never PostgreSQL), which keeps hundreds of checks within seconds on a busy machine.
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    broker.flushdb()
    env = {
        **os.environ,
        "SECRET_KEY": "worker-test",
        "ATLAS_IGNORE_DOTENV": "1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, check=True, timeout=migrate_timeout,
        )  # fmt: skip
        config = Env.db_url_config(database_url)
        defaults = connections.configure_settings({"default": {}, alias: config})
        connections.settings[alias] = defaults[alias]
        with django_db_blocker.unblock():
            yield env
            connections[alias].close()
    finally:
        connections.settings.pop(alias, None)
        broker.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
