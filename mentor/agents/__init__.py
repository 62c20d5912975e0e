"""Agents as learners: ReasoningBank experience memory, memory-aware test-time scaling
and a curriculum of task families chosen by a mentor teacher.

Ouyang et al., "ReasoningBank: Scaling Agent Self-Evolving with Reasoning Memory",
ICLR 2026 (arXiv:2509.25140). Nothing in mentor's core imports this package; it needs
the ``agents`` extra (SQLAlchemy; the MiniLM embedder's weights).
"""

from mentor.agents.agent import Agent, LLMAgent, final_answer
from mentor.agents.embed import Embedder, HashingEmbedder, MiniLMEmbedder
from mentor.agents.extract import Extraction, Extractor, LLMExtractor, RawTrajectories
from mentor.agents.items import MemoryItem, Task, Trajectory
from mentor.agents.judge import CheckerJudge, Judge, LLMJudge, numeric_or_text_check
from mentor.agents.loop import Step, TaskPool, evaluate, run
from mentor.agents.memory import Consolidation, ExperienceMemory, Memory, NoMemory, Recorded
from mentor.agents.parsing import JudgeParseError, Parsed, parse_judgement, parse_memory_items
from mentor.agents.remote import RemoteMemory
from mentor.agents.scaling import TaskResult, solve
from mentor.agents.store import MemoryStore, Outcome, Stored
from mentor.agents.student import MemoryStudent, family_estimates

__all__ = [
    "Agent",
    "CheckerJudge",
    "Consolidation",
    "Embedder",
    "ExperienceMemory",
    "Extraction",
    "Extractor",
    "HashingEmbedder",
    "Judge",
    "JudgeParseError",
    "LLMAgent",
    "LLMExtractor",
    "LLMJudge",
    "Memory",
    "MemoryItem",
    "MemoryStore",
    "MemoryStudent",
    "MiniLMEmbedder",
    "NoMemory",
    "Outcome",
    "Parsed",
    "RawTrajectories",
    "Recorded",
    "RemoteMemory",
    "Step",
    "Stored",
    "Task",
    "TaskPool",
    "TaskResult",
    "Trajectory",
    "evaluate",
    "family_estimates",
    "final_answer",
    "numeric_or_text_check",
    "parse_judgement",
    "parse_memory_items",
    "run",
    "solve",
]
