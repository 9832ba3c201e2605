"""Crawl benchmark: N sources on H local hosts that answer after a fixed latency.

Runs real Celery workers (threads pools, one process per core by default, sharing the per-host
limit through Redis) on a Redis broker against a PostgreSQL database the script creates and
drops, and prints:

- wall time of the sweep (first check started → last check finished) against the ideal: each
  host serves ceil(sources / hosts) pages, one every max(latency / per-host limit, politeness
  delay) seconds, so the ideal is ceil(sources / hosts) * max(latency / per-host, politeness);
  with the defaults (200 ms, 2 per host, 100 ms politeness) that is sources * latency / (hosts *
  per-host limit), and the ratio of the two. The one robots.txt read per host and worker
  process is not counted in the ideal, so the ratio errs against the crawler;
- the worker's peak resident memory (VmHWM);
- a second sweep of the unchanged pages, which must store zero new versions.

Usage (from the project root, Redis and PostgreSQL answering):

    SECRET_KEY=bench python bench/crawl_benchmark.py [--sources 2000] [--hosts 20]
        [--per-host 2] [--latency 0.2] [--politeness-ms 100] [--processes 2] [--threads N]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:
        pass


def start_hosts(count: int, latency: float) -> list[tuple[str, int]]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:
            pass

        def do_GET(self) -> None:
            time.sleep(latency)
            if self.path == "/robots.txt":
                body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                number = self.path.rsplit("/", 1)[-1]
                body = (
                    f"<html><body><nav>Menu</nav><main><h1>Terms {number}</h1>"
                    f"<p>Clause one of document {number}.</p><p>Clause two applies.</p>"
                    "</main></body></html>"
                ).encode()
                kind = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    hosts = []
    for i in range(count):
        server = Server((f"127.0.0.{i + 1}", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        hosts.append(server.server_address[:2])
    return hosts


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--politeness-ms", type=int, default=100)
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes sharing the per-host limit through Redis (default: one per core)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per worker process (default: the hosts' slots shared out, plus half again, "
        "so a slot freed while a thread records its check is taken at once)",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    import psycopg
    import redis

    broker = redis.Redis.from_url(args.redis, socket_connect_timeout=2)
    try:
        broker.ping()
        admin = psycopg.connect(args.postgres, autocommit=True, connect_timeout=3)
    except Exception as exc:
        sys.exit(
            f"The benchmark needs Redis ({args.redis}) and PostgreSQL ({args.postgres}): {exc}"
        )
    name = f"atlas_crawlbench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(args.postgres)._replace(path=f"/{name}"))
    broker.flushdb()
    concurrency = args.hosts * args.per_host
    threads = args.threads or max(1, math.ceil(concurrency * 1.5 / args.processes))
    load_before = os.getloadavg()[0]
    env = {
        **os.environ,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "ATLAS_IGNORE_DOTENV": "1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": args.redis,
        "ATLAS_CRAWLER_ALLOWED_NETWORKS": "127.0.0.0/8",
        "ATLAS_CRAWLER_PER_HOST_CONCURRENCY": str(args.per_host),
        "ATLAS_CRAWLER_POLITENESS_MS": str(args.politeness_ms),
        "ATLAS_CRAWLER_TOTAL_TIMEOUT": "60",
        "LOG_LEVEL": "WARNING",
    }
    # The workers run as `make crawl-worker` does: the crawl queue, a threads pool, and a pool of
    # database connections as large as the threads (Celery closes a task's connection after
    # it; the pool keeps the PostgreSQL session).
    worker_env = {**env, "DATABASE_POOL_SIZE": str(threads)}
    os.environ.update(env)
    workers: list[subprocess.Popen] = []
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "atlas.settings"
        django.setup()
        from django.db import connection
        from django.db.models import Max, Min

        from catalog.models import Source
        from crawlers.models import Check, CrawlSettings, Version

        hosts = start_hosts(args.hosts, args.latency)
        sources = Source.objects.bulk_create(
            Source(
                url=f"http://{hosts[i % args.hosts][0]}:{hosts[i % args.hosts][1]}/doc/{i}",
                slug=f"document-{i}",
                title=f"Document {i}",
                publisher="Bench",
                doc_type="terms",
            )
            for i in range(args.sources)
        )
        CrawlSettings.objects.bulk_create(CrawlSettings(source=s) for s in sources)

        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "atlas",
                    "worker",
                    "-Q",
                    "crawl",
                    "-P",
                    "threads",
                    "-c",
                    str(threads),
                    "-l",
                    "warning",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"bench-{n}-{uuid.uuid4().hex[:6]}@%h",
                ],
                cwd=ROOT,
                env=worker_env,
                start_new_session=True,
            )
            for n in range(args.processes)
        ]

        from atlas.celery import app
        from crawlers import services

        # Wait until every worker answers, so neither their start-up time nor their start-up
        # CPU is counted in the figures below.
        ready_by = time.monotonic() + 180
        while len(app.control.ping(timeout=1.0)) < args.processes:
            if time.monotonic() > ready_by or any(w.poll() is not None for w in workers):
                sys.exit("The workers did not start.")
        cpu_at_start = sum(cpu_seconds(w.pid) for w in workers)

        def sessions() -> int:
            # PostgreSQL sessions opened on the benchmark's database so far.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                )
                return cursor.fetchone()[0]

        def sweep(label: str) -> float:
            before = Check.objects.count()
            sessions_before = sessions()
            workers_cpu = sum(cpu_seconds(w.pid) for w in workers)
            started, cpu = time.monotonic(), time.process_time()
            # What the beat's periodic sweep runs: one query for the due sources, one insert
            # for their checks, then their messages in pipelined batches.
            services.sources_sweep(limit=args.sources)
            queued, queue_cpu = time.monotonic() - started, time.process_time() - cpu
            while Check.objects.filter(status__in=["queued", "running"]).exists():
                time.sleep(0.5)
            swept = Check.objects.filter(
                pk__in=list(
                    Check.objects.order_by("-id").values_list("pk", flat=True)[: args.sources]
                )
            )
            window = swept.aggregate(first=Min("started_at"), last=Max("finished_at"))
            wall = (window["last"] - window["first"]).total_seconds()
            failed = swept.filter(status="failed").count()
            # Includes the workers' idle polling while the queue drains, so it errs high.
            per_check = (sum(cpu_seconds(w.pid) for w in workers) - workers_cpu) / args.sources
            print(
                f"{label}: {Check.objects.count() - before} checks, {failed} failed, "
                f"queued in {queued:.1f} s ({queue_cpu * 1000 / args.sources:.2f} ms CPU per "
                f"source), crawl wall time {wall:.1f} s, {per_check * 1000:.1f} ms of worker "
                f"CPU per check, {sessions() - sessions_before} database sessions opened; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            return wall

        # A host starts a request at most every `spacing` seconds: its slots turn over once per
        # latency, and the politeness delay separates two starts.
        spacing = max(args.latency / args.per_host, args.politeness_ms / 1000)
        ideal = math.ceil(args.sources / args.hosts) * spacing
        print(
            f"{args.sources} sources on {args.hosts} hosts, {args.per_host} per host "
            f"({concurrency} in flight; {args.processes} worker processes x {threads} threads), "
            f"{args.latency * 1000:.0f} ms latency, politeness "
            f"{args.politeness_ms} ms; load average before the run {load_before:.1f}"
        )
        print(
            f"ideal wall time: {ideal:.1f} s ({math.ceil(args.sources / args.hosts)} pages per "
            f"host, one every {spacing * 1000:.0f} ms)"
        )
        wall = sweep("first sweep")
        versions_first = Version.objects.count()
        print(f"versions after the first sweep: {versions_first}")
        print(f"ratio to ideal: {wall / ideal:.2f}x (target 1.5x)")
        CrawlSettings.objects.update(next_check_at=None)
        recheck = sweep("re-check of unchanged pages")
        print(f"new versions from the re-check: {Version.objects.count() - versions_first}")
        print(f"re-check ratio to ideal: {recheck / ideal:.2f}x")
        peaks = [peak_rss_mb(w.pid) for w in workers]
        print(
            f"worker peak memory (VmHWM): {max(peaks):.0f} MB per process, "
            f"{sum(peaks):.0f} MB for {len(workers)} (target 300 MB)"
        )
        used = sum(cpu_seconds(w.pid) for w in workers) - cpu_at_start
        print(
            f"worker CPU time: {used:.1f} s for {2 * args.sources} checks "
            f"({used * 1000 / (2 * args.sources):.1f} ms per check); machine load "
            f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=60)
        from django.db import connections

        connections.close_all()
        broker.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
