"""A pass-rate simulator of RL fine-tuning of a language model on prompts with
verifiable 0/1 rewards (RLVR, GRPO-style), to test teachers that choose prompts.

The model, and why each choice was made:

* **Prompts.** A training pool of prompts j with latent difficulties b_j and a
  held-out evaluation set drawn from the same distribution (default: 5,000
  training prompts, of the order of a math RL training set (MATH's training
  split has 7,500 problems); 500 held-out prompts, the size of MATH-500).
  Difficulties are Normal(mean, sd) in logit units (defaults 0 and 2.5). With
  the initial ability 0 this gives a U-shaped spread of pass rates, a large
  share of prompts solved by all or by none of 8 rollouts (about 18 % each),
  which is what makes prompt selection matter in RLVR (Yu et al. 2025, DAPO;
  Bae et al. 2025). The defaults are assumptions, not fitted to any model or
  data set. A fraction ``unsolvable`` of the training prompts (default 0) can
  be made impossible (b = +inf, pass rate 0 forever): wrong reference answers,
  a known hazard of scraped sets.
* **Pass rate.** One scalar ability theta (a Rasch / 1PL item-response model,
  Rasch 1960): p_j = sigmoid(theta - b_j). This is the simplest model in which
  a prompt's usefulness depends on the policy's current pass rate on it and in
  which training on any prompt transfers to all (no memorisation, no
  overfitting, no forgetting: the held-out pass rate is a function of theta
  alone).
* **Rollouts.** A prompt drawn for training gets k rollouts (default 8, a
  common GRPO group size) with independent 0/1 rewards: s_j ~ Binomial(k, p_j)
  successes. Every rollout drawn is counted in :attr:`PassRateSim.rollouts`,
  whether or not it ends up in a training batch: rollout generation is the
  dominant compute of RLVR. Rollouts that enter a training batch are counted
  separately in :attr:`PassRateSim.trained_rollouts`.
* **Gradient signal.** For the 1-parameter policy, d/dtheta log P(success) =
  1 - p and d/dtheta log P(failure) = -p, so the expected policy gradient of a
  prompt's expected reward is p (1 - p). The REINFORCE estimate with GRPO's
  group-mean baseline (advantages A_i = r_i - mean r, as in Dr. GRPO, Liu et
  al. 2025, which drops GRPO's division by the group's standard deviation) is
  (1/k) sum_i A_i (r_i - p) = p_hat (1 - p_hat) with p_hat = s / k: the sample
  version of p (1 - p), exactly zero for a prompt whose k rollouts all pass or
  all fail, as in GRPO. With ``normalise_std=True`` the advantages are divided
  by the group's standard deviation sqrt(p_hat (1 - p_hat)) (population
  standard deviation; the original GRPO, Shao et al. 2024), which gives
  sqrt(p_hat (1 - p_hat)). Bae et al. (2025) show that the expected
  improvement of a step is bounded below by the variance p (1 - p) of the
  prompts' rewards, the quantity this model is built on.
* **Update.** One training step on a batch B: theta += lr * (1/|B|) sum_{j in
  B} signal_j, the mean over the batch (GRPO's loss is a mean over the batch's
  samples, so prompts without signal dilute the step). ``lr`` (default 0.1) only
  sets the time scale. An empty batch changes nothing. theta never decreases:
  there is no gradient noise, no KL penalty, no collapse. Without gradient
  noise nothing rewards large batches: the progress per rollout of a step is
  proportional to 1 / |B|. Teachers must therefore be compared at the same
  training batch size, and :func:`run_passrate` normalises every step by the
  nominal batch size: a batch that filtering could not fill makes the smaller
  step it would make if the missing prompts were there with zero advantage,
  not a free larger one.
* **Events.** Each rolled-out prompt becomes one event: outcome = s / k,
  the mean reward of its rollouts, and extra column ``advantage`` = the mean
  absolute advantage over its rollouts (2 p_hat (1 - p_hat) without the
  standard-deviation normalisation, 2 sqrt(p_hat (1 - p_hat)) with it), which
  is what learning-progress teachers read as |advantage|.
* **Evaluation.** The held-out pass rate is the exact mean of sigmoid(theta -
  b) over the evaluation prompts (pass@1 in expectation, no sampling noise).

A consequence worth knowing before comparing teachers on rollouts: at a fixed
training batch size, filtering drawn prompts after their rollouts (keep those
with 0 < p_hat < 1, draw more until the batch is full) makes larger steps per
training step than uniform sampling, but in expectation no more progress per
rollout generated: the discarded prompts carry exactly zero signal and their
rollouts are spent all the same (and the surplus of the last draw is lost). A
teacher saves rollouts only by choosing, before the rollouts, prompts likely to
carry signal. :func:`run_passrate` reports steps, rollouts generated and
rollouts trained on, so that claims such as Bae et al.'s ("exceeding the maximum
reward of plain GRPO within 60% training time") can be checked in any of the
three units, or in a weighted sum of them as a model of wall-clock time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from mentor._checks import check_choice, check_count, check_flag, check_number, check_unit
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher


class PassRateSim:
    """A policy under RL fine-tuning, reduced to a pass rate per prompt (model in the
    module docstring).

    Parameters
    ----------
    n_prompts
        Training prompts in the pool (5000); their ids are ``0 .. n_prompts - 1``.
    n_eval
        Held-out evaluation prompts (500).
    k
        Rollouts per prompt (8).
    lr
        Step size of the ability update (0.1).
    ability
        Initial ability theta (0).
    difficulty_mean, difficulty_sd
        Normal distribution of the prompts' difficulties, logit units (0, 2.5).
    unsolvable
        Fraction of training prompts that can never be solved (0).
    normalise_std
        Divide advantages by the group's standard deviation, as the original
        GRPO (False: Dr. GRPO's mean baseline only).
    difficulty, eval_difficulty
        Explicit difficulties instead of random draws (``np.inf`` for an
        unsolvable prompt).
    seed
        Seed of the difficulties and of every rollout.

    Attributes
    ----------
    ability
        Current theta.
    rollouts, trained_rollouts, steps
        Rollouts generated, rollouts in training batches, training steps so far.
    """

    def __init__(
        self,
        n_prompts: int = 5000,
        n_eval: int = 500,
        k: int = 8,
        lr: float = 0.1,
        ability: float = 0.0,
        difficulty_mean: float = 0.0,
        difficulty_sd: float = 2.5,
        unsolvable: float = 0.0,
        normalise_std: bool = False,
        difficulty: Sequence[float] | np.ndarray | None = None,
        eval_difficulty: Sequence[float] | np.ndarray | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.k = check_count("k", k, 1)
        self.lr = check_number("lr", lr, 0.0, strict=True)
        unsolvable = check_unit("unsolvable", unsolvable)
        difficulty_sd = check_number("difficulty_sd", difficulty_sd, 0.0)
        n_prompts = check_count("n_prompts", n_prompts, 1)
        n_eval = check_count("n_eval", n_eval, 1)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.normalise_std = check_flag("normalise_std", normalise_std)
        if difficulty is None:
            difficulty = self.rng.normal(difficulty_mean, difficulty_sd, int(n_prompts))
            lost = self.rng.random(difficulty.size) < unsolvable
            difficulty[lost] = np.inf
        if eval_difficulty is None:
            eval_difficulty = self.rng.normal(difficulty_mean, difficulty_sd, int(n_eval))
        self.difficulty = _difficulties(difficulty, "difficulty")
        self.eval_difficulty = _difficulties(eval_difficulty, "eval_difficulty")
        self.ability = float(ability)
        self.rollouts = 0
        self.trained_rollouts = 0
        self.steps = 0

    @property
    def prompt_ids(self) -> list[int]:
        """Ids of the training prompts, the candidates a teacher selects from."""
        return list(range(self.difficulty.size))

    def pass_rate(self, prompts: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """True pass rate sigmoid(theta - b) of the listed training prompts (all by default)."""
        b = self.difficulty if prompts is None else self.difficulty[self._ids(prompts)]
        return expit(self.ability - b)

    def eval_pass_rate(self) -> float:
        """Mean pass rate over the held-out prompts (expected pass@1)."""
        return float(expit(self.ability - self.eval_difficulty).mean())

    def rollout(self, prompts: Sequence[int] | np.ndarray) -> np.ndarray:
        """Draw k rollouts of each listed prompt (repeats allowed); return the
        number of successes of each, and count the rollouts."""
        ids = self._ids(prompts)
        successes = self.rng.binomial(self.k, expit(self.ability - self.difficulty[ids]))
        self.rollouts += self.k * ids.size
        return successes

    def signal(self, successes: np.ndarray) -> np.ndarray:
        """Gradient signal of each prompt from its successes out of k: p_hat (1 - p_hat),
        or sqrt(p_hat (1 - p_hat)) with ``normalise_std``."""
        p = np.asarray(successes, dtype=float) / self.k
        variance = p * (1.0 - p)
        return np.sqrt(variance) if self.normalise_std else variance

    def advantage(self, successes: np.ndarray) -> np.ndarray:
        """Mean absolute advantage over each prompt's k rollouts (twice the signal)."""
        return 2.0 * self.signal(successes)

    def update(self, successes: np.ndarray, batch_size: int | None = None) -> float:
        """One training step on a batch given by its successes (one entry per
        prompt): theta += lr * sum(signal) / max(batch_size, len(successes)).
        Without ``batch_size`` that is the mean signal over the batch. Returns the
        change of theta."""
        successes = np.asarray(successes)
        size = max(successes.size, 0 if batch_size is None else int(batch_size))
        change = self.lr * float(self.signal(successes).sum()) / size if size else 0.0
        self.ability += change
        self.trained_rollouts += self.k * successes.size
        self.steps += 1
        return change

    def events(
        self, prompts: Sequence[int] | np.ndarray, successes: np.ndarray, learner: Any = 0
    ) -> EventLog:
        """The events of rolled-out prompts at the current step: outcome s / k and
        extra column ``advantage``."""
        ids = self._ids(prompts)
        successes = np.asarray(successes)
        return EventLog(
            np.full(ids.size, learner),
            ids,
            np.full(ids.size, float(self.steps)),
            successes / self.k,
            {"advantage": self.advantage(successes)},
            validate=False,
        )

    def step(self, prompts: Sequence[int] | np.ndarray, learner: Any = 0) -> EventLog:
        """Roll out the prompts and train on all of them; returns their events
        (timed at the step they were drawn in)."""
        successes = self.rollout(prompts)
        log = self.events(prompts, successes, learner)
        self.update(successes)
        return log

    def _ids(self, prompts: Sequence[int] | np.ndarray) -> np.ndarray:
        ids = np.asarray(prompts)
        if ids.size and (
            ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= self.difficulty.size
        ):
            raise DataError(
                f"prompt ids must be integers in [0, {self.difficulty.size})",
                field="prompts",
                value=ids.tolist()[:5],
            )
        return ids.astype(np.int64, copy=False).reshape(-1)


def _difficulties(values: Any, name: str) -> np.ndarray:
    array = np.array(values, dtype=float).reshape(-1)
    if array.size == 0 or np.isnan(array).any() or np.isneginf(array).any():
        raise ParameterError("needs at least one value, none NaN or -inf", field=name)
    return array


@dataclass
class PassRateCurve:
    """A training run: after each training step (and at the start, index 0), the
    steps, rollouts generated, rollouts trained on and held-out pass rate."""

    steps: np.ndarray
    rollouts: np.ndarray
    trained_rollouts: np.ndarray
    pass_rate: np.ndarray

    @property
    def best(self) -> float:
        """The highest held-out pass rate reached."""
        return float(self.pass_rate.max())

    def to_reach(self, level: float, unit: str = "rollouts") -> float | None:
        """The first ``unit`` count (``"rollouts"``, ``"trained_rollouts"`` or
        ``"steps"``) at which the held-out pass rate is at least ``level``; None
        if it never is."""
        counts = {
            "rollouts": self.rollouts,
            "trained_rollouts": self.trained_rollouts,
            "steps": self.steps,
        }
        check_choice("unit", unit, sorted(counts))
        hit = np.flatnonzero(self.pass_rate >= level)
        return float(counts[unit][hit[0]]) if hit.size else None


def run_passrate(
    sim: PassRateSim,
    teacher: Teacher,
    steps: int,
    batch_size: int = 64,
    model: StudentModel | None = None,
    keep: Callable[[np.ndarray], np.ndarray] | None = None,
    draw_size: int | None = None,
    max_draws: int = 100,
    max_rollouts: int | None = None,
    learner: Any = 0,
) -> tuple[PassRateCurve, EventLog]:
    """Train ``sim`` for ``steps`` steps on prompts chosen by ``teacher``.

    Each step the teacher selects prompts (``teacher.select(learner, prompt ids,
    k, t=step, model)``), every selected prompt is rolled out (k rollouts, all
    counted) and its event is given to ``model.update`` and ``teacher.observe``.
    Without ``keep`` the step trains on the ``batch_size`` selected prompts.
    With ``keep`` (a function of the prompts' observed pass rates s / k
    returning a boolean mask: online filtering after the rollouts, Bae et al.
    2025) the teacher is asked for ``draw_size`` (default ``batch_size``)
    prompts at a time, the kept ones are stacked, and drawing stops when
    ``batch_size`` are kept (the surplus is dropped: its rollouts count as
    generated, not as trained) or after ``max_draws`` draws. The step is
    normalised by ``batch_size`` in every case (see :meth:`PassRateSim.update`),
    so an underfilled batch takes a proportionally smaller step.

    Parameters
    ----------
    sim, teacher
        The simulated policy and the teacher choosing its prompts.
    steps
        Training steps to run.
    batch_size
        Prompts per training batch (64).
    model
        Optional student model, updated online with every event.
    keep, draw_size, max_draws
        Filtering after the rollouts (None: no filtering), prompts per draw
        (``batch_size``) and draws per step at most (100).
    max_rollouts
        Stop early once this many rollouts have been generated (None: never).
    learner
        The learner id given to the teacher and written in the events (0).

    Returns
    -------
    (PassRateCurve, EventLog)
        The curve (length ``steps + 1`` unless stopped early) and the events of
        every rolled-out prompt.
    """
    batch_size = check_count("batch_size", batch_size, 1)
    max_draws = check_count("max_draws", max_draws, 1)
    draw = batch_size if draw_size is None else check_count("draw_size", draw_size, 1)
    candidates = sim.prompt_ids
    logs: list[EventLog] = []
    record = [(sim.steps, sim.rollouts, sim.trained_rollouts, sim.eval_pass_rate())]
    for _ in range(steps):
        if max_rollouts is not None and sim.rollouts >= max_rollouts:
            break
        kept: list[np.ndarray] = []
        count = 0
        for _draw in range(max_draws if keep is not None else 1):
            wanted = draw if keep is not None else batch_size
            chosen = np.asarray(
                teacher.select(learner, candidates, wanted, float(sim.steps), model),
                dtype=np.int64,
            )
            successes = sim.rollout(chosen)
            log = sim.events(chosen, successes, learner)
            if model is not None:
                model.update(log)
            teacher.observe(log)
            logs.append(log)
            if keep is not None:
                successes = successes[np.asarray(keep(successes / sim.k), dtype=bool)]
            kept.append(successes)
            count += successes.size
            if count >= batch_size:
                break
        sim.update(np.concatenate(kept)[:batch_size], batch_size)
        record.append((sim.steps, sim.rollouts, sim.trained_rollouts, sim.eval_pass_rate()))
    columns = np.array(record, dtype=float).T
    curve = PassRateCurve(
        columns[0].astype(np.int64),
        columns[1].astype(np.int64),
        columns[2].astype(np.int64),
        columns[3],
    )
    return curve, EventLog.concat(logs)
