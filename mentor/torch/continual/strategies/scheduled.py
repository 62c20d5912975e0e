"""Experience replay whose choice of past task comes from one of mentor's teachers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from mentor._checks import check_count, check_number
from mentor.events import EventLog
from mentor.students.base import StudentModel
from mentor.teachers.base import Teacher
from mentor.teachers.review import PowerLawReplay
from mentor.torch.continual.buffer import ReplayBuffer
from mentor.torch.continual.strategies.base import Strategy


class ScheduledER(Strategy):
    """Reservoir experience replay where a teacher picks which past task to replay.

    Tasks are the teacher's arms and the learner is the network. Time is the
    number of training steps. At every step the teacher is asked for one of
    the tasks finished so far (``teacher.select(learner, finished, k=1, t=step,
    model)``); the replayed batch is drawn from the buffer's examples of that
    task (:meth:`ReplayBuffer.sample` with ``task``) and concatenated with the
    stream batch, as in :class:`~mentor.torch.continual.strategies.er.ER`. When
    the teacher returns nothing (a :class:`~mentor.teachers.review.DueReview`
    with nothing due), the step trains on the stream batch alone.

    What the teacher learns from: at the end of each task, one event
    ``(learner, task, step, 1.0)`` (the task was just learned), so that
    :class:`~mentor.teachers.review.PowerLawReplay` (the default) replays a task
    with probability proportional to ``(1 + age / scale) ** -decay`` of the
    steps since it was learned: recent tasks often, old ones more and more
    rarely (Wixted and Ebbesen 1991 as a replay schedule; Klasson et al. 2023).
    With a student ``model`` (for example a memory model of
    :mod:`mentor.students.memory`, driving a ``DueReview``), the model is also
    updated after each replay with the event ``(learner, task, step,
    accuracy of the network on the replayed batch)``; reading that accuracy
    synchronises with the device once per step.

    Parameters
    ----------
    net
        The network.
    teacher
        The scheduling teacher. Default ``PowerLawReplay(decay=1.0, scale=500.0,
        seed=seed)``: a task learned 500 steps ago is replayed half as often as
        one just learned (ours).
    model
        Student model passed to ``teacher.select`` and fed replay outcomes.
    buffer_size, minibatch_size, lr
        As :class:`~mentor.torch.continual.strategies.er.ER` (defaults 200, 32, 0.1).
    learner
        The learner id used in events. Default 0.
    time_scale
        Clock units per training step in events and ``t`` (default 1: time is
        the step count). Memory models count seconds; ``time_scale=864`` makes
        100 steps a day.
    **kwargs
        See :class:`Strategy`.

    Attributes
    ----------
    replays_
        Number of replay steps per task.
    step_
        Steps taken.
    """

    name = "scheduled_er"

    def __init__(
        self,
        net: nn.Module,
        teacher: Teacher | None = None,
        model: StudentModel | None = None,
        buffer_size: int = 200,
        minibatch_size: int = 32,
        lr: float = 0.1,
        learner: Any = 0,
        time_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, lr=lr, **kwargs)
        self.teacher = (
            teacher
            if teacher is not None
            else PowerLawReplay(decay=1.0, scale=500.0, seed=self.seed)
        )
        self.model = model
        self.learner = learner
        self.time_scale = check_number("time_scale", time_scale, 0.0, strict=True)
        self.minibatch_size = check_count("minibatch_size", minibatch_size, 1)
        self.buffer = ReplayBuffer(buffer_size, self.device, seed=self.seed)
        self.finished: list[int] = []
        self.replays_: dict[int, int] = {}
        self.step_ = 0

    def _event(self, task: int, outcome: float) -> EventLog:
        return EventLog(np.array([self.learner]), np.array([task]), [float(self.step_)], [outcome])

    def now(self) -> float:
        """The clock: steps taken times ``time_scale``."""
        return self.step_ * self.time_scale

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        t = self.task_ids(task, len(y))
        chosen = []
        if self.finished:
            chosen = self.teacher.select(
                self.learner, self.finished, k=1, t=self.now(), model=self.model
            )
        inputs, labels, tasks = x, y, t
        if chosen:
            replay = self.buffer.sample(self.minibatch_size, task=int(chosen[0]))
            inputs = torch.cat([x, replay.x])
            labels = torch.cat([y, replay.y])
            tasks = torch.cat([t, replay.task])
            self.replays_[int(chosen[0])] = self.replays_.get(int(chosen[0]), 0) + 1
        logits = self.forward(self.augment(inputs))
        loss = self.cross_entropy(logits, labels, tasks)
        self.step(loss)
        if chosen and self.model is not None:
            replayed = self.mask_logits(logits[len(y) :].detach(), tasks[len(y) :])
            accuracy = (replayed.argmax(1) == labels[len(y) :]).float().mean()
            self.model.update(self._event(int(chosen[0]), float(accuracy)))
        self.buffer.add(x, y, task=t)
        self.step_ += 1
        return loss.detach()

    def end_task(self, task: int, x: torch.Tensor, y: torch.Tensor) -> None:
        learned = self._event(task, 1.0)
        self.teacher.observe(learned)
        if self.model is not None:
            self.model.update(learned)
        if task not in self.finished:
            self.finished.append(task)
