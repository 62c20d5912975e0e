"""Simulated learners, to test teachers without people."""

from mentor.sim.course import make_course
from mentor.sim.experiment import DEFAULT_TEACHERS, ExperimentResult, run_cohort, run_experiment
from mentor.sim.population import StudentParams, StudentPopulation

__all__ = [
    "DEFAULT_TEACHERS",
    "ExperimentResult",
    "StudentParams",
    "StudentPopulation",
    "make_course",
    "run_cohort",
    "run_experiment",
]
