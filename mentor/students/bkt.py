"""Bayesian Knowledge Tracing: standard, with forgetting, and pyBKT's variants.

Corbett and Anderson, "Knowledge tracing: Modeling the acquisition of
procedural knowledge", User Modeling and User-Adapted Interaction 4 (1995),
with the forgetting extension of Khajah, Lindsey and Mozer, "How deep is
knowledge tracing?", EDM 2016, and the variants of pyBKT (Badrinath, Wang and
Pardos, "pyBKT: An accessible Python library of Bayesian knowledge tracing
models", EDM 2021), each a constructor option:

``forgets``
    a forgetting probability per skill (on by default here, off in pyBKT);
``multigs``
    guess and slip per item within a skill: item difficulty, the KT-IDEM model
    of Pardos and Heffernan, "KT-IDEM: Introducing item difficulty to the
    knowledge tracing model", UMAP 2011;
``multilearn``
    learn (and forget) probability per item: the transition after an attempt
    uses the item just attempted, as pyBKT's ``multilearn`` does;
``multiprior``
    a prior per class of learner: the "prior per student" model of Pardos and
    Heffernan, "Modeling individualization in a Bayesian networks
    implementation of knowledge tracing", UMAP 2010. As in pyBKT, the class of
    a learner's sequence on a skill is read from their first event on it: by
    default (``True``) the first answer (right or wrong), as in pyBKT, or the
    value of a named extra column of the log.

Each skill is a two-state hidden Markov model (unknown, known). Before an
attempt at item i with knowledge probability p::

    P(correct) = p (1 - S_i) + (1 - p) G_i

after observing outcome o (o may be fractional, read as soft evidence)::

    posterior = p (1-S)^o S^(1-o) / [p (1-S)^o S^(1-o) + (1-p) G^o (1-G)^(1-o)]
    p_next    = posterior (1 - F_i) + (1 - posterior) T_i

with guess ``G``, slip ``S``, learn ``T`` and forget ``F`` of the skill, or of
the item under ``multigs`` / ``multilearn``; a sequence starts at the skill's
prior ``P(L0)``, or its class's prior under ``multiprior``.

Fitting is expectation-maximisation (Baum-Welch) over all sequences of all
skills at once. Every (learner, skill) sequence is packed time-major, and
sequences that begin with the same answers share one node of a prefix tree
(see :mod:`mentor.students._sequences`): one EM iteration is one vectorised
forward and one backward pass over the tree's depths, not a Python loop per
event. The forward pass filters ``p`` (one linear-fractional map per node); the
backward pass carries the smoothed P(known) of each node,
``g_t = f_t F / (1 - p_{t+1}) + g_{t+1} f_t (1 - F - p_{t+1}) / (p_{t+1} (1 - p_{t+1}))``
with ``f_t`` the filtered posterior, summed over a node's children; the
expected transition counts follow from the same sums. :meth:`BKT.update` is
O(1) per (event, skill). With ``device="cuda"`` the same E-step runs in PyTorch
on the GPU, in a logarithmic number of whole-tree steps
(:mod:`mentor.students.bkt_torch`).

An item with several skills updates each of them and is predicted as the
product of its skills' success probabilities (all skills are needed); fitting
uses every (item, skill) pair as one observation of that skill.

``grain="item"`` traces every item as its own knowledge component, as
knowledge tracing does when items are levels of a skill that are mastered one
after the other (a skill's level-1 questions before its level-3 ones); the
mastery :meth:`BKT.state` reports for a skill of the domain is then the
probability that all its items are known (the product of their P(known)), and
``state(learner)["items"]`` gives each item's.

:meth:`BKT.lookahead` simulates one more attempt at any item (the update
above, without changing the model): the hook that model-based teachers plan
with (:class:`mentor.teachers.ExpectedGain`).

Differences from pyBKT, on purpose: parameters are clipped to
[1e-6, 1 - 1e-6]; a parameter with no evidence in the data (a learn rate of an
item never followed by another attempt) keeps its value, where pyBKT sets
learn to 1 and forget to 0; under ``multiprior`` a learner's first attempt on a
skill is predicted from the skill's pooled prior (pyBKT predicts it from the
prior of the class that the same answer selects, which leaks the answer); EM
runs on all skills together and stops on the total log-likelihood (pyBKT stops
each skill when its log-likelihood, truncated to an integer, repeats). With the
same starting values and number of iterations, fitted parameters agree with
pyBKT's to 1e-5 or better (``benchmarks/bkt_vs_pybkt.py``); for ``multigs`` and
``multilearn`` with pyBKT's pure-Python build only, since the E-step of its
compiled build (1.4.3) applies the first item's guess, slip, learn and forget
to every item.

Time: BKT counts opportunities, not clock time; ``t`` in :meth:`BKT.predict`
is accepted for the common contract and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, overload

import numpy as np

from mentor._checks import check_choice, check_count, check_flag, check_number, check_unit
from mentor.devices import check_device, resolve_device
from mentor.domain import Domain
from mentor.errors import DataError, ParameterError
from mentor.events import EventLog
from mentor.students._sequences import (
    PackedSequences,
    PrefixTree,
    factorize,
    pack,
    prefix_tree,
)
from mentor.students.base import EpochCallback, LookAhead, StudentModel
from mentor.students.bkt_em import (
    EStepCounts,
    EStepEngine,
    TreeEM,
    clipped_ratio,
    forward_filter,
)

PARAMS = ("prior", "learn", "forget", "guess", "slip")
GRAINS = ("skill", "item")
ITEM_PARAMS = ("guess", "slip", "learn", "forget")
#: A prefix tree's deep tail is scanned as chains where it has at most this many
#: nodes per depth over at least this many depths (see :class:`Chains`).
CHAIN_WIDTH, CHAIN_DEPTH = 64, 16


@dataclass
class _Layout:
    """The (learner, skill) sequences of a log, packed time-major; per-slot arrays."""

    packed: PackedSequences
    skill: np.ndarray
    outcome: np.ndarray
    event: np.ndarray
    item: np.ndarray  # position in ``items``
    items: list[Any]
    learners: list[Any]

    @property
    def seq_skill(self) -> np.ndarray:
        return self.skill[: self.n_seq]

    @property
    def n_seq(self) -> int:
        return int(self.packed.active[0]) if self.packed.active.size else 0


class BKT(StudentModel):
    """Bayesian Knowledge Tracing, one hidden Markov model per skill.

    Parameters
    ----------
    domain
        Gives each item's skills; without it every item is its own skill.
    forgets
        Learn a forgetting probability (default True); if False it is 0.
    max_iter
        Most EM iterations (default 200).
    tol
        EM stops when the log-likelihood improves by less than ``tol`` times
        its absolute value (default 1e-7); a negative ``tol`` runs all
        ``max_iter`` iterations.
    init
        Starting values of the parameters, also used for skills never seen in
        fitting. Defaults: prior 0.4, learn 0.1, forget 0.05 (0 without
        ``forgets``), guess 0.2, slip 0.1.
    multigs
        Guess and slip per (skill, item) pair instead of per skill (KT-IDEM;
        default False). Items not seen in fitting use the skill's values.
    multilearn
        Learn and forget per (skill, item) pair, applied to the transition
        after an attempt at the item (default False).
    multiprior
        Prior per class of learner (default False). ``True``: the class of a
        learner's sequence on a skill is their first answer on it (``outcome >=
        0.5``), as in pyBKT; a string: the value of that extra column of the
        log at their first event on the skill. Before that first event, and for
        classes not seen in fitting, the skill's pooled prior is used.
    device
        Where the EM fit runs. ``None`` (default): NumPy on the CPU. ``"cuda"``,
        ``"cuda:N"`` or ``"cpu"``: PyTorch on that device (``mentor[torch]``;
        see :mod:`mentor.students.bkt_torch`), with the same results to
        rounding. ``"auto"``: PyTorch on CUDA when there is a GPU, else NumPy.
        Prediction and :meth:`update` always run on the CPU.
    grain
        ``"skill"`` (default): one hidden Markov model per skill of the domain.
        ``"item"``: one per item, each item its own knowledge component (see the
        module docstring); skills are then used only to report mastery.

    Attributes
    ----------
    skills_ : list
        Skills with parameters, in the order of the parameter arrays.
    prior_, learn_, forget_, guess_, slip_ : numpy.ndarray
        Parameters per skill; under a per-item or per-class variant, the
        skill's pooled estimate (used for items or classes not seen in fitting).
    pairs_ : list of (skill, item)
        Pairs with their own parameters (``multigs`` or ``multilearn``).
    item_guess_, item_slip_, item_learn_, item_forget_ : numpy.ndarray
        Per pair, for the variants that are on (empty otherwise).
    prior_classes_ : list of (skill, class)
        Classes with their own prior (``multiprior``), and ``class_prior_`` their priors.
    log_likelihood_ : float
        Training log-likelihood after fitting.
    n_iter_ : int
        EM iterations run.
    """

    name = "bkt"
    supports_lookahead = True

    # Fitted per skill (``prior_`` ...) and per (skill, item) pair (``item_guess_``
    # ...); set by name in _reset and _index, hence declared here.
    prior_: np.ndarray
    learn_: np.ndarray
    forget_: np.ndarray
    guess_: np.ndarray
    slip_: np.ndarray
    item_learn_: np.ndarray
    item_forget_: np.ndarray
    item_guess_: np.ndarray
    item_slip_: np.ndarray

    def __init__(
        self,
        domain: Domain | None = None,
        forgets: bool = True,
        max_iter: int = 200,
        tol: float = 1e-7,
        init: Mapping[str, float] | None = None,
        multigs: bool = False,
        multilearn: bool = False,
        multiprior: bool | str = False,
        device: str | None = None,
        grain: str = "skill",
    ) -> None:
        super().__init__(domain)
        self.grain = check_choice("grain", grain, GRAINS)
        self.forgets = check_flag("forgets", forgets)
        self.max_iter = check_count("max_iter", max_iter, 0)
        self.tol = check_number("tol", tol)
        self.multigs = check_flag("multigs", multigs)
        self.multilearn = check_flag("multilearn", multilearn)
        if not isinstance(multiprior, bool | str) or multiprior == "":
            raise ParameterError(
                "must be true, false or an extra column name", field="multiprior", value=multiprior
            )
        self.multiprior = multiprior
        if device is not None:
            check_device(device)
            if device == "mps":
                raise ParameterError("BKT device 'mps' is not supported: its fit needs float64")
        self.device = device
        defaults = {"prior": 0.4, "learn": 0.1, "forget": 0.05, "guess": 0.2, "slip": 0.1}
        unknown = set(init or {}) - set(PARAMS)
        if unknown:
            raise ParameterError(f"unknown BKT parameter {sorted(unknown)[0]!r}; expected {PARAMS}")
        defaults.update(init or {})
        if not self.forgets:
            defaults["forget"] = 0.0
        self.init = {key: check_unit(f"init.{key}", value) for key, value in defaults.items()}
        self._reset()

    def _reset(self) -> None:
        self.skills_: list[Any] = []
        self._skill_index: dict[Any, int] = {}
        for name in PARAMS:
            setattr(self, f"{name}_", np.zeros(0))
        self.pairs_: list[tuple[Any, Any]] = []
        self._pair_index: dict[tuple[int, Any], int] = {}
        self._pair_skill = np.zeros(0, dtype=np.int64)
        for name in ITEM_PARAMS:
            setattr(self, f"item_{name}_", np.zeros(0))
        self.prior_classes_: list[tuple[Any, Any]] = []
        self._class_index: dict[tuple[int, Any], int] = {}
        self._class_skill = np.zeros(0, dtype=np.int64)
        self.class_prior_ = np.zeros(0)
        self.knowledge_: dict[Any, dict[int, float]] = {}
        self.log_likelihood_ = math.nan
        self.n_iter_ = 0

    def get_params(self) -> dict[str, Any]:
        return {
            "forgets": self.forgets,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "init": self.init,
            "multigs": self.multigs,
            "multilearn": self.multilearn,
            "multiprior": self.multiprior,
            "device": self.device,
            "grain": self.grain,
        }

    def skills_of(self, item: Any) -> tuple[Any, ...]:
        """The knowledge components an item exercises: its skills, or itself
        with ``grain="item"``."""
        return (item,) if self.grain == "item" else super().skills_of(item)

    @property
    def _per_item(self) -> bool:
        return self.multigs or self.multilearn

    def _item_variants(self) -> tuple[str, ...]:
        return (("guess", "slip") if self.multigs else ()) + (
            ("learn", "forget") if self.multilearn else ()
        )

    # ------------------------------------------------------------- parameters
    def params(self, skill: Any, item: Any = None) -> dict[str, float]:
        """The five parameters of one skill; with ``item``, the item's own guess,
        slip, learn and forget where the model has them (``multigs``, ``multilearn``)."""
        index = self._index(skill, create=False)
        if index is None:
            return dict(self.init)
        out = {name: float(getattr(self, f"{name}_")[index]) for name in PARAMS}
        pair = self._pair_index.get((index, item)) if item is not None else None
        if pair is not None:
            for name in self._item_variants():
                out[name] = float(getattr(self, f"item_{name}_")[pair])
        return out

    def class_prior(self, skill: Any, prior_class: Any) -> float:
        """Prior of one class of learners on one skill (``multiprior``); the
        skill's pooled prior for a class not seen in fitting."""
        index = self._index(skill, create=False)
        if index is None:
            return self.init["prior"]
        c = self._class_index.get((index, prior_class))
        return float(self.prior_[index] if c is None else self.class_prior_[c])

    @overload
    def _index(self, skill: Any, create: Literal[True] = True) -> int: ...

    @overload
    def _index(self, skill: Any, create: bool) -> int | None: ...

    def _index(self, skill: Any, create: bool = True) -> int | None:
        """The position of ``skill``, added with the initial parameters when new and
        ``create`` (else None for a skill not seen)."""
        index = self._skill_index.get(skill)
        if index is None and create:
            index = len(self.skills_)
            self.skills_.append(skill)
            self._skill_index[skill] = index
            for name in PARAMS:
                setattr(self, f"{name}_", np.append(getattr(self, f"{name}_"), self.init[name]))
        return index

    def _slot_params(self, skill: np.ndarray, pair: np.ndarray) -> dict[str, np.ndarray]:
        """Guess, slip, learn and forget of each slot: the pair's own where it has
        them (``pair >= 0``), else the skill's."""
        out = {name: getattr(self, f"{name}_")[skill] for name in ITEM_PARAMS}
        known = pair >= 0
        if known.any():
            for name in self._item_variants():
                out[name][known] = getattr(self, f"item_{name}_")[pair[known]]
        return out

    # ------------------------------------------------------------- packing
    def _expand(self, log: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(event index, skill index, item position) for every (event, skill) pair
        of the log, and the distinct items."""
        items, inverse = np.unique(log.item, return_inverse=True)
        skill_lists = [[self._index(s) for s in self.skills_of(i)] for i in items.tolist()]
        counts = np.array([len(s) for s in skill_lists], dtype=np.int64)
        if np.all(counts == 1):
            flat = np.array([s[0] for s in skill_lists], dtype=np.int64)
            return np.arange(len(log)), flat[inverse], inverse, items
        flat = np.array([s for lst in skill_lists for s in lst], dtype=np.int64)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        per_event = counts[inverse]
        event = np.repeat(np.arange(len(log)), per_event)
        within = np.arange(event.size) - np.repeat(np.cumsum(per_event) - per_event, per_event)
        return event, flat[starts[inverse[event]] + within], inverse[event], items

    def _layout(self, log: EventLog) -> _Layout:
        """Pack the (learner, skill) sequences of a log (sequence keys are
        ``learner position * n_skills + skill``)."""
        event, skill, item, items = self._expand(log)
        learners, learner_code = factorize(log.learner)
        time_rank = np.empty(len(log), dtype=np.int64)
        time_rank[np.argsort(log.time, kind="stable")] = np.arange(len(log))
        n_skills = max(len(self.skills_), 1)
        keys = learner_code[event].astype(np.int64) * n_skills + skill
        packed = pack(keys, time_rank[event])

        def slots(values: np.ndarray) -> np.ndarray:
            out = np.empty(packed.n_slots, dtype=values.dtype)
            out[packed.slot_of] = values
            return out

        return _Layout(
            packed=packed,
            skill=slots(skill),
            outcome=slots(log.outcome[event]),
            event=slots(event),
            item=slots(item),
            items=items.tolist(),
            learners=learners.tolist(),
        )

    def _slot_pairs(self, layout: _Layout, create: bool) -> np.ndarray:
        """Pair index of every slot; -1 for a pair without parameters (``create`` adds them)."""
        n_items = max(len(layout.items), 1)
        keys, inverse = np.unique(layout.skill * n_items + layout.item, return_inverse=True)
        index = np.empty(keys.size, dtype=np.int64)
        for k, key in enumerate(keys.tolist()):
            skill, item = divmod(key, n_items)
            pair = (skill, layout.items[item])
            found = self._pair_index.get(pair)
            if found is None and create:
                found = len(self.pairs_)
                self._pair_index[pair] = found
                self.pairs_.append((self.skills_[skill], layout.items[item]))
            index[k] = -1 if found is None else found
        if create:
            self._pair_skill = np.array([i for i, _ in self._pair_index], dtype=np.int64)
        return index[inverse]

    def _class_values(self, events: EventLog, rows: np.ndarray) -> list[Any]:
        """The ``multiprior`` class of the given event rows."""
        if self.multiprior is True:
            classes: list[Any] = (events.outcome[rows] >= 0.5).astype(np.int64).tolist()
            return classes
        column = events.extra.get(str(self.multiprior))
        if column is None:
            raise DataError(
                "missing the column that gives each learner's prior class (multiprior)",
                field=str(self.multiprior),
            )
        values: list[Any] = np.asarray(column)[rows].tolist()
        return values

    # ------------------------------------------------------------- fitting
    def fit(self, log: EventLog, on_epoch: EpochCallback | None = None) -> Self:
        """Fit the parameters of every skill in the log by EM, then set each
        learner's knowledge to where their last attempt left it."""
        if len(log) == 0:
            raise DataError("cannot fit BKT on an empty log")
        self._reset()
        layout = self._layout(log)
        packed, n_skills = layout.packed, len(self.skills_)
        seq_skill = layout.seq_skill

        # parameter classes: per (skill, item) pair or per skill
        if self._per_item:
            slot_class = self._slot_pairs(layout, create=True)
            class_skill = self._pair_skill
            for name in ITEM_PARAMS:
                setattr(self, f"item_{name}_", np.zeros(0))
            for name in self._item_variants():
                setattr(self, f"item_{name}_", np.full(len(self.pairs_), self.init[name]))
        else:
            slot_class, class_skill = layout.skill, np.arange(n_skills)
        # prior classes: per (skill, class value) or per skill
        if self.multiprior is not False:
            values = self._class_values(log, layout.event[: layout.n_seq])
            for s, value in zip(seq_skill.tolist(), values, strict=True):
                if (s, value) not in self._class_index:
                    self._class_index[(s, value)] = len(self.prior_classes_)
                    self.prior_classes_.append((self.skills_[s], value))
            root = np.array(
                [self._class_index[key] for key in zip(seq_skill.tolist(), values, strict=True)],
                dtype=np.int64,
            )
            self._class_skill = np.array([s for s, _ in self._class_index], dtype=np.int64)
            self.class_prior_ = np.full(len(self.prior_classes_), self.init["prior"])
            n_roots = len(self.prior_classes_)
        else:
            root, n_roots = seq_skill, n_skills

        # observation codes: one per distinct (parameter class, outcome)
        outcomes, outcome_index = np.unique(layout.outcome, return_inverse=True)
        codes, slot_code = np.unique(
            slot_class * outcomes.size + outcome_index, return_inverse=True
        )
        code_class, code_outcome = codes // outcomes.size, outcomes[codes % outcomes.size]
        code_skill = class_skill[code_class]
        gs = code_class if self.multigs else code_skill
        tr = code_class if self.multilearn else code_skill

        tree = prefix_tree(packed, slot_code, root)
        engine = self._engine(tree, codes.size, n_roots)
        previous = -math.inf
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            tables = self._code_tables(gs, tr, code_outcome)
            stats = engine.e_step(*tables)
            self.n_iter_ += 1
            self._m_step(stats, engine, gs, tr, code_outcome, code_skill)
            likelihood = stats.log_likelihood
            if on_epoch is not None:
                on_epoch({"epoch": self.n_iter_, "log_likelihood": likelihood})
            if self.tol >= 0 and likelihood - previous < self.tol * abs(likelihood):
                break
            previous = likelihood
        self.log_likelihood_ = engine.forward(*self._code_tables(gs, tr, code_outcome))
        final = engine.next_knowledge(tree.last)
        for key, p in zip(packed.rank_key.tolist(), final.tolist(), strict=True):
            learner, skill = divmod(key, n_skills)
            self.knowledge_.setdefault(layout.learners[learner], {})[skill] = p
        return self

    def _engine(self, tree: PrefixTree, n_codes: int, n_roots: int) -> EStepEngine:
        """The E-step engine for ``device``: NumPy, or PyTorch on a device."""
        if self.device is None:
            return TreeEM(tree, n_codes, n_roots, self.forgets)
        try:
            import torch

            from mentor.students.bkt_torch import TorchTreeEM
        except ImportError as error:
            raise ParameterError(
                f"BKT device {self.device!r} needs PyTorch: pip install 'mentor[torch]' ({error})"
            ) from error
        if self.device == "auto" and not torch.cuda.is_available():
            return TreeEM(tree, n_codes, n_roots, self.forgets)
        device = resolve_device(self.device)
        return TorchTreeEM(tree, n_codes, n_roots, self.forgets, device)

    def _code_tables(
        self, gs: np.ndarray, tr: np.ndarray, outcome: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per observation code: emission probabilities when known and unknown,
        learn and forget; and the prior of each root class."""
        if self.multigs:
            guess, slip = self.item_guess_[gs], self.item_slip_[gs]
        else:
            guess, slip = self.guess_[gs], self.slip_[gs]
        if self.multilearn:
            learn, forget = self.item_learn_[tr], self.item_forget_[tr]
        else:
            learn, forget = self.learn_[tr], self.forget_[tr]
        ek = (1.0 - slip) ** outcome * slip ** (1.0 - outcome)
        eu = guess**outcome * (1.0 - guess) ** (1.0 - outcome)
        prior = self.class_prior_ if self.multiprior is not False else self.prior_
        return ek, eu, learn, forget, prior

    def _m_step(
        self,
        stats: EStepCounts,
        engine: EStepEngine,
        gs: np.ndarray,
        tr: np.ndarray,
        outcome: np.ndarray,
        code_skill: np.ndarray,
    ) -> None:
        """Maximisation: every parameter is a ratio of expected counts."""
        _, _, learn, forget, _ = self._code_tables(gs, tr, outcome)
        known = stats.known
        unknown = engine.code_count - known
        from_known = known - stats.ended_known  # P(known) summed where a transition follows
        from_unknown = engine.code_cont - from_known
        updates = {
            "guess": (outcome * unknown, unknown, gs, self.multigs),
            "slip": ((1.0 - outcome) * known, known, gs, self.multigs),
            "learn": (learn * (stats.ratio - stats.known_ratio), from_unknown, tr, self.multilearn),
        }
        if self.forgets:
            xi_forget = from_known - (1.0 - forget) * stats.known_ratio
            updates["forget"] = (xi_forget, from_known, tr, self.multilearn)
        n_skills = len(self.skills_)
        for name, (num, den, index, per_item) in updates.items():
            if per_item:
                n_pairs = len(self.pairs_)
                clipped_ratio(
                    getattr(self, f"item_{name}_"),
                    np.bincount(index, weights=num, minlength=n_pairs),
                    np.bincount(index, weights=den, minlength=n_pairs),
                )
            clipped_ratio(
                getattr(self, f"{name}_"),
                np.bincount(code_skill, weights=num, minlength=n_skills),
                np.bincount(code_skill, weights=den, minlength=n_skills),
            )
        if self.multiprior is not False:
            clipped_ratio(self.class_prior_, stats.root_known, engine.root_count)
            clipped_ratio(
                self.prior_,
                np.bincount(self._class_skill, weights=stats.root_known, minlength=n_skills),
                np.bincount(self._class_skill, weights=engine.root_count, minlength=n_skills),
            )
        else:
            clipped_ratio(self.prior_, stats.root_known, engine.root_count)

    # ------------------------------------------------------------- online use
    def _start(self, s: int, prior_class: Any = None) -> float:
        """P(known) at the start of a new sequence on skill ``s``."""
        if prior_class is not None:
            c = self._class_index.get((s, prior_class))
            if c is not None:
                return float(self.class_prior_[c])
        return float(self.prior_[s])

    def update(self, events: EventLog) -> None:
        """Bayesian update of each learner's knowledge, O(1) per (event, skill)."""
        classes: list[Any] = [None] * len(events)
        if self.multiprior is not False and len(events):
            classes = self._class_values(events, np.arange(len(events)))
        for learner, item, o, prior_class in zip(
            events.learner.tolist(),
            events.item.tolist(),
            events.outcome.tolist(),
            classes,
            strict=True,
        ):
            knowledge = self.knowledge_.setdefault(learner, {})
            for skill in self.skills_of(item):
                s = self._index(skill)
                p = knowledge.get(s)
                if p is None:
                    p = self._start(s, prior_class)
                guess, slip, learn, forget = self._item_params(s, item)
                known = p * (1.0 - slip) ** o * slip ** (1.0 - o)
                f = known / (known + (1.0 - p) * guess**o * (1.0 - guess) ** (1.0 - o))
                knowledge[s] = float(f * (1.0 - forget) + (1.0 - f) * learn)

    def _item_params(self, s: int, item: Any) -> tuple[float, float, float, float]:
        """Guess, slip, learn and forget for an attempt at ``item`` on skill ``s``."""
        guess, slip = float(self.guess_[s]), float(self.slip_[s])
        learn, forget = float(self.learn_[s]), float(self.forget_[s])
        pair = self._pair_index.get((s, item)) if self._per_item else None
        if pair is not None:
            if self.multigs:
                guess, slip = float(self.item_guess_[pair]), float(self.item_slip_[pair])
            if self.multilearn:
                learn, forget = float(self.item_learn_[pair]), float(self.item_forget_[pair])
        return guess, slip, learn, forget

    def knowledge(self, learner: Any, skill: Any) -> float:
        """P(known) of one skill for one learner, before their next attempt."""
        s = self._index(skill, create=False)
        if s is None:
            return self.init["prior"]
        return float(self.knowledge_.get(learner, {}).get(s, self.prior_[s]))

    def predict(self, learner: Any, items: Iterable[Any], t: float | None = None) -> np.ndarray:
        """P(success) of each item: the product over the item's skills of
        p (1 - slip) + (1 - p) guess."""
        out = []
        for item in items:
            prob = 1.0
            for skill in self.skills_of(item):
                p = self.knowledge(learner, skill)
                s = self._index(skill, create=False)
                if s is None:
                    guess, slip = self.init["guess"], self.init["slip"]
                else:
                    guess, slip, _, _ = self._item_params(s, item)
                prob *= p * (1.0 - slip) + (1.0 - p) * guess
            out.append(prob)
        return np.asarray(out, dtype=float)

    def predict_log(self, log: EventLog) -> np.ndarray:
        """Vectorised online prediction of every event from its predecessors
        (one forward pass), without changing the model."""
        if len(log) == 0:
            return np.zeros(0)
        shadow = BKT.from_state_dict(self.state_dict(), domain=self.domain)
        layout = shadow._layout(log)
        packed, n_skills = layout.packed, max(len(shadow.skills_), 1)
        seq_skill = layout.seq_skill
        pair = (
            shadow._slot_pairs(layout, create=False)
            if shadow._per_item
            else np.full(packed.n_slots, -1)
        )
        slot = shadow._slot_params(layout.skill, pair)
        pooled = shadow.prior_[seq_skill]
        start = pooled.copy()
        fresh = np.ones(layout.n_seq, dtype=bool)
        if shadow.multiprior is not False:
            values = shadow._class_values(log, layout.event[: layout.n_seq])
            start = np.array(
                [shadow._start(s, v) for s, v in zip(seq_skill.tolist(), values, strict=True)]
            )
        for rank, key in enumerate(packed.rank_key.tolist()):
            learner, skill = divmod(key, n_skills)
            known = self.knowledge_.get(layout.learners[learner])
            if known is not None and skill in known:
                start[rank] = known[skill]
                fresh[rank] = False
        prior = forward_filter(packed, start, layout.outcome, slot)
        # a new sequence's first attempt is predicted before its class is known
        first = np.flatnonzero(fresh)
        prior[first] = pooled[first]
        slot_prediction = prior * (1.0 - slot["slip"]) + (1.0 - prior) * slot["guess"]
        prediction = np.ones(len(log))
        np.multiply.at(prediction, layout.event, slot_prediction)
        return prediction

    def lookahead(self, learner: Any, items: Iterable[Any], t: float | None = None) -> LookAhead:
        """One more attempt at each item, simulated by the update rule above.

        An item's mastery is the product over its knowledge components of
        P(known); ``if_correct`` and ``if_wrong`` apply the posterior and the
        learning transition (with the item's own guess, slip, learn and forget
        where the model has them) to each component. With ``grain="item"`` and a
        domain, ``skill_weight`` is the product of P(known) of the skill's other
        items. The model is not changed.
        """
        items = list(items)
        out = np.ones((4, len(items)))
        for n, item in enumerate(items):
            for skill in self.skills_of(item):
                p = self.knowledge(learner, skill)
                s = self._index(skill, create=False)
                if s is None:
                    init = self.init
                    guess, slip, learn, forget = (init[k] for k in ITEM_PARAMS)
                else:
                    guess, slip, learn, forget = self._item_params(s, item)
                right = p * (1.0 - slip) + (1.0 - p) * guess
                known_right = p * (1.0 - slip) / right
                known_wrong = p * slip / (1.0 - right)
                out[0, n] *= right
                out[1, n] *= p
                out[2, n] *= known_right * (1.0 - forget) + (1.0 - known_right) * learn
                out[3, n] *= known_wrong * (1.0 - forget) + (1.0 - known_wrong) * learn
        weight = None
        if self.grain == "item" and self.domain is not None:
            known: dict[Any, float] = {}

            def p_known(item: Any) -> float:
                if item not in known:
                    known[item] = self.knowledge(learner, item)
                return known[item]

            domain = self.domain
            weight = np.array([self._others_known(domain, item, p_known) for item in items])
        return LookAhead(out[0], out[1], out[2], out[3], weight)

    @staticmethod
    def _others_known(domain: Domain, item: Any, p_known: Callable[[Any], float]) -> float:
        """Summed over the item's skills, the product of P(known) of the skill's
        other items (``grain="item"``): d(skill mastery) / d(P(known) of the item)."""
        found = domain.items.get(item)
        if found is None:
            return 1.0
        return float(
            sum(
                math.prod(p_known(i) for i in domain.items_of(s) if i != item) for s in found.skills
            )
        )

    def state(self, learner: Any) -> dict[str, Any]:
        """Mastery per skill: P(known) before the learner's next attempt.

        With ``grain="item"`` and a domain, a skill's mastery is the probability
        that all its items are known, the product of their P(known) (the same
        product that predicts an item needing several skills), so a skill counts
        as mastered only once every level of it is; ``"items"`` holds each item's
        P(known).
        """
        known = self.knowledge_.get(learner, {})
        if self.grain == "item" and self.domain is not None:
            items = {i: self.knowledge(learner, i) for i in self.domain.item_ids}
            mastery = {
                skill: float(np.prod([items[i] for i in self.domain.items_of(skill)]))
                for skill in self.domain.skills
                if self.domain.items_of(skill)
            }
            return {"mastery": mastery, "items": items, "practised_items": len(known)}
        skills = list(self.skills_)
        if self.domain is not None:
            skills += [s for s in self.domain.skills if s not in self._skill_index]
        return {
            "mastery": {s: self.knowledge(learner, s) for s in skills},
            "practised_skills": len(known),
        }

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        state = {
            "skills": list(self.skills_),
            **{name: getattr(self, f"{name}_").tolist() for name in PARAMS},
            "knowledge": [
                [learner, self.skills_[s], p]
                for learner, known in self.knowledge_.items()
                for s, p in known.items()
            ],
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "n_iter": self.n_iter_,
        }
        if self.pairs_:
            state["pairs"] = [list(pair) for pair in self.pairs_]
            for name in self._item_variants():
                state[f"item_{name}"] = getattr(self, f"item_{name}_").tolist()
        if self.prior_classes_:
            state["prior_classes"] = [list(c) for c in self.prior_classes_]
            state["class_prior"] = self.class_prior_.tolist()
        return state

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.skills_ = list(state["skills"])
        self._skill_index = {s: i for i, s in enumerate(self.skills_)}
        if len(self._skill_index) != len(self.skills_):
            raise ValueError("duplicate skill in state")
        for name in PARAMS:
            setattr(self, f"{name}_", _probabilities(state[name], len(self.skills_), name))
        self.pairs_ = [(skill, item) for skill, item in state.get("pairs", [])]
        for skill, item in self.pairs_:
            self._pair_index[(self._skill_index[skill], item)] = len(self._pair_index)
        if len(self._pair_index) != len(self.pairs_):
            raise ValueError("duplicate (skill, item) pair in state")
        self._pair_skill = np.array([s for s, _ in self._pair_index], dtype=np.int64)
        for name in self._item_variants() if self.pairs_ else ():
            values = _probabilities(state[f"item_{name}"], len(self.pairs_), f"item_{name}")
            setattr(self, f"item_{name}_", values)
        self.prior_classes_ = [(skill, c) for skill, c in state.get("prior_classes", [])]
        for skill, c in self.prior_classes_:
            self._class_index[(self._skill_index[skill], c)] = len(self._class_index)
        if len(self._class_index) != len(self.prior_classes_):
            raise ValueError("duplicate prior class in state")
        self._class_skill = np.array([s for s, _ in self._class_index], dtype=np.int64)
        self.class_prior_ = _probabilities(
            state.get("class_prior", []), len(self.prior_classes_), "class_prior"
        )
        for learner, skill, p in state["knowledge"]:
            self.knowledge_.setdefault(learner, {})[self._skill_index[skill]] = float(p)
        ll = state.get("log_likelihood")
        self.log_likelihood_ = math.nan if ll is None else float(ll)
        self.n_iter_ = int(state.get("n_iter", 0))


def _probabilities(values: Any, n: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (n,) or np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must hold one probability per entry ({n})")
    return array
