"""A mentor teacher behind verl 0.9's replay-buffer sampler hook.

verl 0.9 (``verl.trainer.ppo.v1``) writes every rollout into a TransferQueue store; before
each training step its replay buffer (``verl.trainer.ppo.v1.replay_buffer.ReplayBuffer``,
``ReplayBufferAsync`` for the asynchronous trainers) waits until ``batch_size`` prompt groups
have finished and takes the oldest of them (``_select_prompt_uids``). A run swaps the buffer
class for its own with

.. code-block:: yaml

    trainer:
      v1:
        sampler:
          custom_sampler:
            path: pkg://mentor.rl.verl_replay
            name: MentorReplayBuffer        # MentorReplayBufferAsync for the async trainers
          sampler_kwargs:
            teacher: {name: sec, params: {temperature: 0.5}}
            arm_key: extra_info.level        # optional: the teacher weighs levels, not prompts
            id_key: index                    # default: verl's prompt id (extra_info.index)
            score_key: reward                # default: the summed rm_scores of a trajectory
            reward_range: [0, 1]
            seed: 0

verl builds the class with ``trainer_mode``, ``trainer_config``, ``max_off_policy_threshold``,
``max_off_policy_strategy``, ``sampler_kwargs`` and ``refill_fn`` (``PPOTrainer.
_build_replay_buffer``) and calls ``sample(global_steps, partition_id, batch_size)``. Everything
of verl's buffer is kept (waiting, off-policy eviction, failed groups, materialising the
batch); only the choice among the finished training groups changes:

- the teacher *observes* each finished group once, when it first becomes sampleable: one event
  per trajectory, item the group's prompt id (``id_key``, verl's ``index``) or its arm
  (``arm_key``, a trajectory field or ``field.key`` inside one, e.g. ``extra_info.level``),
  outcome the reward mapped to [0, 1] by ``reward_range`` and the group-relative advantage
  (see :func:`mentor.rl._draws.rollout_events`), time the global step. The reward is the sum of
  the trajectory's ``rm_scores`` (verl's canonical pre-KL reward, as its DAPO filter reads
  it), or ``reward_extra_info[score_key]`` of its ``extra_fields``. Rewards must exist when
  the buffer samples, as for verl's own group filter: a rule-based reward, or a reward model
  with its own resource pool;
- the teacher *weighs* them: over arms, ``teacher.select_slots(0, arms, batch_size, t)`` fills
  the batch's slots and each slot takes the oldest unused group of its arm; over prompts,
  ``teacher.select(0, prompt_ids, batch_size, t)`` names the prompts whose groups are taken.
  Slots left open (an arm with no group left, a teacher that returned fewer) take the oldest
  remaining groups, as verl's own rule does; :attr:`GroupChoice.filled_` counts them.

What it can choose from is what has finished: in the synchronous trainer that is usually one
training batch of groups (so the teacher mostly learns, and chooses only where more groups
finished than a step takes); the asynchronous trainers keep more in flight
(``num_warmup_batches``, staleness windows), and the choice among them is the teacher's.
Validation batches are left to verl.

Unlike verl 0.5-0.7's curriculum sampler (:mod:`mentor.rl.verl_sampler`), this hook does not
choose the prompts to generate: 0.9's dataloader sampler (``create_rl_sampler``) takes no
custom class. The library-free part is :class:`GroupChoice`; the two buffer classes exist
when verl 0.9 is importable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mentor._checks import plain
from mentor.errors import DataError, ParameterError
from mentor.rl._draws import rollout_events
from mentor.teachers import teacher_class
from mentor.teachers.base import Teacher

try:  # verl 0.9
    from verl.trainer.ppo.v1 import replay_buffer as _verl_buffer
except ImportError:  # verl absent, or a release without the v1 replay buffer
    _verl_buffer = None


@dataclass
class Group:
    """A finished prompt group: its uid, the teacher's item (None for a group with no
    trajectory) and one reward per trajectory."""

    uid: str
    item: Any = None
    rewards: np.ndarray = field(default_factory=lambda: np.zeros(0))


class GroupChoice:
    """A teacher choosing a batch among finished rollout groups, and observing their rewards.

    Parameters
    ----------
    teacher
        Any :class:`~mentor.teachers.base.Teacher`.
    over_arms
        Whether a group's item is an arm (slots drawn with repetition by
        :meth:`~mentor.teachers.base.Teacher.select_slots`) or a prompt id (distinct prompts
        chosen by ``select``).
    learner
        The learner id of the events. Default 0.
    reward_range
        ``(low, high)``: a reward becomes ``(r - low) / (high - low)``, clipped to [0, 1].
    """

    def __init__(
        self,
        teacher: Teacher,
        over_arms: bool = False,
        learner: Any = 0,
        reward_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        if not isinstance(teacher, Teacher):
            raise ParameterError(
                "must be a mentor Teacher", field="teacher", value=type(teacher).__name__
            )
        low, high = (float(x) for x in reward_range)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ParameterError("needs low < high", field="reward_range", value=reward_range)
        self.teacher = teacher
        self.over_arms = bool(over_arms)
        self.learner = learner
        self.reward_range = (low, high)
        self.filled_ = 0
        self.observed_ = 0

    def observe(self, groups: Sequence[Group], t: float) -> None:
        """Hand the teacher every trajectory of ``groups`` (groups without an item or rewards
        are left out), in one call."""
        items: list[Any] = []
        index: list[int] = []
        rewards: list[np.ndarray] = []
        for i, group in enumerate(groups):
            if group.item is None or not group.rewards.size:
                continue
            items += [group.item] * group.rewards.size
            index += [i] * group.rewards.size
            rewards.append(group.rewards)
        if not items:
            return
        reward = np.concatenate(rewards)
        self.teacher.observe(
            rollout_events(self.learner, items, index, reward, t, self.reward_range)
        )
        self.observed_ += len(set(index))

    def choose(self, groups: Sequence[Group], k: int, t: float | None = None) -> list[str]:
        """The uids of ``k`` groups (all of them if fewer), ``groups`` given oldest first."""
        if k >= len(groups):
            return [g.uid for g in groups]
        queues: dict[Any, list[Group]] = {}
        for group in groups:
            if group.item is not None:
                queues.setdefault(group.item, []).append(group)
        chosen: list[str] = []
        if queues:
            items = list(queues)
            if self.over_arms:
                picks = self.teacher.select_slots(self.learner, items, k, t)
            else:
                picks = self.teacher.select(self.learner, items, k, t)
            for item in picks:
                queue = queues.get(plain(item))
                if queue:
                    chosen.append(queue.pop(0).uid)
        taken = set(chosen)
        for group in groups:
            if len(chosen) >= k:
                break
            if group.uid not in taken:
                chosen.append(group.uid)
                taken.add(group.uid)
                self.filled_ += 1
        return chosen


def _path(key: str) -> tuple[str, list[str]]:
    """A trajectory field and the keys inside it: ``extra_info.level`` -> extra_info, [level]."""
    parts = str(key).split(".")
    if not all(parts):
        raise ParameterError("must be a field or field.key", field="key", value=key)
    return parts[0], parts[1:]


def _value(raw: Any, keys: Sequence[str], name: str) -> Any:
    """One trajectory's value of a field path, as a plain scalar."""
    value = getattr(raw, "data", raw)  # tensordict's NonTensorData holds it in .data
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            raise DataError(f"a trajectory has no {name!r}", field=name)
        value = getattr(value[key], "data", value[key])
    if getattr(value, "ndim", None) == 0:
        value = value.item()  # a 0-d tensor or array
    return plain(value)


def _reward(raw: Any, score_key: str) -> float:
    """A trajectory's reward: its summed ``rm_scores``, or a ``reward_extra_info`` entry."""
    if score_key == "reward":
        return float(raw.sum().item())
    extra = getattr(raw, "data", raw)
    info = extra.get("reward_extra_info", {}) if isinstance(extra, Mapping) else {}
    if score_key not in info:
        raise DataError(
            "a trajectory has no such reward_extra_info", field="score_key", value=score_key
        )
    return float(info[score_key])


def _option(options: Any, key: str, default: Any = None) -> Any:
    if options is None:
        return default
    getter = getattr(options, "get", None)
    return getter(key, default) if getter is not None else default


class _TeacherChoice:
    """What the mentor buffers add to verl's: the teacher's choice among finished groups."""

    # set by verl's ReplayBuffer.__init__ and _sync_metadata_from_transfer_queue
    sampler_kwargs: Any
    partitions: dict[str, dict[str, dict[str, Any]]]
    prompt_global_steps: dict[str, dict[str, int]]

    def __init__(self, *args: Any, teacher: Teacher | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.sampler_kwargs
        if teacher is None:
            spec = _option(options, "teacher")
            if spec is None:
                raise ParameterError(
                    "give trainer.v1.sampler.sampler_kwargs.teacher: {name: ..., params: {...}}",
                    field="teacher",
                )
            params = dict(_option(spec, "params", None) or {})
            params.setdefault("seed", _option(options, "seed"))
            teacher = teacher_class(str(_option(spec, "name")))(**params)
        arm_key = _option(options, "arm_key")
        self.id_path = _path(_option(options, "id_key", "index"))
        self.arm_path = None if arm_key is None else _path(arm_key)
        self.score_key = str(_option(options, "score_key", "reward"))
        reward_range = tuple(_option(options, "reward_range", None) or (0.0, 1.0))
        self.choice = GroupChoice(teacher, arm_key is not None, reward_range=reward_range)
        self.groups_: dict[str, Group] = {}
        self.global_steps_ = 0

    # super() below is verl's buffer, the other base of the classes at the end of the module;
    # mypy does not see it (verl is untyped and optional), hence the ignores.
    def sample(self, global_steps: int, partition_id: str, batch_size: int) -> Any:
        self.global_steps_ = int(global_steps)
        return super().sample(global_steps, partition_id, batch_size)  # type: ignore[misc]

    def _select_prompt_uids(
        self, partition_id: str, sampleable_keys: set[str], batch_size: int
    ) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, int]]:
        if partition_id != "train":
            return super()._select_prompt_uids(  # type: ignore[misc,no-any-return]
                partition_id, sampleable_keys, batch_size
            )
        steps = dict(self.prompt_global_steps[partition_id])
        snapshot = dict(self.partitions[partition_id])
        order = sorted(sampleable_keys, key=lambda uid: (steps.get(uid, 0), uid))
        t = float(self.global_steps_)
        fresh = self._read_groups(
            partition_id, [uid for uid in order if uid not in self.groups_], snapshot
        )
        self.choice.observe(fresh, t)
        # groups seen before and still sampleable, and the new ones (each observed once)
        known = {uid: self.groups_[uid] for uid in order if uid in self.groups_}
        known.update((group.uid, group) for group in fresh)
        chosen = self.choice.choose([known[uid] for uid in order], batch_size, t)
        for uid in chosen:
            del known[uid]
        self.groups_ = known
        return chosen, snapshot, steps

    def _read_groups(
        self, partition_id: str, uids: Sequence[str], snapshot: Mapping[str, dict[str, Any]]
    ) -> list[Group]:
        """Item and rewards of each new group, read from TransferQueue."""
        groups = {uid: Group(uid) for uid in uids}
        keys = [key for key in snapshot if key.split("_")[0] in groups]
        if not keys:
            return list(groups.values())
        id_field, id_keys = self.arm_path if self.arm_path is not None else self.id_path
        score_field = "rm_scores" if self.score_key == "reward" else "extra_fields"
        data = _verl_buffer.tq.kv_batch_get(
            keys=keys, partition_id=partition_id, select_fields=sorted({id_field, score_field})
        )
        items = list(data[id_field])
        scores = list(data[score_field])
        rewards: dict[str, list[float]] = {}
        for key, raw_item, raw_score in zip(keys, items, scores, strict=True):
            uid = key.split("_")[0]
            item = _value(raw_item, id_keys, ".".join([id_field, *id_keys]))
            if groups[uid].item is None:
                groups[uid].item = item
            rewards.setdefault(uid, []).append(_reward(raw_score, self.score_key))
        for uid, values in rewards.items():
            groups[uid].rewards = np.asarray(values, dtype=float)
        return list(groups.values())


class _VerlMissing:
    """Stands in for verl's buffers where verl 0.9 cannot be imported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            "mentor.rl.verl_replay needs verl 0.9 (verl.trainer.ppo.v1.replay_buffer and its "
            "TransferQueue); for verl 0.5-0.7 use mentor.rl.verl_sampler"
        )


_SYNC: type = _verl_buffer.ReplayBuffer if _verl_buffer is not None else _VerlMissing
_ASYNC: type = _verl_buffer.ReplayBufferAsync if _verl_buffer is not None else _VerlMissing


class MentorReplayBuffer(_TeacherChoice, _SYNC):
    """verl 0.9's synchronous ``ReplayBuffer`` whose training batches a mentor teacher chooses
    (see the module docstring). ``teacher=`` gives a teacher object instead of
    ``sampler_kwargs.teacher``."""


class MentorReplayBufferAsync(_TeacherChoice, _ASYNC):
    """verl 0.9's ``ReplayBufferAsync`` (asynchronous trainers) whose training batches a mentor
    teacher chooses (see the module docstring)."""
