"""Time the officer's pages on a large catalogue, against a bare template render.

    createdb -h 127.0.0.1 -U postgres atlas_bench
    SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/atlas_bench \\
        python bench/page_benchmark.py [--requests 60] [--providers 500]

Migrates the database, loads the seeded catalogue and adds the generated one if it is
missing (generate_catalogue.py: 500 providers, 10,000 models, 10 claims per model and 200
per provider, so 200,000 claims and a provider page with 200 claims), then serves the app
from a threaded WSGI server on 127.0.0.1 in this process and requests each page over HTTP,
one request at a time.
Prints, per page, the median and p99 time, their ratio to a bare template
render served by the same server in the same run, and the queries one request runs
(counted in this thread, through the same app, after the timed requests).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ["DEBUG"] = "false"  # DEBUG would record every query and slow every page

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402

from bench.generate_catalogue import generate_catalogue  # noqa: E402

BARE = engines["django"].from_string(
    "<!doctype html><title>{{ title }}</title><h1>{{ title }}</h1>"
    "<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>"
)


def bare(request):
    """The baseline: the same server and framework, a template, no database."""
    return HttpResponse(BARE.render({"title": "Bare", "items": range(10)}, request))


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("atlas.urls")),
]


class Server(ThreadedWSGIServer):
    def get_request(self):
        # Without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to every keep-alive reply.
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def _load() -> str:
    # Other work on the machine inflates every figure; the ratios to the bare render less so.
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page")
    parser.add_argument(
        "--finder-requests", type=int, default=60, help="timed requests for the finder"
    )
    parser.add_argument(
        "--providers",
        type=int,
        default=500,
        help="providers to generate (20 models each); use a fresh database per size",
    )
    args = parser.parse_args()

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)

    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    from catalog.loader import catalogue_load
    from catalog.models import AIModel, Claim, Provider

    if not Provider.objects.filter(slug="gen-p-0").exists():
        catalogue_load()  # the real claim keys, criteria and licences, as in production
    generate_catalogue(
        providers=args.providers,
        models_per_provider=20,
        claims_per_model=10,
        claims_per_provider=200,
    )
    big = "gen-p-0"
    print(
        f"database: {connection.vendor}; "
        f"{Provider.objects.count()} providers, {AIModel.objects.count()} models, "
        f"{Claim.objects.count()} claims; provider page: {big} with "
        f"{Claim.objects.filter(provider__slug=big).count()} claims"
    )
    connection.close()  # the server threads open their own

    server = Server(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def cold() -> None:
        cache.clear()  # same process as the server: its next request recomputes what it caches

    pages = [
        ("bare template render", "/bench/bare/", None),
        ("home", "/", None),
        ("home, figures not cached", "/", cold),
        ("search", "/?q=Provider+042&weights=open&commercial=yes", None),
        ("provider page (200 claims)", f"/providers/{big}/", None),
        ("finder", "/finder/?commercial_use=on&hosting=self_hosting", None),
        ("finder, check not cached", "/finder/?commercial_use=on&hosting=self_hosting", cold),
        (
            "finder, 3rd page of fails",
            "/finder/?commercial_use=on&hosting=self_hosting&fpage=3",
            None,
        ),
    ]
    print(
        f"timed requests per page: {args.requests} (finder: {args.finder_requests}), "
        f"after {args.warmup} warm-up requests; load average before: {_load()}"
    )
    print(
        f"{'page':30} {'median ms':>10} {'p99 ms':>10} {'x bare median':>14} "
        f"{'x bare p99':>11} {'KiB':>7} {'queries':>8}",
        flush=True,
    )
    bare_median = bare_p99 = None
    counted = Client()  # in this thread, so its queries can be counted
    with httpx.Client(base_url=base, timeout=300) as client:
        for name, url, before in pages:
            for _ in range(args.warmup):
                client.get(url).raise_for_status()
            times = []
            count = args.finder_requests if name.startswith("finder") else args.requests
            for _ in range(count):
                if before:
                    before()
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                response.raise_for_status()
            median, p99 = statistics.median(times), percentile(times, 0.99)
            if bare_median is None:
                bare_median, bare_p99 = median, p99
            if before:
                before()
            with CaptureQueriesContext(connection) as queries:
                counted.get(url)
            print(
                f"{name:30} {median:10.1f} {p99:10.1f} {median / bare_median:14.1f} "
                f"{p99 / bare_p99:11.1f} {len(response.content) / 1024:7.0f} "
                f"{len(queries.captured_queries):8}",
                flush=True,
            )
    server.shutdown()
    print(f"load average after: {_load()} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
