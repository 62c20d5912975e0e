"""Parsing model answers: memory items in ReasoningBank's markdown format, and judge
verdicts.

The extraction prompts ask for items in the format of Ouyang et al. (ICLR 2026,
appendix A)::

    # Memory Item 1
    ## Title <the title>
    ## Description <one sentence>
    ## Content <1-3 sentences>

Models do not always comply. :func:`parse_memory_items` keeps every well-formed item
and skips each malformed one with a reason; it never raises on model output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mentor.errors import MentorError

_ITEM = re.compile(r"^[ \t]*#[ \t]*memory[ \t]+item\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_SECTION = re.compile(
    r"^[ \t]*##[ \t]*(title|description|content)\b[ \t]*:?[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE
)
_ANY_HEADER = re.compile(r"^[ \t]*#", re.MULTILINE)
#: Longest field accepted, in characters (a title is a name, content 1-3 sentences).
LIMITS = {"title": 200, "description": 600, "content": 1500}


@dataclass(frozen=True)
class Draft:
    """A parsed item before it is stored."""

    title: str
    description: str
    content: str


@dataclass
class Parsed:
    """The items parsed from one answer, and why the others were skipped
    (``"item 2: no '## Content' section"``)."""

    items: list[Draft] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class JudgeParseError(MentorError):
    """A judge answer without a recognisable ``Status: success|failure`` verdict."""


def _sections(block: str) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    problems = []
    matches = list(_SECTION.finditer(block))
    for i, match in enumerate(matches):
        name = match.group(1).lower()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(block)
        rest = block[match.end() : end]
        stop = _ANY_HEADER.search(rest)  # an unknown '## Something' ends the section
        if stop:
            rest = rest[: stop.start()]
        text = " ".join((match.group(2) + "\n" + rest).split())
        if name in found:
            problems.append(f"two '## {name.title()}' sections")
        found[name] = text
    return found, problems


def parse_memory_items(text: str, max_items: int = 3) -> Parsed:
    """The memory items in a model's answer.

    Parameters
    ----------
    text
        The answer. Anything before the first ``# Memory Item`` header (reasoning) is
        ignored.
    max_items
        Items kept at most; later ones are skipped. Default 3, the paper's limit.

    Returns
    -------
    Parsed
        The well-formed items, in order, and one reason per skipped item. An item is
        skipped when a section is missing, empty, repeated or over its length limit
        (:data:`LIMITS`).
    """
    result = Parsed()
    if not isinstance(text, str) or not text.strip():
        result.skipped.append("empty answer")
        return result
    headers = list(_ITEM.finditer(text))
    if not headers:
        result.skipped.append("no '# Memory Item' header in the answer")
        return result
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        found, problems = _sections(text[header.end() : end])
        for name in ("title", "description", "content"):
            if name not in found:
                problems.append(f"no '## {name.title()}' section")
            elif not found[name]:
                problems.append(f"empty '## {name.title()}' section")
            elif len(found[name]) > LIMITS[name]:
                problems.append(f"'## {name.title()}' longer than {LIMITS[name]} characters")
        if not problems and len(result.items) >= max_items:
            problems.append(f"more than {max_items} items")
        if problems:
            result.skipped.append(f"item {i + 1}: " + "; ".join(problems))
        else:
            result.items.append(Draft(found["title"], found["description"], found["content"]))
    return result


_STATUS = re.compile(r"status\s*[:=]\s*[\"'*`]*\s*(success|failure)\b", re.IGNORECASE)


def parse_judgement(text: str) -> bool:
    """A judge's verdict: True for ``Status: success``, False for ``Status: failure``
    (the last such line counts; quotes and markdown emphasis are allowed).

    Raises
    ------
    JudgeParseError
        When the answer has no such line.
    """
    verdicts = _STATUS.findall(text or "")
    if not verdicts:
        snippet = " ".join((text or "").split())[-120:]
        raise JudgeParseError(f"judge answer has no 'Status: success|failure' line: {snippet!r}")
    return verdicts[-1].lower() == "success"
