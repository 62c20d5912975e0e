"""Look-ahead for the logistic student models: one more attempt, simulated by each
model's own update rule, for model-based teachers (:class:`mentor.teachers.ExpectedGain`).

These models keep no latent "known" state, so an item's mastery is what the model
reports for it: the predicted probability of a right answer now. ``if_correct`` and
``if_wrong`` are the same prediction after the model has counted one more right or
wrong answer at the item (see :class:`mentor.students.LookAhead`).

* PFA (Pavlik, Cen and Koedinger 2009): with ``x`` the item's logit (summed over its
  skills), a right answer adds ``sum_s gamma_s`` and a wrong one ``sum_s rho_s``:
  ``if_correct = sigma(x + sum gamma)``, ``if_wrong = sigma(x + sum rho)``. The
  expected gain ``p sigma(x + sum gamma) + (1 - p) sigma(x + sum rho) - p`` is
  largest where success teaches most and is likely.
* Elo (Pelanek 2016): an answer with error ``e = o - p`` moves the logit by
  ``K(n_l) e`` (the learner's ability), ``K(n_i) e`` (the item's difficulty, which
  falls when the item is answered right) and, with per-skill abilities,
  ``sum_s K(n_ls) e / |skills|^2`` (each skill's ability moves by
  ``K(n_ls) e / |skills|`` and the item reads their mean). Elo's update is a
  martingale in the logit under its own prediction, so its expected gain is the
  curvature term alone: small, positive below p = 1/2 and negative above. Elo
  models ability, not learning; it plans poorly, but it can be asked.
* LevelBKT (:mod:`mentor.students.level_bkt`, a skill's levels as one chain of
  knowledge states): the learner's belief over the highest known level of each of the
  item's skills is filtered and moved by one learning step, as the model's update does
  (:func:`level_bkt_lookahead`); the item's mastery is ``P(k >= its level)``, and the
  expected gain ``P(k = level - 1) learn``, learning at the fringe.
* PSI-KT (the prerequisite-aware filter of :mod:`mentor.students.prereq`, after Zhou
  et al., ICLR 2024): the learner's belief is copied and the answer filtered into
  the copy by the model's own update, then the item is predicted again at the same
  time (:func:`psikt_lookahead`): the gain counts the practice gain ``eta_k`` and
  what the answer says about the learner's ability and learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from mentor.students.base import LookAhead

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from mentor.students.elo import Elo
    from mentor.students.level_bkt import LevelBKT
    from mentor.students.pfa import PFA
    from mentor.students.prereq.model import PSIKT


def pfa_lookahead(model: PFA, learner: Any, items: Iterable[Any]) -> LookAhead:
    """One more attempt at each item under PFA (see the module docstring)."""
    items = list(items)
    out = np.empty((3, len(items)))
    for n, item in enumerate(items):
        skills = model.skills_of(item)
        logit = sum(model._skill_logit(learner, s) for s in skills)
        right = wrong = 0.0
        for s in skills:
            k = model._skill_index.get(s)
            if k is not None:  # an unfitted skill's coefficients are all 0
                right += float(model.gamma_[k])
                wrong += float(model.rho_[k])
        out[:, n] = (logit, logit + right, logit + wrong)
    p = expit(out[0])
    return LookAhead(p, p.copy(), expit(out[1]), expit(out[2]))


def elo_lookahead(model: Elo, learner: Any, items: Iterable[Any]) -> LookAhead:
    """One more attempt at each item under Elo (see the module docstring)."""
    items = list(items)
    logits = model._logits(learner, items)
    p = expit(logits)
    step = np.empty(len(items))
    k_learner = model._k(model.learner_count_.get(learner, 0))
    for n, item in enumerate(items):
        total = k_learner + model._k(model.item_count_.get(item, 0))
        if model.skill_ability:
            skills = model.skills_of(item)
            total += (
                math.fsum(model._k(model.skill_count_.get((learner, s), 0)) for s in skills)
                / len(skills) ** 2
            )
        step[n] = total
    # error e = 1 - p after a right answer, -p after a wrong one
    return LookAhead(p, p.copy(), expit(logits + step * (1.0 - p)), expit(logits - step * p))


def level_bkt_lookahead(model: LevelBKT, learner: Any, items: Iterable[Any]) -> LookAhead:
    """One more attempt at each item under LevelBKT (see the module docstring). Mastery
    and its updates are products over the item's skills; ``skill_weight`` is 1 for an
    item on its skill's top level and 0 below: only an attempt there can raise
    ``P(k = L)``, the skill's reported mastery, in expectation."""
    items = list(items)
    out = np.ones((5, len(items)))
    for n, item in enumerate(items):
        for skill in model.skills_of(item):
            belief = model.belief(learner, skill)
            j, top = model.level(skill, item)
            known, right = model.success(learner, skill, item)
            out[0, n] *= right
            out[1, n] *= known
            out[2, n] *= float(model.step(belief, skill, j, 1.0)[j:].sum())
            out[3, n] *= float(model.step(belief, skill, j, 0.0)[j:].sum())
            out[4, n] *= float(j == top)
    return LookAhead(out[0], out[1], out[2], out[3], out[4])


def psikt_lookahead(model: PSIKT, learner: Any, items: Iterable[Any], t: float | None) -> LookAhead:
    """One more attempt at each item at time ``t`` under the PSI-KT-style filter: the
    learner's belief is copied once per item and outcome (2 x items rows), the answer
    is filtered into each copy (:func:`mentor.students.prereq._filter.run`: the
    Kalman-style update of the traits and of the skill's knowledge, plus the skill's
    practice gain), and each copy predicts its item again at ``t``. The model is not
    changed; O(items x skills) memory, one vectorised filter step."""
    from mentor.students.prereq._filter import FilterState, prior, run

    items = list(items)
    p = model.predict(learner, items, t)  # checks t against the learner's clock
    index = model._items(items)
    n = index.size
    if n == 0:
        return LookAhead(p, p.copy(), p.copy(), p.copy())
    state, row = model._filter_of(learner)
    if t is None:
        clock = float(state.clock[row])
        t = clock if math.isfinite(clock) else 0.0
    pick = np.full(2 * n, row)
    copies = FilterState(*(getattr(state, f.name)[pick].copy() for f in fields(FilterState)))
    rows = np.arange(2 * n)
    item = np.tile(index, 2)
    skill = model.item_skill_[item]
    time = np.full(2 * n, float(t))
    outcome = np.r_[np.ones(n), np.zeros(n)]
    run(model.params_, model.graph_, copies, rows, skill, item, time, outcome, [rows])
    after = prior(
        model.params_, model.graph_, copies, rows, skill, model.params_.difficulty[item], time
    ).p
    return LookAhead(p, p.copy(), after[:n], after[n:])
