"""Prerequisite-aware Bayesian knowledge tracing in the spirit of PSI-KT
(Zhou et al., ICLR 2024): :class:`PSIKT`, model name ``"psikt"``."""

from mentor.students.prereq.model import PSIKT

__all__ = ["PSIKT"]
