"""API benchmark: gunicorn + PostgreSQL on a generated large catalogue.

    SECRET_KEY=bench python bench/api_benchmark.py \
        [--database-url postgres://postgres@127.0.0.1:5432/atlas_apibench] [--requests 300]

Creates the database if needed, migrates it, generates the catalogue (500 providers, 10,000
models, 200,000 claims by default; see bench/generate_catalogue.py), starts gunicorn on a
free loopback port and measures, at concurrency 1 and 32: requests per second and p50 / p99
latency for the models list, a filtered list, a model detail and the requirements check,
beside a bare Django JSON view (the framework's floor) measured in the same run. Prints one
table; the ratio column is throughput against the bare view at the same concurrency.

The server runs once per ``--page-cache`` mode: ``on`` (the default configuration: pages
cached in each worker's memory, or in Redis with ``--cache-url``) and ``off``
(``API_PAGE_CACHE_SECONDS=0``: every page rendered, the cost of a first request after a
write). "details, 200 models" requests a different model's page each time, so with the
cache on it shows a cold cache being filled. The requirements check is never cached; it
runs in the ``on`` pass only. The load average is printed before and after each pass.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/bare-models")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer in time")


class Target:
    """One endpoint to measure; with a list of paths, each request takes the next one."""

    def __init__(
        self,
        name: str,
        method: str,
        path: str | list[str],
        body: dict | None = None,
        *,
        warm: bool = True,
    ) -> None:
        self.name, self.method, self.warm = name, method, warm
        self.paths = [path] if isinstance(path, str) else path
        self.body = json.dumps(body).encode() if body is not None else None


def measure(port: int, target: Target, *, requests: int, concurrency: int) -> dict:
    """Send ``requests`` requests over ``concurrency`` keep-alive connections."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    headers = {"Content-Type": "application/json"} if target.body else {}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        mine: list[float] = []
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                break
            path = target.paths[number % len(target.paths)]
            started = time.perf_counter()
            try:
                conn.request(target.method, path, body=target.body, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError as exc:  # a timeout or a dropped connection fails the run
                with lock:
                    errors.append(f"{target.name}: {exc!r}")
                break
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors.append(f"{target.name}: HTTP {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "n": len(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/atlas_apibench"
    )
    parser.add_argument("--requests", type=int, default=200, help="per list/detail measurement")
    parser.add_argument("--check-requests", type=int, default=8, help="per requirements check")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument(
        "--page-cache", default="on,off", help="passes to run: on, off or on,off (default)"
    )
    parser.add_argument(
        "--cache-url", default="", help="ATLAS_CACHE_URL for the server, e.g. redis://…/11"
    )
    parser.add_argument(
        "--size",
        default="500,20,20",
        help="providers,models per provider,claims per model (default 500,20,20); use a "
        "database of its own for each size",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("SECRET_KEY"):
        raise SystemExit("Set SECRET_KEY (any value) to run the benchmark.")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    modes = args.page_cache.split(",")
    if not set(modes) <= {"on", "off"}:
        parser.error("--page-cache takes on, off or on,off")
    providers, per_provider, claims = (int(n) for n in args.size.split(","))

    ensure_database(args.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_CONN_MAX_AGE": "60",
        "API_THROTTLE_ANON": "1000000/second",
        "API_THROTTLE_CLIENT": "1000000/second",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "ATLAS_IGNORE_DOTENV": "1",
        "PYTHONWARNINGS": "ignore:No directory at",
        "ATLAS_CACHE_URL": args.cache_url,
    }
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate_catalogue.py"),
            f"--providers={providers}",
            f"--models-per-provider={per_provider}",
            f"--claims-per-model={claims}",
        ],
        env=env,
        check=True,
    )
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, "
        f"{os.cpu_count()} CPUs; catalogue {providers} providers x {per_provider} models x "
        f"{claims} claims; cache {args.cache_url or 'in each worker'}"
    )
    print(
        f"{'endpoint':24} {'cache':>5} {'conc':>4} {'n':>5} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'vs bare':>8}"
    )
    middle = f"gen-m-{providers // 2}-{per_provider // 2}"
    # Distinct model pages, a fresh set for each concurrency, so none was cached before.
    details = [
        f"/api/v1/models/gen-m-{n % providers}-{n % per_provider}"
        for n in range(args.requests * len(concurrencies))
    ]
    for mode in modes:
        page_cache_env = {"API_PAGE_CACHE_SECONDS": "300" if mode == "on" else "0"}
        run_pass(
            args,
            {**env, **page_cache_env},
            mode=mode,
            concurrencies=concurrencies,
            detail=f"/api/v1/models/{middle}",
            details=details,
        )
    return 0


def load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


def run_pass(
    args, env: dict, *, mode: str, concurrencies: list[int], detail: str, details: list[str]
) -> None:
    """Start gunicorn with ``env``, measure every target at each concurrency, stop it."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "atlas.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "300",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_until_up(port, server)
        print(f"-- page cache {mode}; load average {load()}", flush=True)
        for number, concurrency in enumerate(concurrencies):
            bare_rps = None
            fresh = details[number * args.requests : (number + 1) * args.requests]
            targets = [
                Target("bare Django view", "GET", "/bench/bare-models"),
                Target("list", "GET", "/api/v1/models"),
                Target(
                    "filtered list",
                    "GET",
                    "/api/v1/models?open_weights=true&licence_kind=permissive&modality=image",
                ),
                Target("detail", "GET", detail),
                Target(f"details, {len(set(fresh))} models", "GET", fresh, warm=False),
            ]
            if mode == "on":
                targets.append(
                    Target(
                        "requirements check",
                        "POST",
                        "/api/v1/requirements/check",
                        {"commercial_use": True, "eu_residency": True, "outcomes": ["qualifies"]},
                    )
                )
            for target in targets:
                count = args.check_requests if "check" in target.name else args.requests
                if target.warm:
                    warm = min(count, 2 * concurrency)
                    measure(port, target, requests=warm, concurrency=concurrency)
                result = measure(port, target, requests=count, concurrency=concurrency)
                if bare_rps is None:
                    bare_rps = result["rps"]
                ratio = result["rps"] / bare_rps
                print(
                    f"{target.name:24} {mode:>5} {concurrency:>4} {result['n']:>5} "
                    f"{result['rps']:>8.2f} {result['p50']:>8.1f} {result['p99']:>8.1f} "
                    f"{ratio:>7.0%}",
                    flush=True,
                )
        print(f"-- load average {load()}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    raise SystemExit(main())
