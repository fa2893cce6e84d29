"""The report's importance section: one headline (the parameter the methods agree matters
most), how the methods and tuners disagree under it, then the details: the estimates per
tuner, their notes, and the chart (a PNG inside the page)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from hpo.analysis.importance_result import StudyImportance
from hpo.analysis.plots import importance_png
from hpo.analysis.report_html import element, markup, png_image, table, text
from hpo.analysis.tables import (
    TUNERS_DISAGREE,
    estimate_text,
    importance_basis,
    importance_table,
    per_tuner_table,
    tuners_disagree,
)

#: The methods, by the attribute of ParamImportance that holds each one's estimate.
METHODS = (("ped_anova", "PED-ANOVA"), ("fanova", "fANOVA"))


@dataclass(frozen=True)
class Consensus:
    """The parameter with the largest mean share over every ranking (each tuner's, each
    method's): a parameter no ranking has counts 0 in it."""

    param: str
    mean_share: float
    rankings: int  # how many rankings the mean is over


def consensus(results: Sequence[StudyImportance]) -> Consensus | None:
    shares: dict[str, list[float]] = defaultdict(list)
    rankings = 0
    for result in results:
        for attribute, _ in METHODS:
            ranking = {
                r.param: getattr(r, attribute).value
                for r in result.rows
                # A within-branch fANOVA share is of another whole: not comparable.
                if getattr(r, attribute) is not None
                and not (attribute == "fanova" and r.within_branch)
            }
            if not ranking:
                continue
            rankings += 1
            for param in {r.param for r in result.rows}:
                shares[param].append(ranking.get(param, 0.0))
    if not rankings:
        return None
    param, values = max(shares.items(), key=lambda item: (sum(item[1]), item[0]))
    return Consensus(param, sum(values) / rankings, rankings)


def importance_section(results: Sequence[StudyImportance]) -> str:
    found = consensus(results)
    parts = [element("h2", "Parameter importance")]
    if found is None:
        parts.append(element("p", "no estimate: no parameter could be ranked"))
        return "".join(parts)
    parts.append(
        markup(
            "p",
            text("Most important: "),
            element("b", found.param),
            text(f" (mean share {found.mean_share:.2f} over {_rankings(found.rankings)})"),
            css_class="headline",
        )
    )
    parts.append(markup("ul", *(element("li", line) for line in disagreement(results))))
    if len(results) > 1:
        headers, rows = per_tuner_table(results)
        parts.append(element("h3", "most important parameter per tuner") + table(headers, rows))
    for result in results:
        headers, rows = importance_table(result)
        parts.append(element("h3", f"{result.study} ({result.sampler})"))
        parts.append(element("p", importance_basis(result), "note"))
        parts.append(table(headers, rows))
        # The methods' disagreement is said under the headline already.
        notes = [*result.notes, *(f.text for f in result.flags if f.kind != "methods_disagree")]
        parts.extend(element("p", note, "note") for note in notes)
    parts.append(png_image(importance_png(results), "PED-ANOVA importance per tuner"))
    return "".join(parts)


def disagreement(results: Sequence[StudyImportance]) -> list[str]:
    """One sentence per tuner on what each method ranks first, and whether they agree."""
    lines = []
    for result in results:
        tops = [(name, result.top(attribute), attribute) for attribute, name in METHODS]
        ranked = [(name, top, attribute) for name, top, attribute in tops if top is not None]
        who = f"{result.sampler} ({result.study})" if len(results) > 1 else result.sampler
        if not ranked:
            lines.append(f"{who}: no method ranks a parameter")
        elif len({top for _, top, _ in ranked}) == 1:
            names = " and ".join(name for name, _, _ in ranked)
            both = "both rank" if len(ranked) > 1 else "ranks"
            lines.append(f"{who}: {names} {both} {ranked[0][1]} first")
        else:
            said = "; ".join(
                f"{name} ranks {top} first ({_share(result, top, attribute)})"
                for name, top, attribute in ranked
            )
            lines.append(f"{who}: the methods disagree: {said}")
    if len(results) > 1 and tuners_disagree(results):
        lines.append(TUNERS_DISAGREE)
    return lines


def _share(result: StudyImportance, param: str, attribute: str) -> str:
    row = next(r for r in result.rows if r.param == param)
    return estimate_text(getattr(row, attribute)) or "-"


def _rankings(n: int) -> str:
    return "1 ranking" if n == 1 else f"{n} rankings"
