"""Service throughput and latency: posting event batches and getting next items,
with 10,000 learners in one course, on SQLite and on PostgreSQL.

Usage:
    python benchmarks/service.py
    python benchmarks/service.py --backends sqlite --duration 10 --learners 1000

For each database the server runs as ``python -m mentor.service`` (uvicorn, one
process) in a subprocess on 127.0.0.1; SQLite lives in a temporary data folder,
PostgreSQL in a fresh database on the server of ``--postgres`` (dropped after).
A workspace gets the demo course (mentor.demo: 18 skills, 54 items) with BKT and
the random teacher (cheap: the figures are the service's, not a teacher's).
Setup: one admin batch gives each of the learners one event (so the student
model holds all of them), then each learner gets a token (POST /v1/learners,
from a thread pool); every measured request uses the learner's own token.

The load generator is a separate process (multiprocessing, asyncio + aiohttp). It
is open-loop: request i is due at start + i / rate whatever the answers, and
its latency runs from when it was due to when its answer arrived (so a queue
in the server or the client counts). Scenarios, one after the other:

- ``next``: GET /v1/courses/{c}/learners/{l}/next?k=1 for random learners.
- ``events``: POST /v1/courses/{c}/events, a batch of 5 events of one learner
  (each learner at most once), with an Idempotency-Key.
- ``mixed``: ``next`` at its rate with ``events`` at theirs, at once (the next
  latencies are reported).
- ``noisy``: a noisy neighbour. The measured tenant's ``next`` runs three
  times at ``--rate``: quiet; while another workspace imports a course of
  ``--noisy-items`` items (generated, one skill per 100 items); and, after a
  restart of the server (its engines gone), while that workspace's first
  ``next`` makes the server load the large course (503 with Retry-After,
  polled, until it answers). The neighbour starts ``--noisy-delay`` seconds
  into each run; its import and load times are reported with the rows.
  ``--noisy-rounds N`` repeats the three runs N times (each round's import and
  load runs are compared with its own quiet run): one p99 of 3,000 requests moves
  with the machine, so a ratio from one round is weak evidence.

Prints a table and writes benchmarks/results/service.json, with the load
average (1 min) before and after each scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mentor._io import write_json
from mentor.demo.course import course_dict
from mentor.service.testing import ServerProcess, bearer, postgres_database, setup_workspace

COURSE = "bench"
BATCH_EVENTS = 5


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def own_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process, without its children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> float:
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- setup


def setup(server: ServerProcess, n_learners: int, tokens: bool, progress: Progress) -> dict:
    """Workspace, course, learners (one event each) and their tokens."""
    info: dict[str, Any] = {}
    learners = [f"learner-{k:05d}" for k in range(n_learners)]
    with httpx.Client(base_url=server.url, timeout=120) as client:
        admin = bearer(setup_workspace(client, "bench"))
        start = time.perf_counter()
        response = client.post(
            "/v1/courses",
            headers=admin,
            data={
                "id": COURSE,
                "clock": "steps",
                "model": json.dumps({"name": "bkt"}),
                "teacher": json.dumps({"name": "random"}),
            },
            files={
                "items": ("course.json", json.dumps(course_dict()).encode(), "application/json")
            },
        )
        response.raise_for_status()
        info["import_seconds"] = time.perf_counter() - start
        items = [item["id"] for item in course_dict()["items"]]
        info["items"] = len(items)
        rng = random.Random(0)
        start = time.perf_counter()
        task = progress.add_task("seed events", total=n_learners)
        for first in range(0, n_learners, 1000):
            chunk = learners[first : first + 1000]
            events = [
                {
                    "learner": name,
                    "item": rng.choice(items),
                    "time": 0,
                    "outcome": float(rng.random() < 0.6),
                }
                for name in chunk
            ]
            response = client.post(
                f"/v1/courses/{COURSE}/events",
                headers={**admin, "Idempotency-Key": f"seed-{first}"},
                json={"events": events},
            )
            response.raise_for_status()
            progress.advance(task, len(chunk))
        info["seed_seconds"] = time.perf_counter() - start

    headers: dict[str, dict[str, str]] = {}
    if tokens:
        task = progress.add_task("learner tokens", total=n_learners)
        start = time.perf_counter()
        local = threading.local()

        def issue(name: str) -> tuple[str, str]:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=server.url, timeout=120)
            response = client.post("/v1/learners", headers=admin, json={"id": name})
            response.raise_for_status()
            return name, response.json()["token"]

        with ThreadPoolExecutor(8) as pool:
            for name, token in pool.map(issue, learners):
                headers[name] = bearer(token)
                progress.advance(task)
        info["token_seconds"] = time.perf_counter() - start
        info["auth"] = "learner tokens (next), a grader key (events)"
        with httpx.Client(base_url=server.url, timeout=120) as client:
            response = client.post(
                "/v1/keys", headers=admin, json={"name": "bench app", "role": "grader"}
            )
            response.raise_for_status()
            info["poster"] = bearer(response.json()["key"])
    else:
        headers = dict.fromkeys(learners, admin)
        info["auth"] = "admin key"
        info["poster"] = admin
    info["learners"] = n_learners
    info["admin"] = admin
    info["headers"] = headers
    return info


# ------------------------------------------------------------------ noisy neighbour


def big_course_csv(n_items: int) -> bytes:
    """An items CSV of ``n_items`` items, 100 per skill, difficulties in [0, 1)."""
    rows = ["item,skills,difficulty"]
    rows += [f"big-{k:06d},skill-{k // 100:04d},{(k % 100) / 100:g}" for k in range(n_items)]
    return ("\n".join(rows) + "\n").encode()


def import_big_course(client, admin: dict[str, str], csv: bytes):
    """POST ``csv`` (:func:`big_course_csv`) as the course ``big`` (BKT, the random
    teacher, a step clock) with ``client`` (httpx's or FastAPI's test client)."""
    return client.post(
        "/v1/courses",
        headers=admin,
        data={
            "id": "big",
            "clock": "steps",
            "model": json.dumps({"name": "bkt"}),
            "teacher": json.dumps({"name": "random"}),
        },
        files={"items": ("big.csv", csv, "text/csv")},
    )


class Neighbour(threading.Thread):
    """Another tenant's heavy work, in a thread of the benchmark's own process:
    ``import`` (a workspace, a large course and one learner) or ``load`` (ask that
    learner's next item until the server has loaded the course)."""

    def __init__(self, url: str, action: str, delay: float, state: dict) -> None:
        super().__init__(daemon=True)
        self.url, self.action, self.delay, self.state = url, action, delay, state

    def run(self) -> None:
        time.sleep(self.delay)
        with httpx.Client(base_url=self.url, timeout=600) as client:
            start = time.perf_counter()
            if self.action == "import":
                admin = bearer(setup_workspace(client, "noisy neighbour"))
                response = import_big_course(client, admin, self.state["csv"])
                response.raise_for_status()
                self.state["import_s"] = time.perf_counter() - start
                self.state["admin"] = admin
                client.post("/v1/learners", headers=admin, json={"id": "n0"}).raise_for_status()
                return
            busy = 0
            url = "/v1/courses/big/learners/n0/next"
            while True:
                response = client.get(url, headers=self.state["admin"])
                if response.status_code != 503:
                    response.raise_for_status()
                    break
                busy += 1
                time.sleep(float(response.headers.get("retry-after", "1")))
            self.state["load_s"] = time.perf_counter() - start
            self.state["load_503s"] = busy


def noisy_runs(server: ServerProcess, restart, info: dict, args, console: Console):
    """The ``noisy`` scenario's three runs; yields (phase, server, results, state)."""
    learners = sorted(info["headers"])
    stream = {
        "name": "next",
        "rate": args.rate,
        "requests": _requests("next", args.rate, args.duration, learners, 99, 0),
        "headers": info["headers"],
        "poster": info["poster"],
        "offset": 0,
    }
    state: dict[str, Any] = {"csv": big_course_csv(args.noisy_items)}
    # A short unmeasured run first: the server's first seconds after the setup (its
    # caches, the generator's first connections) are not the quiet tenant's latency.
    warm = {**stream, "requests": stream["requests"][: int(args.rate * 3)]}
    run_scenario(server.url, [warm], args.max_in_flight, args.timeout)
    phases = [(r, phase) for r in range(args.noisy_rounds) for phase in ("quiet", "import", "load")]
    for round_, phase in phases:
        state["round"] = round_ + 1
        if phase == "load":
            server = restart(server)
            with httpx.Client(base_url=server.url, timeout=120) as client:  # warm our course
                client.get(
                    f"/v1/courses/{COURSE}/learners/{learners[0]}/next",
                    headers=info["headers"][learners[0]],
                ).raise_for_status()
        neighbour = None
        if phase != "quiet":
            neighbour = Neighbour(server.url, phase, args.noisy_delay, state)
            neighbour.start()
        console.print(f"noisy / {phase} (round {round_ + 1}): running {args.duration:g} s ...")
        state["loadavg_before"] = loadavg()
        cpu = own_cpu_seconds(server.process.pid)
        results = run_scenario(server.url, [stream], args.max_in_flight, args.timeout)
        if neighbour is not None:
            neighbour.join()
        # The server process's own CPU (an import worker, a child, not counted):
        # what the neighbour's work cost the interpreter that serves every tenant.
        state["server_own_cpu_s"] = own_cpu_seconds(server.process.pid) - cpu
        yield phase, server, results, state


# ---------------------------------------------------------------------------- py-spy


class PySpy:
    """``py-spy record`` of the server process while a scenario runs: a flame graph
    (``PREFIX.svg``), the collapsed stacks (``PREFIX.txt``) and the functions with
    the most samples on top of the stack and anywhere in it (``PREFIX-top.txt``,
    as ``py-spy top`` shows them). py-spy samples at 100 Hz from outside the
    process (the server runs unchanged); ``--idle`` keeps waiting threads' samples."""

    def __init__(self, pid: int, prefix: Path) -> None:
        import subprocess
        import sys

        prefix.parent.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        spy = Path(sys.executable).parent / "py-spy"
        common = [str(spy), "record", "--pid", str(pid), "--rate", "100", "--nonblocking"]
        self.processes = [
            subprocess.Popen(
                [*common, "--format", fmt, "-o", str(prefix.with_suffix(suffix))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt"))
        ]
        time.sleep(1.0)  # attached before the load begins

    def finish(self, console: Console) -> None:
        import signal

        for process in self.processes:
            process.send_signal(signal.SIGINT)  # py-spy writes its output and exits
            process.wait(timeout=60)
        top = top_functions(self.prefix.with_suffix(".txt"))
        self.prefix.with_name(self.prefix.name + "-top.txt").write_text(top)
        console.print(f"py-spy: {self.prefix}.svg, {self.prefix}-top.txt")


def top_functions(collapsed: Path, n: int = 30) -> str:
    """The functions with the most samples (self: on top of the stack; total:
    anywhere in it) from py-spy's collapsed stacks, as a table."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        k = int(count)
        samples += k
        own[frames[-1]] = own.get(frames[-1], 0) + k
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + k
    lines = [f"{samples} samples (100 Hz, all threads)", "  self%  total%  function"]
    for frame, k in sorted(own.items(), key=lambda x: -x[1])[:n]:
        lines.append(f"{100 * k / samples:7.1f} {100 * total[frame] / samples:7.1f}  {frame}")
    lines += ["", "by total:", "  total%  function"]
    for frame, k in sorted(total.items(), key=lambda x: -x[1])[:n]:
        lines.append(f"{100 * k / samples:8.1f}  {frame}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- load generator


def _requests(
    kind: str, rate: float, duration: float, learners: list[str], seed: int, offset: int
) -> list[tuple[str, str, dict | None, str]]:
    """(method, path, json body, learner) of each request, in order."""
    n = int(rate * duration)
    rng = random.Random(seed)
    out = []
    if kind == "next":
        for _ in range(n):
            learner = rng.choice(learners)
            out.append(("GET", f"/v1/courses/{COURSE}/learners/{learner}/next?k=1", None, learner))
    else:
        items = [item["id"] for item in course_dict()["items"]]
        for i in range(n):
            learner = learners[(offset + i) % len(learners)]  # each learner once per run
            events = [
                {
                    "learner": learner,
                    "item": rng.choice(items),
                    "time": 1 + offset + j,
                    "outcome": float(rng.random() < 0.6),
                }
                for j in range(BATCH_EVENTS)
            ]
            out.append(("POST", f"/v1/courses/{COURSE}/events", {"events": events}, learner))
    return out


async def _drive(url: str, streams: list[dict], results: dict, cap: int, timeout: float) -> None:
    connector = aiohttp.TCPConnector(limit=cap)
    timeouts = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeouts) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2
        tasks = []
        in_flight = [0]

        async def one(name, k, due, method, path, body, headers):
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = loop.time()
            if in_flight[0] >= cap:  # overloaded: dropped, counted as an error
                results[name].append((k, due - start, sent - due, 0.0, "dropped"))
                return
            in_flight[0] += 1
            try:
                async with client.request(method, path, json=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                status = type(error).__name__
            finally:
                in_flight[0] -= 1
            done = loop.time()
            results[name].append((k, due - start, done - due, done - sent, status))

        for stream in streams:
            name, rate = stream["name"], stream["rate"]
            results[name] = []
            for k, (method, path, body, learner) in enumerate(stream["requests"]):
                headers = dict(stream["headers"][learner])
                if method == "POST":  # learner tokens cannot post outcomes: the app's key
                    headers = {
                        **stream["poster"],
                        "Idempotency-Key": f"{name}-{stream['offset']}-{k}",
                    }
                tasks.append(
                    asyncio.ensure_future(
                        one(name, k, start + k / rate, method, path, body, headers)
                    )
                )
        await asyncio.gather(*tasks)
        results["_elapsed"] = loop.time() - start


def _generator(url: str, streams: list[dict], cap: int, timeout: float, queue) -> None:
    # The generator holds every request of the scenario; a full garbage collection
    # of them stalls its event loop for 100-200 ms, which would be measured as the
    # server's latency. Its objects die by reference counting; nothing is lost.
    gc.disable()
    results: dict = {}
    asyncio.run(_drive(url, streams, results, cap, timeout))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results["_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    queue.put(results)


def run_scenario(url: str, streams: list[dict], cap: int, timeout: float) -> dict:
    """Run the streams at once in a separate process; their per-request records."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_generator, args=(url, streams, cap, timeout, queue))
    process.start()
    results = queue.get()
    process.join()
    return results


def summarise(records: list[tuple], rate: float, duration: float) -> dict:
    latency = np.array([r[2] for r in records]) * 1000
    service = np.array([r[3] for r in records]) * 1000
    ok = [r for r in records if isinstance(r[4], int) and r[4] < 400]
    # Latencies of the answered requests (a dropped or timed-out one has none).
    answered = [r for r in records if isinstance(r[4], int)] or records
    latency = np.array([r[2] for r in answered]) * 1000
    service = np.array([r[3] for r in answered]) * 1000
    last_done = max(r[1] + r[2] for r in records)
    errors: dict[str, int] = {}
    for r in records:
        if not (isinstance(r[4], int) and r[4] < 400):
            errors[str(r[4])] = errors.get(str(r[4]), 0) + 1
    return {
        "target_rate": rate,
        "duration_s": duration,
        "requests": len(records),
        "ok": len(ok),
        "errors": errors,
        "achieved_rate": len(ok) / max(last_done, len(records) / rate),
        "p50_ms": float(np.percentile(latency, 50)),
        "p90_ms": float(np.percentile(latency, 90)),
        "p99_ms": float(np.percentile(latency, 99)),
        "max_ms": float(latency.max()),
        "service_p50_ms": float(np.percentile(service, 50)),
        "service_p99_ms": float(np.percentile(service, 99)),
    }


# ---------------------------------------------------------------------------- main


def bench_backend(backend: str, args, console: Console) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mentor-bench-") as folder:
        if backend == "postgresql":
            database = postgres_database(args.postgres)
            db_url = database.__enter__()
        else:
            database, db_url = None, None
        workers = {"workers": args.workers} if args.workers != 1 else {}
        server = ServerProcess(Path(folder) / "data", db_url, **workers).start()
        try:
            with Progress(console=console, transient=True) as progress:
                info = setup(server, args.learners, not args.admin, progress)
            console.print(
                f"{backend}: import {info['import_seconds']:.2f} s, seed {args.learners:,} "
                f"learners {info['seed_seconds']:.1f} s"
                + (f", tokens {info['token_seconds']:.1f} s" if "token_seconds" in info else "")
            )
            learners = sorted(info["headers"])
            headers = info["headers"]
            offset = 0
            scenarios = [
                ("next", [("next", args.rate)]),
                ("events", [("events", args.event_rate)]),
                ("mixed", [("next", args.rate), ("events", args.mixed_event_rate)]),
            ]
            if "noisy" in args.scenarios:

                def restart(old: ServerProcess) -> ServerProcess:
                    old.stop()
                    return ServerProcess(Path(folder) / "data", db_url, **workers).start()

                quiet = 1.0
                for phase, current, results, state in noisy_runs(
                    server, restart, info, args, console
                ):
                    server = current  # restarted for the load run: stopped at the end
                    row = {
                        "backend": backend,
                        "scenario": f"noisy: {phase}"
                        + (f" #{state['round']}" if args.noisy_rounds > 1 else ""),
                        "request": "next",
                        **summarise(results["next"], args.rate, args.duration),
                        "neighbour_items": args.noisy_items,
                        "neighbour_import_s": state.get("import_s"),
                        "neighbour_load_s": state.get("load_s") if phase == "load" else None,
                        "neighbour_503s": state.get("load_503s") if phase == "load" else None,
                        "loadavg_before": state["loadavg_before"],
                        "loadavg_after": loadavg(),
                        "server_own_cpu_s": state["server_own_cpu_s"],
                    }
                    row["round"] = state["round"]
                    if phase == "quiet":  # each round's runs are compared with its own quiet run
                        quiet = row["p99_ms"]
                    row["p99_vs_quiet"] = row["p99_ms"] / quiet
                    rows.append(row)
                    console.print(
                        f"  next: {row['achieved_rate']:.1f}/s of {args.rate:g}/s, errors "
                        f"{row['errors'] or 0}, p50 {row['p50_ms']:.1f} ms, p99 "
                        f"{row['p99_ms']:.1f} ms ({row['p99_vs_quiet']:.2f}x quiet), server "
                        f"process CPU {row['server_own_cpu_s']:.1f} s, load "
                        f"{row['loadavg_before']:.1f} -> {row['loadavg_after']:.1f}; neighbour: "
                        + (
                            f"import {state['import_s']:.1f} s"
                            if phase == "import"
                            else f"load {state['load_s']:.1f} s ({state['load_503s']} x 503)"
                            if phase == "load"
                            else "idle"
                        )
                    )
                    time.sleep(args.pause)
            for scenario, parts in scenarios:
                if scenario not in args.scenarios:
                    continue
                streams = []
                for k, (kind, rate) in enumerate(parts):
                    requests = _requests(kind, rate, args.duration, learners, k + offset, offset)
                    streams.append(
                        {
                            "name": kind,
                            "rate": rate,
                            "requests": requests,
                            "headers": headers,
                            "poster": info["poster"],
                            "offset": offset,
                        }
                    )
                    if kind == "events":
                        offset += BATCH_EVENTS  # later batches are later in each learner's time
                before = loadavg()
                console.print(f"{backend} / {scenario}: running {args.duration:g} s ...")
                cpu_before = tree_cpu_seconds(server.process.pid)
                spy = None
                if args.py_spy:
                    spy = PySpy(server.process.pid, args.py_spy / f"{backend}-{scenario}")
                results = run_scenario(server.url, streams, args.max_in_flight, args.timeout)
                if spy is not None:
                    spy.finish(console)
                server_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
                after = loadavg()
                answered = sum(
                    1 for kind, _ in parts for r in results[kind] if isinstance(r[4], int)
                )
                for kind, rate in parts:
                    row = {
                        "backend": backend,
                        "workers": args.workers,
                        "scenario": scenario,
                        "request": kind,
                        **summarise(results[kind], rate, args.duration),
                        "loadavg_before": before,
                        "loadavg_after": after,
                        "server_cpu_s": server_cpu,
                        "server_cpu_ms_per_request": 1000 * server_cpu / max(answered, 1),
                        "generator_cpu_ms_per_request": 1000
                        * results["_cpu_seconds"]
                        / max(answered, 1),
                    }
                    rows.append(row)
                    console.print(
                        f"  {kind}: {row['achieved_rate']:.1f}/s of {rate:g}/s, "
                        f"errors {row['errors'] or 0}, p50 {row['p50_ms']:.1f} ms, "
                        f"p99 {row['p99_ms']:.1f} ms, load {before:.2f} -> {after:.2f}, "
                        f"CPU per answered request: server "
                        f"{row['server_cpu_ms_per_request']:.2f} ms, "
                        f"load generator {row['generator_cpu_ms_per_request']:.2f} ms"
                    )
                time.sleep(args.pause)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                course = client.get(f"/v1/courses/{COURSE}", headers=info["admin"]).json()
            for row in rows:
                row.update(
                    learners=info["learners"],
                    auth=info["auth"],
                    course_events=course["events"],
                    setup={k: v for k, v in info.items() if k.endswith("_seconds")},
                )
        finally:
            server.stop()
            if database is not None:
                database.__exit__(None, None, None)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=["next", "events", "mixed"],
        choices=["next", "events", "mixed", "noisy"],
    )
    parser.add_argument(
        "--noisy-items", type=int, default=100_000, help="items of the noisy neighbour's course"
    )
    parser.add_argument(
        "--noisy-delay", type=float, default=3.0, help="seconds into a noisy run it starts"
    )
    parser.add_argument(
        "--noisy-rounds",
        type=int,
        default=1,
        help="times the noisy scenario's three runs (quiet, import, load) are repeated",
    )
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--rate", type=float, default=200.0, help="next-items requests per s")
    parser.add_argument("--event-rate", type=float, default=5.0, help="event batches per s")
    parser.add_argument(
        "--mixed-event-rate", type=float, default=2.0, help="event batches per s in mixed"
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=200,
        help="requests in flight at most; one due beyond it is dropped (an error)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between scenarios")
    parser.add_argument(
        "--admin", action="store_true", help="use the admin key instead of learner tokens"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="profile the server with py-spy during each scenario; files under this folder",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("MENTOR_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL URL whose server gets a fresh database",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "service.json"
    )
    args = parser.parse_args()
    console = Console(width=170)
    started = time.perf_counter()
    load_start = os.getloadavg()
    rows = []
    for backend in args.backends:
        rows += bench_backend(backend, args, console)
        write_json(args.out.with_suffix(".partial.json"), {"rows": rows})
    table = Table(
        title=f"Service, {args.learners:,} learners, one course "
        f"({os.cpu_count()} CPUs, {platform.machine()})"
    )
    columns = (
        "backend",
        "scenario",
        "request",
        "target/s",
        "achieved/s",
        "ok",
        "errors",
        "p50 ms",
        "p99 ms",
        "max ms",
        "load before/after",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    for r in rows:
        table.add_row(
            r["backend"],
            r["scenario"],
            r["request"],
            f"{r['target_rate']:g}",
            f"{r['achieved_rate']:.1f}",
            f"{r['ok']:,}",
            ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.0f}",
            f"{r['loadavg_before']:.2f} / {r['loadavg_after']:.2f}",
        )
    console.print(table)
    write_json(
        args.out,
        {
            "command": "python benchmarks/service.py "
            + " ".join(
                f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in vars(args).items()
                if k not in ("out", "postgres", "admin", "pause", "py_spy")
            )
            + (" --admin" if args.admin else ""),
            "cpus": os.cpu_count(),
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
            "seconds": time.perf_counter() - started,
            "rows": rows,
        },
    )
    args.out.with_suffix(".partial.json").unlink(missing_ok=True)
    console.print(f"written to {args.out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
