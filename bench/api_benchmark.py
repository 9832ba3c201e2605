"""API benchmark: gunicorn + PostgreSQL on a generated large catalogue.

    SECRET_KEY=bench python bench/api_benchmark.py \
        [--database-url postgres://postgres@127.0.0.1:5432/atlas_apibench] [--requests 300]

Creates the database if needed, migrates it, generates the catalogue (500 providers, 10,000
models, 200,000 claims by default; see bench/generate_catalogue.py), starts gunicorn on a
free loopback port and measures, at concurrency 1 and 32: requests per second and p50 / p99
latency for the models list, a filtered list, a model detail and the requirements check,
beside a bare Django JSON view (the framework's floor) measured in the same run. Prints one
table; the ratio column is throughput against the bare view at the same concurrency.
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
    def __init__(self, name: str, method: str, path: str, body: dict | None = None) -> None:
        self.name, self.method, self.path = name, method, path
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
                if next(counter, None) is None:
                    break
            started = time.perf_counter()
            try:
                conn.request(target.method, target.path, body=target.body, headers=headers)
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
    args = parser.parse_args(argv)
    if not os.environ.get("SECRET_KEY"):
        raise SystemExit("Set SECRET_KEY (any value) to run the benchmark.")
    concurrencies = [int(c) for c in args.concurrency.split(",")]

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
    }
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_catalogue.py")], env=env, check=True
    )
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
        targets = [
            Target("bare Django view", "GET", "/bench/bare-models"),
            Target("list", "GET", "/api/v1/models"),
            Target(
                "filtered list",
                "GET",
                "/api/v1/models?open_weights=true&licence_kind=permissive&modality=image",
            ),
            Target("detail", "GET", "/api/v1/models/gen-m-250-10"),
            Target(
                "requirements check",
                "POST",
                "/api/v1/requirements/check",
                {"commercial_use": True, "eu_residency": True, "outcomes": ["qualifies"]},
            ),
        ]
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, "
            f"{os.cpu_count()} CPUs"
        )
        print(
            f"{'endpoint':22} {'conc':>4} {'n':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'vs bare':>8}"
        )
        for concurrency in concurrencies:
            bare_rps = None
            for target in targets:
                count = args.check_requests if "check" in target.name else args.requests
                measure(port, target, requests=min(count, 2 * concurrency), concurrency=concurrency)
                result = measure(port, target, requests=count, concurrency=concurrency)
                if bare_rps is None:
                    bare_rps = result["rps"]
                ratio = result["rps"] / bare_rps
                print(
                    f"{target.name:22} {concurrency:>4} {result['n']:>5} {result['rps']:>8.2f} "
                    f"{result['p50']:>8.1f} {result['p99']:>8.1f} {ratio:>7.0%}",
                    flush=True,
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
