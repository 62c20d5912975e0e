"""An LLM agent on arithmetic problems, with and without experience memory, against any
OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama, TGI, a hosted API).

Usage:
    python benchmarks/agent_arithmetic.py --llm http://127.0.0.1:8000/v1 --model NAME
        [--steps 150] [--per-family 5] [--memories none,reasoningbank+consolidation]
        [--teacher tscl] [--embedder minilm] [--max-tokens N] [--out DIR]

The tasks come from the demo course's question generators (``mentor agent tasks``:
17 templates x 3 levels, each task with its answer), so outcomes are checked against
the answer, not judged by the model. For each memory the script runs
``mentor agent run`` with its own memory database and audit log under ``--out``
(default ``out/agent_arithmetic``), then prints and saves (``summary.json``) the
success rate over all tasks and over the last quarter. The API key, if any, is read
from ``MENTOR_LLM_API_KEY``.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", required=True, help="base URL of the API")
    parser.add_argument("--model", required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--per-family", type=int, default=5)
    parser.add_argument("--memories", default="none,reasoningbank+consolidation")
    parser.add_argument("--teacher", default="tscl")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--max-tokens", type=int, default=None, help="budget per memory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/agent_arithmetic"))
    args = parser.parse_args()
    mentor = [sys.executable, "-m", "mentor"]
    tasks = args.out / "tasks.jsonl"
    subprocess.run(
        [
            *mentor,
            "agent",
            "tasks",
            str(tasks),
            "--per-family",
            str(args.per_family),
            "--seed",
            str(args.seed),
        ],
        check=True,
    )
    summary = {}
    for memory in args.memories.split(","):
        folder = args.out / memory.replace("+", "_")
        command = [
            *mentor,
            "agent",
            "run",
            str(tasks),
            "--llm",
            args.llm,
            "--model",
            args.model,
            "--steps",
            str(args.steps),
            "--memory",
            memory,
            "--teacher",
            args.teacher,
            "--embedder",
            args.embedder,
            "--seed",
            str(args.seed),
            "--db",
            f"sqlite:///{folder / 'memory.db'}",
            "--out",
            str(folder / "curve.csv"),
            "--audit",
            str(folder / "calls.jsonl"),
        ]
        if args.max_tokens:
            command += ["--max-tokens", str(args.max_tokens)]
        subprocess.run(command, check=True)
        with open(folder / "curve.csv", newline="") as handle:
            success = [int(row["success"]) for row in csv.DictReader(handle)]
        quarter = success[-max(1, len(success) // 4) :]
        summary[memory] = {
            "tasks": len(success),
            "success": sum(success) / max(1, len(success)),
            "last_quarter": sum(quarter) / max(1, len(quarter)),
        }
        print(f"{memory}: {summary[memory]}")
    (args.out / "summary.json").write_text(
        json.dumps(
            {"llm": args.llm, "model": args.model, "steps": args.steps, "memories": summary},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
