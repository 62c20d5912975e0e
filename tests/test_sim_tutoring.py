"""Simulated learners with misconceptions (mentor.sim.misconceptions) and the ways
of answering a wrong answer compared in benchmarks/tutoring.py.

Limit cases with exact results: a learner who knows every step and never slips
answers wrong only through the misconception they hold; a law where the exposing
sub-question is always answered and always resolves it makes the Socratic arm
perfect on new items, and one where nothing resolves anything leaves showing the
answer at the post-test success of the misconception's holders (zero, where
every new question shows it).
"""

from __future__ import annotations

import numpy as np

from mentor.sim.misconceptions import (
    ARMS,
    LAWS,
    LearningLaw,
    MisconceptionLearner,
    run_arms,
    show_answer,
    single_hint,
    socratic,
)

CERTAIN = LearningLaw(
    hold=1.0,
    step_known=1.0,
    slip=0.0,
    expose_right=1.0,
    closed_right=1.0,
    step_guess=0.0,
    show=0.0,
    hint=0.0,
    discover=1.0,
    teach=0.0,
    step_learn=0.0,
)


def learner(law: LearningLaw, kind=("add_unlike", 2), seed=0) -> MisconceptionLearner:
    return MisconceptionLearner.draw(np.random.default_rng(seed), law, kind)


def test_a_learner_who_holds_a_misconception_gives_its_answer():
    a = learner(CERTAIN)
    assert a.holds in ("add_denominators", "numerators_only")
    q = a.question()
    [held] = [m for m in q.misconceptions if m.id == a.holds]
    assert a.answer(q) == held.answer and not q.check(a.answer(q))
    step = q.step(held.step)
    # the exposing sub-question answered right resolves it (discover = 1)
    assert a.answer_step(q, step, closed=False) == step.answer
    assert a.holds is None and a.answer(q) == q.answer


def test_nothing_resolves_without_learning():
    frozen = LearningLaw(
        **{**CERTAIN.__dict__, "discover": 0.0, "expose_right": 0.0, "closed_right": 0.0}
    )
    a = learner(frozen)
    q = a.question()
    show_answer(a, q, a.answer(q))
    single_hint(a, q, a.answer(q))
    result = socratic(a, q, a.answer(q))
    assert a.holds is not None
    # three tries at the exposing step, a teaching hint, then the two conversions and
    # the sum, which is the whole answer: reached with the tutor's scaffolding while
    # the misconception stays (the post-test, not "solved", is the outcome to read)
    assert result.turns == 6 and result.solved


def test_the_arms_on_limit_laws_give_exact_results():
    result = run_arms(3, 30, CERTAIN)
    assert set(result) == set(ARMS)
    assert result["socratic"]["post"] == 1.0 and result["socratic"]["solved"] == 1.0
    assert result["show answer"]["turns"] == 0 and result["single hint"]["turns"] == 1
    # show = hint = 0: the misconception stays, and it answers every new question wrong
    # unless that question has no such wrong answer (then the learner gets it right)
    assert result["show answer"]["post"] == result["single hint"]["post"] < 0.2
    # every answer is right: each step asked once at most (no siblings), then the
    # whole question; the longest question type has four steps
    assert 1.0 <= result["socratic"]["turns"] <= 5.0
    assert result["socratic, no diagnosis"]["post"] == 1.0


def test_runs_are_reproducible_and_every_law_runs():
    assert run_arms(1, 5, LAWS["equal"]) == run_arms(1, 5, LAWS["equal"])
    for law in LAWS.values():
        result = run_arms(2, 5, law)
        for values in result.values():
            assert 0.0 <= values["post"] <= 1.0 and values["turns"] >= 0


def test_a_question_kept_open_is_not_answered_as_a_closed_one():
    # The only step of "How many tens in n?" has the whole answer for its answer, so
    # its third question offers no options; a learner who answers closed questions
    # always right and open ones never must climb to the teaching hint (before,
    # the simulator took any third question for a closed one: solved in three).
    law = LearningLaw(
        **{**CERTAIN.__dict__, "discover": 0.0, "expose_right": 0.0, "closed_right": 1.0}
    )
    a = learner(law, ("place_value", 1))
    q = a.question()
    result = socratic(a, q, a.answer(q))
    # three tries at the step, the teaching hint (a nudge: the step's answer is the
    # whole answer), a wrong try at the whole question with the misconception again,
    # which reopens the step: three rounds of 3 + 1, then the solution is shown
    assert result.turns == 12 and not result.solved
