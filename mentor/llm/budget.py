"""A token and cost budget shared by the calls of one run."""

from __future__ import annotations

import math
import threading

from mentor.errors import ParameterError
from mentor.llm.base import BudgetExceeded


class Budget:
    """Counts the tokens and the cost of a run's calls and refuses calls once spent.

    A call is refused (:class:`BudgetExceeded`) when, before it starts, the tokens or
    the cost already spent reach a limit; the call that crosses a limit completes, so a
    run overshoots by at most one call.

    Parameters
    ----------
    max_tokens
        Limit on prompt plus completion tokens, or None for no limit.
    max_cost
        Limit on cost, in the currency of the prices, or None.
    prompt_price, completion_price
        Price per 1,000 prompt and completion tokens. Default 0.
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        prompt_price: float = 0.0,
        completion_price: float = 0.0,
    ) -> None:
        for name, value in (("max_tokens", max_tokens), ("max_cost", max_cost)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ParameterError("must be a number >= 0", field=name, value=value)
        for name, value in (("prompt_price", prompt_price), ("completion_price", completion_price)):
            if not (math.isfinite(value) and value >= 0):
                raise ParameterError("must be a number >= 0", field=name, value=value)
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.prompt_price = float(prompt_price)
        self.completion_price = float(completion_price)
        self.tokens = 0
        self.cost = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` if a limit is already reached."""
        with self._lock:
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                raise BudgetExceeded(
                    f"token budget spent: {self.tokens} of {self.max_tokens} tokens used "
                    f"in {self.calls} calls"
                )
            if self.max_cost is not None and self.cost >= self.max_cost:
                raise BudgetExceeded(
                    f"cost budget spent: {self.cost:.6g} of {self.max_cost:.6g} used "
                    f"in {self.calls} calls"
                )

    def charge(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Add one call's tokens; returns the call's cost."""
        cost = prompt_tokens * self.prompt_price + completion_tokens * self.completion_price
        cost /= 1000
        with self._lock:
            self.tokens += int(prompt_tokens) + int(completion_tokens)
            self.cost += cost
            self.calls += 1
        return cost
