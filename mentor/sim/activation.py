"""Simulated students whose memory follows ACT-R's activation law, not BKT's or
:class:`~mentor.sim.StudentPopulation`'s.

A second simulator, so that a teacher is not judged only on students built like
its own student model (issue: "honest benchmark under model mismatch"). Memory
for a skill is a set of practice traces; each trace fades as a power of its age,
and how fast depends on how strong the memory was when it was laid down (the
spacing effect). Pavlik and Anderson, "Practice and forgetting effects on
vocabulary memory: An activation-based model of the spacing effect", Cognitive
Science 29(4), 2005:

* Activation of skill s for student n at time t:
  ``m = beta_n + ln(sum_j w_j (t - t_j + 1) ** -d_j)`` over the traces j of s
  (``-inf`` without traces; the ``+ 1`` keeps a trace laid down now finite).
* Each trace's decay is set when it is laid down: ``d_j = c exp(m(t_j)) + a``
  (defaults c = 0.217, a = 0.177, the paper's fitted values), so massed practice,
  laid down while activation is high, fades faster than spaced practice.
* Answers: P(correct) on an item of difficulty d is
  ``guess + (1 - guess - slip) sigmoid((m - tau(d)) / s)`` with
  ``tau(d) = tau_easy + (tau_hard - tau_easy) d`` (s = 0.255 as in the paper).
* Learning: an attempt lays down a trace of weight ``w = gate (1 if right else
  failure_weight)``: a retrieval that succeeds strengthens memory more than a
  failure followed by feedback (the testing effect), whatever the item's level;
  ``gate`` is the product over the skill's prerequisites p of
  ``sigmoid((m_p - tau_gate) / s)``, so a skill is hardly learned before its
  prerequisites are remembered.

Unlike BKT there is no "known" state and no learning probability; unlike
:class:`~mentor.sim.StudentPopulation`, items far above the student teach as much
as any other (only success matters) and forgetting depends on the spacing of
practice. The post-test is the mean over items of ``sigmoid((m - tau(d)) / s)``,
without guess or slip, at the current time or after a delay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit

from mentor._checks import check_number
from mentor.domain import Domain


@dataclass(frozen=True)
class ActivationParams:
    """Parameters of :class:`ActivationPopulation` (defaults in the module docstring).

    Attributes
    ----------
    decay_scale, decay_floor
        c and a of the decay ``d = c exp(m) + a`` (0.217, 0.177).
    noise
        s, the width of the logistic from activation to recall (0.255).
    tau_easy, tau_hard
        Activation thresholds of the easiest (difficulty 0) and hardest
        (difficulty 1) items (-1.0, 1.0).
    tau_gate
        Activation of a prerequisite at which learning a skill is half gated (-0.5).
    failure_weight
        Weight of a trace laid down by a wrong answer (0.5; a right one weighs 1).
    guess, slip
        As in :class:`~mentor.sim.StudentParams` (0.2, 0.1).
    ability_spread
        Standard deviation of the student offset ``beta_n`` (0.3).
    """

    decay_scale: float = 0.217
    decay_floor: float = 0.177
    noise: float = 0.255
    tau_easy: float = -1.0
    tau_hard: float = 1.0
    tau_gate: float = -0.5
    failure_weight: float = 0.5
    guess: float = 0.2
    slip: float = 0.1
    ability_spread: float = 0.3

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class ActivationPopulation:
    """Simulated students with ACT-R activation memory (see the module docstring).

    Same interface as :class:`~mentor.sim.StudentPopulation` (``attempt``,
    ``advance``, ``post_test``, ``item_ids``, ``time``), so
    :func:`~mentor.sim.run_cohort` runs any teacher on it.

    Parameters
    ----------
    domain
        The course; each item's first skill and its difficulty (0.5 when missing).
    n_students
        Number of students.
    seed
        Seed of every random draw.
    params
        :class:`ActivationParams` (defaults).
    """

    def __init__(
        self,
        domain: Domain,
        n_students: int,
        seed: int = 0,
        params: ActivationParams | None = None,
    ) -> None:
        self.domain = domain
        self.params = params or ActivationParams()
        self.rng = np.random.default_rng(seed)
        self.n_students = int(n_students)
        self.item_ids = domain.item_ids
        self.n_skills = len(domain.skills)
        self.item_skill = np.array(
            [domain.skill_index(domain.item(i).skills[0]) for i in self.item_ids]
        )
        difficulty = np.array(
            [
                0.5 if domain.item(i).difficulty is None else domain.item(i).difficulty
                for i in self.item_ids
            ]
        )
        p = self.params
        self.item_tau = p.tau_easy + (p.tau_hard - p.tau_easy) * difficulty
        self.parents = [
            np.array([domain.skill_index(q) for q in domain.prerequisites_of(s)], dtype=np.int64)
            for s in domain.skills
        ]
        self.ability = p.ability_spread * self.rng.standard_normal(self.n_students)
        # traces, one row per attempt: student, skill, time laid down, decay, weight
        self._student: list[np.ndarray] = []
        self._skill: list[np.ndarray] = []
        self._time: list[np.ndarray] = []
        self._decay: list[np.ndarray] = []
        self._weight: list[np.ndarray] = []
        self.time = 0.0

    def activation(self, at: float | None = None) -> np.ndarray:
        """Activation of every (student, skill) at time ``at`` (now by default);
        ``-inf`` where a student has no trace of a skill."""
        at = self.time if at is None else at
        strength = np.zeros(self.n_students * self.n_skills)
        if self._student:
            student, skill = np.concatenate(self._student), np.concatenate(self._skill)
            age = at - np.concatenate(self._time) + 1.0
            terms = np.concatenate(self._weight) * age ** -np.concatenate(self._decay)
            strength = np.bincount(
                student * self.n_skills + skill, weights=terms, minlength=strength.size
            )
        with np.errstate(divide="ignore"):
            m = np.log(strength).reshape(self.n_students, self.n_skills)
        return m + self.ability[:, None]

    def success_probability(self, students: np.ndarray, items: np.ndarray) -> np.ndarray:
        """P(correct) of each student on the item at the same position."""
        p = self.params
        m = self.activation()[students, self.item_skill[items]]
        return p.guess + (1.0 - p.guess - p.slip) * expit((m - self.item_tau[items]) / p.noise)

    def attempt(self, items: np.ndarray, students: np.ndarray | None = None) -> np.ndarray:
        """Every student (or those listed) attempts one item (index into
        :attr:`item_ids`); returns the 0/1 outcomes and lays down the traces."""
        p = self.params
        students = np.arange(self.n_students) if students is None else np.asarray(students)
        items = np.asarray(items)
        m = self.activation()
        skills = self.item_skill[items]
        own = m[students, skills]
        recall = expit((own - self.item_tau[items]) / p.noise)
        outcomes = (
            self.rng.random(students.size) < p.guess + (1.0 - p.guess - p.slip) * recall
        ).astype(float)
        gate = np.ones(students.size)
        for n, (student, skill) in enumerate(zip(students.tolist(), skills.tolist(), strict=True)):
            parents = self.parents[skill]
            if parents.size:
                gate[n] = np.prod(expit((m[student, parents] - p.tau_gate) / p.noise))
        decay = p.decay_scale * np.exp(np.minimum(own, 50.0))
        self._student.append(students.astype(np.int64))
        self._skill.append(skills.astype(np.int64))
        self._time.append(np.full(students.size, self.time))
        self._decay.append(decay + p.decay_floor)
        self._weight.append(gate * np.where(outcomes == 1.0, 1.0, p.failure_weight))
        return outcomes

    def advance(self, dt: float = 1.0) -> None:
        """Let ``dt`` time units pass (traces age; nothing else changes)."""
        self.time += dt

    def post_test(self, delay: float = 0.0) -> np.ndarray:
        """Each student's expected post-test score over all items, without guess or
        slip, ``delay`` time units from now; the population is not changed."""
        delay = check_number("delay", delay, 0.0)
        m = self.activation(self.time + delay)[:, self.item_skill]
        return expit((m - self.item_tau) / self.params.noise).mean(axis=1)
