"""Latency of the agents' memory API on a real server (``mentor serve`` in a subprocess).

Usage:
    python benchmarks/agent_memory_service.py [--items 1000] [--requests 200]
        [--embedder hashing|minilm] [--postgres postgresql+psycopg://...]

One agent's memory is filled with ``--items`` distinct items (batches of 50 through
``POST /v1/agents/{agent}/items``); then one client, one request at a time, sends
``--requests`` retrievals (top-3 for a new task text) and ``--requests / 2`` outcomes
(three retrieved ids, one new item, so each outcome also embeds, merges and checks
retirement). Reported: p50, p90 and p99 latency in milliseconds and requests per second,
on SQLite and, with ``--postgres``, on a fresh PostgreSQL database. The agent's own
learner token is used, as an agent would. Results go to
``benchmarks/results/agent_memory_service.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from mentor.service.testing import ServerProcess, bearer, postgres_database, setup_workspace

RESULTS = Path(__file__).parent / "results"
WORDS = (
    "fraction sum graph path cost table query sort merge split count ratio angle "
    "area volume speed time price tax rate loan tree node edge prime digit"
).split()


def text(rng: np.random.Generator, n: int = 8) -> str:
    return " ".join(rng.choice(WORDS, n)) + f" #{int(rng.integers(1_000_000))}"


def item(rng: np.random.Generator) -> dict:
    return {
        "title": text(rng, 3),
        "description": "When " + text(rng, 5) + ".",
        "content": "Do " + text(rng, 10) + ".",
        "source_task": text(rng),
    }


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "per_s": float(len(ms) / (ms.sum() / 1000)),
    }


def measure(db_url: str | None, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder, ServerProcess(Path(folder), db_url) as server:
        client = httpx.Client(base_url=server.url, timeout=120)
        admin = bearer(setup_workspace(client))
        answer = client.put(
            "/v1/agents/bench", headers=admin, json={"embedder": args.embedder, "k": 3}
        )
        answer.raise_for_status()
        token = client.post("/v1/learners", json={"id": "bench"}, headers=admin).json()
        agent = bearer(token["token"])
        start = time.perf_counter()
        ids: list[int] = []
        for _ in range(0, args.items, 50):
            answer = client.post(
                "/v1/agents/bench/items",
                headers=agent,
                json={"items": [item(rng) for _ in range(50)]},
            )
            answer.raise_for_status()
            ids += answer.json()["added"]
        fill = time.perf_counter() - start
        retrieve, record = [], []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            answer = client.post(
                "/v1/agents/bench/retrieve", headers=agent, json={"task": text(rng)}
            )
            retrieve.append(time.perf_counter() - t0)
            answer.raise_for_status()
        for n in range(args.requests // 2):
            chosen = [int(i) for i in rng.choice(ids, 3, replace=False)]
            t0 = time.perf_counter()
            answer = client.post(
                "/v1/agents/bench/outcomes",
                headers=agent,
                json={
                    "task_id": f"t{n}",
                    "family": f"f{n % 5}",
                    "task": text(rng),
                    "success": bool(rng.random() < 0.5),
                    "retrieved": chosen,
                    "items": [item(rng)],
                },
            )
            record.append(time.perf_counter() - t0)
            answer.raise_for_status()
        size = client.get("/v1/agents/bench", headers=agent).json()
        client.close()
    return {
        "items_at_start": args.items,
        "fill_s": fill,
        "retrieve": percentiles(retrieve),
        "outcome": percentiles(record),
        "agent_at_end": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--embedder", choices=("hashing", "minilm"), default="hashing")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server")
    args = parser.parse_args()
    rows = {"sqlite": measure(None, args)}
    if args.postgres:
        with postgres_database(args.postgres) as url:
            rows["postgresql"] = measure(url, args)
    print(f"{args.items} items, {args.embedder} embedder, one client, one request at a time")
    print(
        f"{'database':11s} {'route':9s} {'p50 ms':>8s} {'p90 ms':>8s} {'p99 ms':>8s} {'req/s':>7s}"
    )
    for name, row in rows.items():
        for route in ("retrieve", "outcome"):
            r = row[route]
            print(
                f"{name:11s} {route:9s} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} "
                f"{r['p99_ms']:8.1f} {r['per_s']:7.1f}"
            )
        print(
            f"{name:11s} fill {row['items_at_start']} items: {row['fill_s']:.1f} s; at the "
            f"end {row['agent_at_end']['items']} active, {row['agent_at_end']['retired']} "
            "retired"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"agent_memory_service_{args.embedder}.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps({"args": vars(args) | {"postgres": bool(args.postgres)}, "rows": rows}, indent=1)
    )
    tmp.replace(out)


if __name__ == "__main__":
    main()
