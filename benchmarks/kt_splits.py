"""What the knowledge-tracing benchmarks share: the fixed DKVMN splits of
``DATA/kt`` and the parsing of ``--set NAME=VALUE`` values."""

from __future__ import annotations

from typing import Any

#: dataset (a folder of DATA/kt) -> (train file, test file)
SPLITS = {
    "assist2009_updated": ("assist2009_updated_train.csv", "assist2009_updated_test.csv"),
    "assist2015": ("assist2015_train.csv", "assist2015_test.csv"),
    "synthetic": ("naive_c5_q50_s4000_v0_train.csv", "naive_c5_q50_s4000_v0_test.csv"),
}


def parse_value(text: str) -> Any:
    """An int, a float, true/false/none, or the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)
