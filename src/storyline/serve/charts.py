"""Charts as inline SVG drawn on the server: no script, no external asset, readable without CSS.

Colours come from CSS classes (`c0`..`c7`, cycling) in the static style sheet, so the SVG carries no style
attribute (the Content-Security-Policy forbids inline styles). Every label passes through `escape`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

# Colour classes defined in static/style.css; languages beyond them reuse colours in order.
PALETTE_SIZE = 8
# At most this many bars: a longer span is drawn in buckets of several days (a story followed for a year).
MAX_BARS = 60
# The widest a bar is drawn, in SVG units: a story of one or two days keeps bars, not blocks.
SPARK_BAR = 8
CHART_BAR = 40


def _days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _buckets(days: Sequence[str]) -> list[list[str]]:
    """The days in consecutive groups, so that there are at most MAX_BARS groups."""
    size = max(1, math.ceil(len(days) / MAX_BARS))
    return [list(days[i:i + size]) for i in range(0, len(days), size)]


def _span(values: Sequence[str]) -> list[str]:
    """Every day from the first to the last of `values` (ISO dates; others are left out)."""
    valid = sorted(v for v in values if _is_day(v))
    return _days(valid[0], valid[-1]) if valid else []


def _is_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _label(days: list[str]) -> str:
    return days[0] if len(days) == 1 else f"{days[0]} – {days[-1]}"


def sparkline(volume: Sequence[dict[str, object]], width: int = 120, height: int = 28) -> Markup:
    """A small bar chart of articles per day (`[{"date", "articles"}]`), days without articles included."""
    counts = {str(v["date"]): int(str(v["articles"])) for v in volume}
    groups = _buckets(_span(list(counts)))
    if not groups:
        return Markup('<span class="nochart">undated</span>')
    totals = [sum(counts.get(d, 0) for d in g) for g in groups]
    top = max(totals) or 1
    step = min(width / len(groups), SPARK_BAR)
    bars = []
    for n, (group, total) in enumerate(zip(groups, totals, strict=True)):
        tall = max(1.0, (height - 2) * total / top) if total else 0.0
        bars.append(f'<rect class="c0" x="{n * step:.1f}" y="{height - tall:.1f}" width="{max(step - 1, 1):.1f}"'
                    f' height="{tall:.1f}"><title>{escape(_label(group))}: {total}</title></rect>')
    label = f"articles per day, {_label(groups[0])[:10]} to {groups[-1][-1]}"
    return Markup(f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
                  f' role="img" aria-label="{escape(label)}">{"".join(bars)}</svg>')


def stacked_bars(rows: Sequence[dict[str, object]], key: str = "lang", width: int = 640,
                 height: int = 180) -> Markup:
    """Articles per day stacked by `key` (`[{"date", key, "articles"}]`), with an axis and a legend."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[str(row["date"])][str(row[key])] = int(str(row["articles"]))
    groups = _buckets(_span(list(counts)))
    if not groups:
        return Markup('<p class="nochart">No dated articles.</p>')
    series = sorted({name for day in counts.values() for name in day})
    colour = {name: f"c{i % PALETTE_SIZE}" for i, name in enumerate(series)}
    totals = [{name: sum(counts.get(d, {}).get(name, 0) for d in g) for name in series} for g in groups]
    top = max(sum(t.values()) for t in totals) or 1
    plot_top, plot_bottom, left = 10, height - 24, 30
    step = min((width - left) / len(groups), CHART_BAR)
    parts = [f'<line class="axis" x1="{left}" y1="{plot_bottom}" x2="{left + len(groups) * step:.1f}"'
             f' y2="{plot_bottom}"/>',
             f'<text class="tick" x="{left - 4}" y="{plot_top + 4}" text-anchor="end">{top}</text>',
             f'<text class="tick" x="{left - 4}" y="{plot_bottom}" text-anchor="end">0</text>']
    for n, (group, total) in enumerate(zip(groups, totals, strict=True)):
        y = float(plot_bottom)
        for name in series:
            if not total[name]:
                continue
            tall = (plot_bottom - plot_top) * total[name] / top
            y -= tall
            parts.append(f'<rect class="{colour[name]}" x="{left + n * step:.1f}" y="{y:.1f}"'
                         f' width="{max(step - 2, 1):.1f}" height="{tall:.1f}"><title>{escape(_label(group))}'
                         f" · {escape(name)}: {total[name]}</title></rect>")
    parts.append(f'<text class="tick" x="{left}" y="{height - 6}">{escape(groups[0][0])}</text>')
    if len(groups) > 1:
        parts.append(f'<text class="tick" x="{left + len(groups) * step:.1f}" y="{height - 6}" text-anchor="end">'
                     f"{escape(groups[-1][-1])}</text>")
    legend = "".join(f'<li><svg class="swatch" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">'
                     f'<rect class="{colour[name]}" width="10" height="10"/></svg> {escape(name)}</li>'
                     for name in series)
    label = f"articles per day by {key}, {groups[0][0]} to {groups[-1][-1]}"
    return Markup(f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img"'
                  f' aria-label="{escape(label)}">{"".join(parts)}</svg>'
                  f'<figcaption><ul class="legend">{legend}</ul></figcaption></figure>')


def bars(volume: Sequence[dict[str, object]], count: str, width: int = 640, height: int = 140) -> Markup:
    """A bar chart of one count per day (`[{"date", count}]`) with an axis: `stacked_bars` of one series."""
    return stacked_bars([{"date": v["date"], "series": count, "articles": v[count]} for v in volume], key="series",
                        width=width, height=height)
