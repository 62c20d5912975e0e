"""A population of simulated students, vectorised over students.

Each student n has a latent knowledge K[n, s] in [0, 1] of every skill s and
a learning rate. The model combines classic ingredients of simulated
learners used to evaluate teaching policies (Clement et al. 2015, section 4;
Doroudi, Aleven and Brunskill, "Where's the reward?", IJAIED 2019):

* Answers. On an item of difficulty d in skill s, P(correct) =
  guess + (1 - guess - slip) * sigmoid((K[n, s] - d) / sharpness).
* Learning at the edge of ability. One attempt raises K by
  rate_n * exp(-(d - K - stretch)^2 / (2 width^2)) * gate * (1 - K): most from
  items a little harder than what the student knows (``stretch`` above K),
  little from items far too easy or far too hard.
* Prerequisites. ``gate`` is the product over the skill's prerequisites p of
  sigmoid((K[n, p] - prerequisite_level) / 0.05): a skill is hardly learned
  until its parents are known.
* Forgetting. Between steps K decays as K * exp(-forget_rate * dt / (1 + c)),
  where c counts the student's earlier attempts at the skill (practice makes
  memories more stable).

The post-test score of a student is the expected fraction of all items they
would answer correctly without guessing or slipping: the mean over items of
sigmoid((K - d) / sharpness). A delayed post-test (``post_test(delay=d)``)
measures retention: it scores the knowledge the student would have after ``d``
more time units without practice, K * exp(-forget_rate * d / (1 + c)), without
changing the population. Everything is deterministic given the seed.

Cost. The state is two dense (students x skills) arrays; the prerequisite
graph is kept sparse, so an attempt costs O(students x parents of the
practised skill), not O(students x skills), and a course as large as the
Junyi Academy map (835 skills, :func:`mentor.sim.make_junyi_course`) runs
with thousands of students. Forgetting and the post-test touch every
(student, skill) cell and dominate the cost of a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit

from mentor._checks import check_number
from mentor.domain import Domain


@dataclass(frozen=True)
class StudentParams:
    """Parameters of simulated students (defaults in brackets in each field's name doc).

    Attributes
    ----------
    guess, slip
        Probability of a lucky correct answer and of a careless error (0.2, 0.1).
    sharpness
        Width of the logistic from "cannot" to "can" (0.1).
    rate_median, rate_spread
        Learning rates are log-normal with this median and log-space standard
        deviation (0.15, 0.3), capped at 1.
    stretch, width
        The best item is ``stretch`` harder than the student's knowledge; gains
        fall off as a Gaussian of this ``width`` (0.1, 0.15).
    prerequisite_level
        Knowledge of a parent at which the gate is half open (0.6).
    forget_rate
        Decay per time unit of an unpractised skill (0.002).
    initial_max
        Initial knowledge is uniform in [0, initial_max] (0.15).
    """

    guess: float = 0.2
    slip: float = 0.1
    sharpness: float = 0.1
    rate_median: float = 0.15
    rate_spread: float = 0.3
    stretch: float = 0.1
    width: float = 0.15
    prerequisite_level: float = 0.6
    forget_rate: float = 0.002
    initial_max: float = 0.15

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class StudentPopulation:
    """Simulated students learning a domain (see the module docstring for the model).

    Parameters
    ----------
    domain
        The course; each item's first skill and its difficulty (0.5 when
        missing) are used.
    n_students
        Number of students.
    seed
        Seed of every random draw (initial knowledge, rates, answers).
    params
        Student parameters (:class:`StudentParams` defaults).
    """

    def __init__(
        self,
        domain: Domain,
        n_students: int,
        seed: int = 0,
        params: StudentParams | None = None,
    ) -> None:
        self.domain = domain
        self.params = params or StudentParams()
        self.rng = np.random.default_rng(seed)
        self.n_students = int(n_students)
        skills = domain.skills
        self.item_ids = domain.item_ids
        self.item_skill = np.array(
            [domain.skill_index(domain.item(i).skills[0]) for i in self.item_ids]
        )
        self.item_difficulty = np.array(
            [
                0.5 if domain.item(i).difficulty is None else domain.item(i).difficulty
                for i in self.item_ids
            ]
        )
        edges = np.array(
            [(domain.skill_index(c), domain.skill_index(p)) for p, c in domain.graph.edges],
            dtype=np.int64,
        ).reshape(-1, 2)
        #: Sparse 0/1 matrix (CSR): ``parents[s, p]`` is 1 when skill p is a prerequisite of s.
        self.parents = sp.csr_matrix(
            (np.ones(len(edges), dtype=bool), (edges[:, 0], edges[:, 1])),
            shape=(len(skills), len(skills)),
        )
        p = self.params
        self.knowledge = self.rng.uniform(0.0, p.initial_max, size=(self.n_students, len(skills)))
        # Capped at 1: an attempt closes at most the whole gap 1 - K, so K stays in [0, 1].
        self.rate = np.minimum(
            p.rate_median * np.exp(p.rate_spread * self.rng.standard_normal(self.n_students)),
            1.0,
        )
        self.practice = np.zeros((self.n_students, len(skills)), dtype=np.int64)
        self.time = 0.0

    def success_probability(self, students: np.ndarray, items: np.ndarray) -> np.ndarray:
        """P(correct) of each student on the item at the same position."""
        p = self.params
        k = self.knowledge[students, self.item_skill[items]]
        return p.guess + (1.0 - p.guess - p.slip) * expit(
            (k - self.item_difficulty[items]) / p.sharpness
        )

    def attempt(self, items: np.ndarray, students: np.ndarray | None = None) -> np.ndarray:
        """Every student (or those listed) attempts one item (by index into
        :attr:`item_ids`); returns the 0/1 outcomes and applies the learning."""
        p = self.params
        students = np.arange(self.n_students) if students is None else np.asarray(students)
        items = np.asarray(items)
        outcomes = (
            self.rng.random(students.size) < self.success_probability(students, items)
        ).astype(float)
        skills = self.item_skill[items]
        k = self.knowledge[students, skills]
        fit = np.exp(-((self.item_difficulty[items] - k - p.stretch) ** 2) / (2.0 * p.width**2))
        gate = self._gate(students, skills)
        self.knowledge[students, skills] = k + self.rate[students] * fit * gate * (1.0 - k)
        self.practice[students, skills] += 1
        return outcomes

    def _gate(self, students: np.ndarray, skills: np.ndarray) -> np.ndarray:
        """prod over the parents p of each skill of sigmoid((K[n, p] - level) / 0.05),
        summed in log space over the sparse parent lists only."""
        start = self.parents.indptr[skills]
        counts = self.parents.indptr[skills + 1] - start
        total = int(counts.sum())
        if total == 0:
            return np.ones(students.size)
        owner = np.repeat(np.arange(students.size), counts)
        position = np.arange(total) + np.repeat(start - (np.cumsum(counts) - counts), counts)
        parent = self.parents.indices[position]
        level = self.params.prerequisite_level
        terms = log_expit((self.knowledge[students[owner], parent] - level) / 0.05)
        return np.exp(np.bincount(owner, weights=terms, minlength=students.size))

    def _decay(self, dt: float) -> np.ndarray:
        """The factor exp(-forget_rate * dt / (1 + c)) of every (student, skill) cell,
        computed once per distinct practice count c and gathered."""
        table = np.exp(
            -self.params.forget_rate * dt / (1.0 + np.arange(self.practice.max(initial=0) + 1))
        )
        return table[self.practice]

    def advance(self, dt: float = 1.0) -> None:
        """Let ``dt`` time units pass: knowledge decays, practised skills more slowly."""
        if self.params.forget_rate * dt != 0.0:
            self.knowledge *= self._decay(dt)
        self.time += dt

    def post_test(self, delay: float = 0.0) -> np.ndarray:
        """Each student's expected post-test score over all items, without guess or slip.

        Parameters
        ----------
        delay
            Time units without practice between now and the test (0: an immediate
            post-test). The test scores the knowledge the students would then have,
            K * exp(-forget_rate * delay / (1 + c)), and leaves the population as it
            is, so the same cohort can be tested at several delays to measure retention.
        """
        delay = check_number("delay", delay, 0.0)
        knowledge = self.knowledge
        if self.params.forget_rate * delay != 0.0:
            knowledge = knowledge * self._decay(delay)
        k = knowledge[:, self.item_skill]
        return expit((k - self.item_difficulty) / self.params.sharpness).mean(axis=1)

    def retention(self, delays: Sequence[float]) -> np.ndarray:
        """Mean post-test score of the cohort after each delay: ``retention[j] =
        post_test(delays[j]).mean()``; the population is not changed."""
        return np.array([self.post_test(float(d)).mean() for d in delays])
