"""Two-step look-ahead for model-based teaching: value an item by what it opens.

The greedy (one-step) rule of :class:`mentor.teachers.ExpectedGain` picks the open
item with the largest expected gain now. It does not count that practising an item
also opens the items after it on the activity graph. Planning teaching as a POMDP
(Rafferty, Brunskill, Griffiths and Shafto, "Faster Teaching via POMDP Planning",
Cognitive Science 40(6), 2016) values an action by the expected learning over a
horizon of several actions under the learner model. This module does it for a
horizon of two attempts, in closed form, from the numbers one call of
:meth:`mentor.students.StudentModel.lookahead` returns:

``V(i) = g_i + sum_o P(o | i) max(best_i, g_i(o), max_{j opened by i, o} g_j)``

where ``o`` is the answer (right or wrong), ``g_i`` the expected gain of an attempt
at ``i`` now, ``best_i`` the largest gain among the other open items (which one
attempt at ``i`` does not change when the model traces items independently, as
``BKT(grain="item")`` does), ``g_i(o)`` the gain of a second attempt at ``i`` after
answer ``o`` (zero once ``i`` is mastered; otherwise ``g_i (1 - m_i(o)) / (1 - m_i)``,
exact for BKT without forgetting, whose gain is ``(1 - P(L)) learn``), and ``j``
ranges over the items that open when ``i``'s mastery after answer ``o`` reaches
the opening threshold and every other item before ``j`` already has.

Cost: O(candidates + activity-graph edges out of the candidates) per decision, on
top of the one look-ahead call; no simulation is repeated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def two_step_values(
    open_items: Sequence[Any],
    at: Mapping[Any, int],
    p_success: np.ndarray,
    mastery: np.ndarray,
    if_correct: np.ndarray,
    if_wrong: np.ndarray,
    gain: np.ndarray,
    after: Mapping[Any, Sequence[Any]],
    before: Mapping[Any, Sequence[Any]],
    open_threshold: float,
    threshold: float,
) -> dict[Any, float]:
    """The expected gain over two attempts when the first is at each open item.

    Parameters
    ----------
    open_items
        The items that may be chosen now.
    at
        Index of every item (open ones, and the items after them) into the arrays.
    p_success, mastery, if_correct, if_wrong, gain
        The look-ahead's arrays (:class:`mentor.students.LookAhead`) and its
        expected gain, one value per indexed item.
    after, before
        The activity graph: the items each item comes before, and after.
    open_threshold
        Mastery of every item before it at which an item opens.
    threshold
        Mastery at which an item counts as mastered (it leaves the pool).

    Returns
    -------
    dict
        ``V(i)`` for every open item (see the module docstring).
    """
    values: dict[Any, float] = {}
    gains = np.array([gain[at[i]] for i in open_items], dtype=float)
    if gains.size == 0:
        return values
    order = np.argsort(-gains, kind="stable")
    top = gains[order[0]]
    second = gains[order[1]] if gains.size > 1 else 0.0
    for n, item in enumerate(open_items):
        k = at[item]
        g, m, p = float(gain[k]), float(mastery[k]), float(p_success[k])
        best_other = second if n == order[0] else top
        value = g
        for prob, m_next in ((p, float(if_correct[k])), (1.0 - p, float(if_wrong[k]))):
            if prob <= 0.0:
                continue
            again = 0.0 if m_next >= threshold or m >= 1.0 else g * (1.0 - m_next) / (1.0 - m)
            best = max(best_other, again)
            if m_next >= open_threshold:
                for later in after.get(item, ()):
                    j = at.get(later)
                    if j is None or mastery[j] >= threshold or mastery[k] >= open_threshold:
                        # not a candidate, already mastered, or already open through item
                        continue
                    if all(mastery[at[b]] >= open_threshold for b in before[later] if b != item):
                        best = max(best, float(gain[j]))
            value += prob * best
        values[item] = value
    return values
