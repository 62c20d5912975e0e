"""The knowledge map: the prerequisite graph, coloured by mastery, as server-rendered SVG.

Layout. Skills are placed in layers, top to bottom, by
:func:`networkx.topological_generations` (a skill sits one layer below the
last of its prerequisites' layers: layer = length of the longest chain of
prerequisites above it). Within a layer, skills are ordered by the barycentre
heuristic of Sugiyama, Tagawa and Toda ("Methods for visual understanding of
hierarchical system structures", IEEE SMC 1981): each skill moves to the mean
position of its prerequisites, which removes most edge crossings, in a few
downward sweeps (ties keep the course's skill order).

Colour. Four bands of mastery, each with its own fill and a text label (not
colour alone): below 50 % "not yet", below 70 % "learning", below 85 %
"almost", from 85 % "mastered": the threshold at which mentor's mastery
teachers count a skill as mastered and open the skills after it
(:data:`mentor.teachers.mastery.MASTERY_THRESHOLD`), so the map and the
teacher agree on what is mastered.
All text is dark on a light fill (contrast above 12:1); a bar in each node
shows the mastery to the percent. The SVG is an image for assistive
technology (``role="img"`` with a title and a description); the page gives
the same data as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
from markupsafe import Markup, escape

from mentor.domain import Domain
from mentor.service.web.common import skill_name
from mentor.teachers.mastery import MASTERY_THRESHOLD

NODE_W, NODE_H = 200, 64
GAP_X, GAP_Y = 18, 44
#: Width of the slot an edge takes in a layer it passes through.
BEND_W = 8
MARGIN = 12
SWEEPS = 4


@dataclass(frozen=True)
class Band:
    name: str
    low: float
    fill: str
    ink: str


#: Mastery bands, lowest first: (name, lower bound, fill, bar and border colour).
BANDS = (
    Band("not yet", 0.0, "#f1f5f9", "#475569"),
    Band("learning", 0.5, "#fef3c7", "#92400e"),
    Band("almost", 0.7, "#dbeafe", "#1d4ed8"),
    Band("mastered", MASTERY_THRESHOLD, "#dcfce7", "#166534"),
)
TEXT = "#0f172a"
EDGE = "#64748b"


def band(mastery: float | None) -> Band:
    """The band of a mastery value (``not yet`` for None)."""
    found = BANDS[0]
    for b in BANDS:
        if mastery is not None and mastery >= b.low:
            found = b
    return found


@dataclass(frozen=True)
class _Bend:
    """A point where an edge crosses a layer it skips (a "dummy node" of Sugiyama et al.)."""

    edge: tuple[Any, Any]
    layer: int


@dataclass
class Layout:
    """Where everything goes: the skills per layer (in order), the centre x of every
    skill and bend, each edge's chain of nodes, and the drawing's size."""

    rows: list[list[Any]]
    x: dict[Any, float]
    layer: dict[Any, int]
    chains: dict[tuple[Any, Any], list[Any]]
    width: float
    height: float

    def top(self, layer: int) -> float:
        return MARGIN + layer * (NODE_H + GAP_Y)


def layout(domain: Domain) -> Layout:
    """The layered layout (see the module docstring). Edges that skip layers get a
    bend in each layer they cross, ordered with the skills, so they pass between
    boxes instead of through them."""
    graph = domain.graph
    index = {s: k for k, s in enumerate(domain.skills)}
    generations = [sorted(g, key=index.__getitem__) for g in nx.topological_generations(graph)]
    layer: dict[Any, int] = {s: d for d, g in enumerate(generations) for s in g}
    rows: list[list[Any]] = [list(g) for g in generations]
    above: dict[Any, list[Any]] = {}
    below: dict[Any, list[Any]] = {}
    chains: dict[tuple[Any, Any], list[Any]] = {}
    for u, v in graph.edges:
        bends = [_Bend((u, v), d) for d in range(layer[u] + 1, layer[v])]
        chain = [u, *bends, v]
        for bend in bends:
            layer[bend] = bend.layer
            rows[bend.layer].append(bend)
        for a, b in zip(chain, chain[1:], strict=False):
            below.setdefault(a, []).append(b)
            above.setdefault(b, []).append(a)
        chains[(u, v)] = chain
    position: dict[Any, float] = {}

    def place(row: list[Any]) -> None:
        for k, node in enumerate(row):
            position[node] = k - (len(row) - 1) / 2

    def sweep(order: list[list[Any]], neighbours: dict[Any, list[Any]]) -> None:
        for row in order:
            keys = {}
            for k, node in enumerate(row):
                near = neighbours.get(node, [])
                mean = sum(position[n] for n in near) / len(near) if near else position[node]
                keys[node] = (mean, k)
            row.sort(key=keys.__getitem__)
            place(row)

    for row in rows:
        place(row)
    for _ in range(SWEEPS):
        sweep(rows[1:], above)
        sweep(rows[-2::-1], below)
    sweep(rows[1:], above)

    def size(node: Any) -> float:
        return BEND_W if isinstance(node, _Bend) else NODE_W

    widths = [sum(size(n) for n in row) + GAP_X * max(len(row) - 1, 0) for row in rows]
    total_w = 2 * MARGIN + max(widths, default=NODE_W)
    total_h = 2 * MARGIN + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    x: dict[Any, float] = {}
    for row, row_w in zip(rows, widths, strict=True):
        left = (total_w - row_w) / 2
        for node in row:
            x[node] = left + size(node) / 2
            left += size(node) + GAP_X
    skills_only = [[n for n in row if not isinstance(n, _Bend)] for row in rows]
    return Layout(skills_only, x, layer, chains, total_w, total_h)


def layers(domain: Domain) -> list[list[Any]]:
    """Skills in layers (topological generations), each in the map's left-to-right order."""
    return layout(domain).rows


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _fit(text: str) -> str:
    """Attributes that squeeze a name too long for its box (bold 14 px: about 8.2 px a
    character) into the box's width."""
    room = NODE_W - 20
    if len(text) * 8.2 <= room:
        return ""
    return f' textLength="{room}" lengthAdjust="spacingAndGlyphs"'


def render_map(
    domain: Domain,
    mastery: Mapping[Any, float],
    highlight: Iterable[Any] = (),
    title: str = "Knowledge map",
) -> Markup:
    """The map as an inline ``<svg>`` element.

    Parameters
    ----------
    domain
        The course (its skills, their ``name`` attributes, the prerequisite graph).
    mastery
        Mastery per skill in [0, 1]; a skill not listed shows as "not yet", no value.
    highlight
        Skills to outline (the skill of the next question).
    title
        The SVG's title.
    """
    plan = layout(domain)
    total_w, total_h = plan.width, plan.height
    where = {
        skill: (plan.x[skill] - NODE_W / 2, plan.top(plan.layer[skill])) for skill in domain.skills
    }
    marked = set(highlight)
    counts = {b.name: 0 for b in BANDS}
    for skill in domain.skills:
        counts[band(mastery.get(skill)).name] += 1
    summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    out = [
        f'<svg class="kmap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w:.0f} '
        f'{total_h:.0f}" role="img" aria-labelledby="kmap-title kmap-desc">',
        f'<title id="kmap-title">{escape(title)}</title>',
        f'<desc id="kmap-desc">{len(domain.skills)} skills, prerequisites above the skills '
        f"that need them: {escape(summary)}. The table after the map lists every skill with "
        "its mastery.</desc>",
        '<defs><marker id="kmap-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{EDGE}"/></marker></defs>',
        '<g class="edges">',
    ]
    for chain in plan.chains.values():
        points = [(plan.x[chain[0]], plan.top(plan.layer[chain[0]]) + NODE_H)]
        for bend in chain[1:-1]:
            top = plan.top(bend.layer)
            points += [(plan.x[bend], top), (plan.x[bend], top + NODE_H)]
        points.append((plan.x[chain[-1]], plan.top(plan.layer[chain[-1]]) - 2))
        d = f"M {points[0][0]:.1f} {points[0][1]:.1f}"
        for k in range(1, len(points)):
            (x1, y1), (x2, y2) = points[k - 1], points[k]
            if k % 2 == 0:  # straight down through a layer the edge skips
                d += f" L {x2:.1f} {y2:.1f}"
            else:
                bend = (y2 - y1) / 2
                d += f" C {x1:.1f} {y1 + bend:.1f} {x2:.1f} {y2 - bend:.1f} {x2:.1f} {y2:.1f}"
        out.append(
            f'<path d="{d}" fill="none" stroke="{EDGE}" stroke-width="1.5" '
            'marker-end="url(#kmap-arrow)"/>'
        )
    out.append("</g>")
    for skill in domain.skills:
        x, y = where[skill]
        value = mastery.get(skill)
        b = band(value)
        name = skill_name(domain, skill)
        label = _short(name)
        shown = "no data" if value is None else f"{100 * float(value):.0f}%"
        check = " \u2713" if b.name == "mastered" else ""
        parents = [skill_name(domain, p) for p in domain.prerequisites_of(skill)]
        needs = f"; needs {', '.join(parents)}" if parents else ""
        ring = (
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="{NODE_W + 8}" height="{NODE_H + 8}" '
            f'rx="11" fill="none" stroke="{TEXT}" stroke-width="2.5" stroke-dasharray="6 4"/>'
            if skill in marked
            else ""
        )
        bar = 0.0 if value is None else max(0.0, min(1.0, float(value)))
        out.append(
            f'<g class="skill" data-skill="{escape(str(skill))}" '
            f'data-mastery="{"" if value is None else f"{float(value):.4f}"}" '
            f'data-band="{b.name}">'
            f"<title>{escape(name)}: {shown} ({b.name}){escape(needs)}</title>{ring}"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" '
            f'fill="{b.fill}" stroke="{b.ink}" stroke-width="2"/>'
            f'<text x="{x + 10:.1f}" y="{y + 22:.1f}" fill="{TEXT}" font-size="14" '
            f'font-weight="600"{_fit(label)}>{escape(label)}</text>'
            f'<text x="{x + 10:.1f}" y="{y + 41:.1f}" fill="{TEXT}" font-size="12">'
            f"{shown} \u00b7 {b.name}{check}</text>"
            f'<rect x="{x + 10:.1f}" y="{y + 49:.1f}" width="{NODE_W - 20}" height="6" rx="3" '
            f'fill="#ffffff" stroke="{b.ink}" stroke-width="0.75"/>'
            f'<rect x="{x + 10:.1f}" y="{y + 49:.1f}" width="{(NODE_W - 20) * bar:.1f}" '
            f'height="6" rx="3" fill="{b.ink}"/>'
            "</g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def skill_rows(domain: Domain, mastery: Mapping[Any, float]) -> list[dict[str, Any]]:
    """The map's data as table rows, in the map's order (layer by layer)."""
    rows = []
    for depth, row in enumerate(layers(domain)):
        for skill in row:
            value = mastery.get(skill)
            rows.append(
                {
                    "id": skill,
                    "name": skill_name(domain, skill),
                    "layer": depth + 1,
                    "mastery": value,
                    "band": band(value).name,
                    "needs": [skill_name(domain, p) for p in domain.prerequisites_of(skill)],
                }
            )
    return rows


def legend() -> list[dict[str, Any]]:
    """The bands for the map's legend: name, range and a small swatch (inline SVG)."""
    out = []
    for k, b in enumerate(BANDS):
        high = BANDS[k + 1].low if k + 1 < len(BANDS) else None
        span = f"{b.low:.0%} to {high:.0%}" if high is not None else f"{b.low:.0%} and above"
        swatch = Markup(
            '<svg class="swatch" width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">'
            f'<rect x="1" y="1" width="16" height="16" rx="3" fill="{b.fill}" stroke="{b.ink}" '
            'stroke-width="2"/></svg>'
        )
        out.append({"name": b.name, "range": span, "swatch": swatch})
    return out
