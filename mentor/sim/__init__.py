"""Simulated learners, to test teachers without people."""

from mentor.sim.activation import ActivationParams, ActivationPopulation
from mentor.sim.course import make_course, make_junyi_course, prerequisite_closure
from mentor.sim.experiment import (
    DEFAULT_TEACHERS,
    PLANNING_TEACHERS,
    ExperimentResult,
    run_cohort,
    run_experiment,
)
from mentor.sim.fitted import ModelPopulation
from mentor.sim.hypercube import Hypercube
from mentor.sim.passrate import PassRateCurve, PassRateSim, run_passrate
from mentor.sim.population import StudentParams, StudentPopulation

__all__ = [
    "ModelPopulation",
    "ActivationParams",
    "ActivationPopulation",
    "DEFAULT_TEACHERS",
    "PLANNING_TEACHERS",
    "ExperimentResult",
    "Hypercube",
    "PassRateCurve",
    "PassRateSim",
    "StudentParams",
    "StudentPopulation",
    "make_course",
    "make_junyi_course",
    "prerequisite_closure",
    "run_cohort",
    "run_experiment",
    "run_passrate",
]
