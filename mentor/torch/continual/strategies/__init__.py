"""Continual-learning strategies, one per file, each with one ``observe()``."""

from mentor.torch.continual.strategies.agem import AGEM, agem_project
from mentor.torch.continual.strategies.base import Strategy
from mentor.torch.continual.strategies.derpp import DERpp
from mentor.torch.continual.strategies.er import ER
from mentor.torch.continual.strategies.ewc import OnlineEWC, diagonal_fisher
from mentor.torch.continual.strategies.finetune import FineTune
from mentor.torch.continual.strategies.gdumb import GDumb
from mentor.torch.continual.strategies.icarl import ICaRL, herding
from mentor.torch.continual.strategies.joint import Joint
from mentor.torch.continual.strategies.lwf import LwF, distillation
from mentor.torch.continual.strategies.scheduled import ScheduledER

__all__ = [
    "AGEM",
    "DERpp",
    "ER",
    "FineTune",
    "GDumb",
    "ICaRL",
    "Joint",
    "LwF",
    "OnlineEWC",
    "ScheduledER",
    "Strategy",
    "agem_project",
    "diagonal_fisher",
    "distillation",
    "herding",
]
