"""Teaching experiments on simulated students: every teacher, many seeds, the
same students.

For each seed a pilot cohort practises with a random teacher; the student
model is fitted on the pilot's log (as a course would fit its model on last
year's data). Then, for each teacher, a fresh cohort drawn from the same seed
(the same initial knowledge and learning rates for every teacher: common
random numbers) practises for ``steps`` steps, one item per student per step,
with a copy of the fitted model updated online. The learning curve is the
cohort's mean post-test score after each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from mentor.domain import Domain
from mentor.errors import DataError
from mentor.events import EventLog
from mentor.metrics.teaching import aulc, gain_per_step, mean_ci
from mentor.sim.population import StudentParams, StudentPopulation
from mentor.students import BKT, StudentModel, create_model, model_from_state
from mentor.teachers import (
    ZPDES,
    ExpectedGain,
    FixedSequence,
    RandomTeacher,
    TargetSuccess,
    Teacher,
)

TeacherFactory = Callable[[Domain, int, int], Teacher]
"""Builds a teacher from (domain, number of steps, seed)."""


def _fixed(domain: Domain, steps: int, seed: int) -> Teacher:
    order = [
        item
        for skill in domain.topological_order()
        for item in sorted(domain.items_of(skill), key=lambda i: domain.item(i).difficulty or 0.0)
    ]
    return FixedSequence(order, repeats=max(1, steps // len(order)), seed=seed)


#: The teachers compared by default: name -> factory(domain, steps, seed).
DEFAULT_TEACHERS: dict[str, TeacherFactory] = {
    "random": lambda domain, steps, seed: RandomTeacher(seed),
    "fixed": _fixed,
    "target": lambda domain, steps, seed: TargetSuccess(0.7, seed=seed),
    "zpdes": lambda domain, steps, seed: ZPDES(domain, seed=seed),
}


def _expected_gain(domain: Domain, steps: int, seed: int) -> Teacher:
    return ExpectedGain(domain, seed=seed)


def _item_bkt(domain: Domain) -> StudentModel:
    return BKT(domain, grain="item", forgets=False)


#: Teachers that plan with a student model of their own rather than the fitted model
#: the others share: name -> (teacher factory, model factory). ``expected_gain`` plans
#: with ``BKT(domain, grain="item", forgets=False)`` at BKT's default parameters, as the
#: service's default teacher does (``benchmarks/model_teaching.py``).
PLANNING_TEACHERS: dict[str, tuple[TeacherFactory, Callable[[Domain], StudentModel]]] = {
    "expected_gain": (_expected_gain, _item_bkt),
}


def run_cohort(
    population: StudentPopulation,
    teacher: Teacher,
    model: StudentModel | None,
    steps: int,
    learner_ids: list | None = None,
) -> tuple[np.ndarray, EventLog]:
    """Let ``teacher`` teach ``population`` for ``steps`` steps.

    Returns the learning curve (mean post-test score before the first step and
    after each step, length ``steps + 1``) and the log of every attempt.
    """
    candidates = population.item_ids
    index = {item: i for i, item in enumerate(candidates)}
    learners = list(range(population.n_students)) if learner_ids is None else learner_ids
    if len(learners) != population.n_students:
        raise DataError(
            f"need one learner id per student ({population.n_students})",
            field="learner_ids",
            value=len(learners),
        )
    curve = np.empty(steps + 1)
    curve[0] = population.post_test().mean()
    logs = []
    for _ in range(steps):
        t = population.time
        chosen = [teacher.select(learner, candidates, 1, t, model)[0] for learner in learners]
        outcomes = population.attempt(np.array([index[item] for item in chosen]))
        log = EventLog(learners, chosen, np.full(len(learners), t), outcomes, validate=False)
        if model is not None:
            model.update(log)
        teacher.observe(log)
        logs.append(log)
        population.advance(1.0)
        curve[_ + 1] = population.post_test().mean()
    return curve, EventLog.concat(logs)


@dataclass
class ExperimentResult:
    """Learning curves of every teacher: ``curves[name]`` has one row per seed."""

    curves: dict[str, np.ndarray]
    steps: int

    def metrics(self) -> dict[str, dict[str, np.ndarray]]:
        """Per teacher, per metric, one value per seed."""
        return {
            name: {
                "post_mastery": curves[:, -1],
                "gain_per_step": np.array([gain_per_step(c) for c in curves]),
                "aulc": np.array([aulc(c) for c in curves]),
            }
            for name, curves in self.curves.items()
        }

    def summary(self, level: float = 0.95) -> list[dict[str, float | str]]:
        """Rows ``{"teacher", "metric", "mean", "ci_low", "ci_high"}``: mean over
        seeds with a Student-t confidence interval."""
        rows: list[dict[str, float | str]] = []
        for name, metrics in self.metrics().items():
            for metric, values in metrics.items():
                mean, low, high = mean_ci(values, level)
                rows.append(
                    {
                        "teacher": name,
                        "metric": metric,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
        return rows


def run_experiment(
    domain: Domain,
    teachers: Mapping[str, TeacherFactory] | None = None,
    n_students: int = 200,
    steps: int = 150,
    seeds: int = 10,
    model: str = "elo",
    pilot_students: int = 200,
    params: StudentParams | None = None,
    progress: Callable[[], None] | None = None,
    own_models: Mapping[str, Callable[[Domain], StudentModel]] | None = None,
) -> ExperimentResult:
    """Run every teacher on ``seeds`` independent cohorts (see the module docstring).

    ``progress`` is called once after each (seed, teacher) run. A teacher named in
    ``own_models`` is given a fresh model from its factory instead of a copy of the
    fitted ``model`` (by default, the model factories of :data:`PLANNING_TEACHERS`).
    """
    if own_models is None:
        own_models = {name: model for name, (_, model) in PLANNING_TEACHERS.items()}
    teachers = DEFAULT_TEACHERS if teachers is None else teachers
    curves: dict[str, list[np.ndarray]] = {name: [] for name in teachers}
    for seed in range(seeds):
        fitted = create_model(model, domain=domain, **_model_options(model))
        pilot = StudentPopulation(domain, pilot_students, seed=1_000_003 + seed, params=params)
        pilot_ids = [f"pilot-{n}" for n in range(pilot_students)]
        _, log = run_cohort(pilot, RandomTeacher(seed), None, steps, pilot_ids)
        fitted.fit(log)
        state = fitted.state_dict()
        for name, factory in teachers.items():
            population = StudentPopulation(domain, n_students, seed=seed, params=params)
            own = own_models.get(name)
            curve, _ = run_cohort(
                population,
                factory(domain, steps, seed),
                model_from_state(state, domain=domain) if own is None else own(domain),
                steps,
            )
            curves[name].append(curve)
            if progress is not None:
                progress()
    return ExperimentResult({name: np.array(c) for name, c in curves.items()}, steps)


def _model_options(model: str) -> dict:
    """Settings of a model for simulated courses: Elo learns an ability per skill."""
    return {"skill_ability": True} if model == "elo" else {}
