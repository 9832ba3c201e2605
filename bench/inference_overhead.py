"""How much the inference tester itself costs, against the local protocol server.

Starts the protocol server in a child process on 127.0.0.1, then measures in
the same run:

- baseline: the bare request a probe sends (plain httpx, no seam), one at a
  time and 16 at a time;
- the tester: whole probes (client seam, retries bookkeeping, evidence, verdict)
  one at a time and 16 at a time, for ``json_mode`` (one request) and
  ``chat_completion`` (two: the chat and the model list it reads declared
  capabilities from);
- with ``--store``: the full path of ``services.claims_probe`` with its
  Verification written to a throw-away SQLite database, one at a time;
- with ``--judge``: locating the judge's passage around a quote in source
  texts of 10 KB, 100 KB and 1 MB, beside the crawlers' own quote search on
  the same text (the baseline: what a source re-check already spends).

Prints probes per second, ratios against the baseline, and the time each probe
adds beyond the server's response time (probe latency minus the baseline
latency of the requests it sends). Every loop is bounded by a count.

    SECRET_KEY=bench python bench/inference_overhead.py [--n 300] [--rounds 3] [--store] [--judge]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from inference import probes
from inference.client import LLMClient
from tests.inference.testserver import ProtocolServer, ServedModel

CHAT = {
    "model": "bench-model",
    "temperature": 0,
    "messages": [
        {"role": "system", "content": "You reply with a JSON object only."},
        {
            "role": "user",
            "content": 'Reply with this JSON object and nothing else: {"answer": "ok"}',
        },
    ],
    "response_format": {"type": "json_object"},
    "max_tokens": 48,
}


def serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    server = ProtocolServer(models=[ServedModel(id="bench-model")]).start()
    port_queue.put(server.base_url)
    stop.wait(600)
    server.stop()


def timed(function, n: int, concurrency: int) -> tuple[float, list[float]]:
    """Run ``function`` n times at ``concurrency``; return (wall seconds, per-call seconds)."""

    def one(_: int) -> float:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started

    started = time.perf_counter()
    if concurrency == 1:
        latencies = [one(i) for i in range(n)]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            latencies = list(pool.map(one, range(n)))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="calls per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row; median kept")
    parser.add_argument("--store", action="store_true", help="also time probes that store")
    parser.add_argument(
        "--judge", action="store_true", help="also time locating the judge's passage"
    )
    args = parser.parse_args()
    if args.judge:
        passage_rows(args.rounds)

    queue: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(queue, stop), daemon=True)
    process.start()
    base_url = queue.get(timeout=30)
    try:
        raw = httpx.Client(timeout=30)
        client = LLMClient(
            base_url=base_url, timeout=30, max_retries=0, allowed_networks=["127.0.0.1/32"]
        )

        def bare() -> None:
            raw.post(f"{base_url}/chat/completions", json=CHAT).raise_for_status()

        def probe(key: str):
            def run() -> None:
                context = probes.ProbeContext(client=client, model="bench-model", claim_flag="yes")
                result = probes.run_probe(key, context)
                assert result.finding == probes.SUPPORTED, result.note

            return run

        for warm in (bare, probe("json_mode")):
            timed(warm, 20, 1)

        print(
            f"inference tester overhead: {args.n} calls per row, median of {args.rounds} "
            "rounds, server in its own process"
        )
        print(f"{'what':34} {'conc':>4} {'per s':>8} {'mean ms':>8} {'p95 ms':>8} {'vs bare':>8}")
        baseline: dict[int, tuple[float, float]] = {}
        rows = [("bare request (httpx)", bare, 1)]
        rows += [("probe json_mode (1 request)", probe("json_mode"), 1)]
        rows += [("probe chat_completion (2 requests)", probe("chat_completion"), 2)]
        added: list[str] = []
        for concurrency in (1, 16):
            timed(bare, 50, concurrency)  # warm the thread pool and connections
            for label, function, requests in rows:
                # Rows are interleaved over rounds and the median round is kept, so a
                # burst of load from elsewhere on the machine skews no single row.
                rounds = [timed(function, args.n, concurrency) for _ in range(args.rounds)]
                rounds.sort(key=lambda r: r[0])
                wall, latencies = rounds[len(rounds) // 2]
                rate = args.n / wall
                mean = statistics.fmean(latencies) * 1000
                p95 = sorted(latencies)[int(0.95 * len(latencies)) - 1] * 1000
                if function is bare:
                    baseline[concurrency] = (rate, mean)
                ratio = rate / baseline[concurrency][0]
                print(
                    f"{label:34} {concurrency:>4} {rate:8.0f} {mean:8.2f} {p95:8.2f} {ratio:8.2f}"
                )
                if function is not bare:
                    extra = mean - requests * baseline[concurrency][1]
                    added.append(
                        f"  {label} at concurrency {concurrency}: {extra:+.2f} ms per probe "
                        f"beyond {requests} bare request(s)"
                    )
        print("time the tester adds beyond the server's response time:")
        print("\n".join(added))
        if args.store:
            store(base_url, args.n)
    finally:
        stop.set()
        process.join(10)


def passage_rows(rounds: int) -> None:
    """Locating the judge's passage, against the crawlers' quote search on the same text.

    Both are pure text work: Django is not set up here, so ``--store`` still sets it
    up later on its own throw-away database.
    """
    from crawlers.matching import TextIndex
    from inference.passages import passage_around

    quote = "Customer content is never used to train our models."
    print(f"judge passage: median of {rounds} rounds, quote at 80% of the text")
    print(f"{'text':>8} {'blocks':>7} {'search ms':>10} {'passage ms':>11} {'vs search':>10}")
    for size in (10_000, 100_000, 1_000_000):
        block = "Paragraph {n}: the provider may process customer data for service delivery."
        lines = [block.format(n=n) for n in range(size // len(block))]
        lines[len(lines) * 4 // 5] = quote
        text = "\n".join(lines)

        def search(text: str = text) -> None:
            assert TextIndex(text).search(quote).found

        def locate(text: str = text) -> None:
            assert quote in passage_around(text=text, quote=quote).passage

        times = {}
        for label, function in (("search", search), ("locate", locate)):
            function()  # warm: the first call pays for imports and regex compilation
            samples = sorted(timed(function, 1, 1)[0] for _ in range(rounds))
            times[label] = samples[len(samples) // 2] * 1000
        print(
            f"{len(text) // 1000:>6}KB {len(lines):>7} {times['search']:10.1f} "
            f"{times['locate']:11.1f} {times['locate'] / times['search']:10.2f}"
        )


def store(base_url: str, n: int) -> None:
    """Full path: services.claims_probe, Verification written to a temporary SQLite file."""
    import tempfile

    directory = tempfile.mkdtemp(prefix="atlas-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["INFERENCE_ALLOWED_NETWORKS"] = "127.0.0.1/32"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog.models import AIModel, Claim, ClaimKey, Provider, Source
    from inference import services
    from inference.models import Endpoint

    provider = Provider.objects.create(slug="bench", name="Bench", kind="model_developer")
    model = AIModel.objects.create(
        provider=provider, slug="bench-model", name="Bench", api_ids=["bench-model"]
    )
    source = Source.objects.create(
        slug="bench", url="https://bench.invalid/", title="t", publisher="p", doc_type="terms"
    )
    claim = Claim.objects.create(
        model=model,
        key=ClaimKey.objects.get(key="json_mode"),
        value_flag="yes",
        source=source,
        checked_at=dt.date(2026, 1, 1),
    )
    endpoint = Endpoint.objects.create(
        name="bench", kind="self_hosted", base_url=base_url, max_requests=10**6, max_tokens=10**9
    )
    endpoint.served_models.add(model)
    services.claims_probe(claims=[claim], endpoint=endpoint)
    wall, latencies = timed(lambda: services.claims_probe(claims=[claim], endpoint=endpoint), n, 1)
    print(
        f"{'claims_probe json_mode, stored':34} {1:>4} {n / wall:8.0f} "
        f"{statistics.fmean(latencies) * 1000:8.2f}   (run + budget rows + Verification, SQLite)"
    )


if __name__ == "__main__":
    main()
