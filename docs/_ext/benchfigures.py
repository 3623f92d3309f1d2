"""Figures on the docs pages come from the benchmark CSVs in ``docs/_static``, never by hand.

``:bench:`case|dtype|cache``` (optionally ``|label words``) renders a row's ratio ("1.77x");
``:bench-compile:`case|dtype``` the compile time of a fit (cold minus warm skmlp seconds,
"0.69 s"); ``.. bench-table::`` with ``:cases:`` renders those cases' rows as a table. A
reference that matches no row, or several, fails the build (and ``tests/test_docs_figures.py``
checks the pages' hand-written figures against the same CSVs).
"""

import csv
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

STATIC = Path(__file__).resolve().parents[1] / "_static"


def rows(name="benchmarks.csv"):
    with open(STATIC / name, newline="") as f:
        return list(csv.DictReader(f))


def find(reference):
    """The one benchmark row ``case|dtype|cache[|words in its label]`` names."""
    parts = [p.strip() for p in reference.split("|")]
    case, dtype, cache = (parts + ["", "", ""])[:3]
    words = parts[3].lower().split() if len(parts) > 3 else []
    found = [r for r in rows() if r["case"] == case and (not dtype or r["dtype"] == dtype)
             and (not cache or r["cache"] == cache)
             and all(w in r["label"].lower() for w in words)]
    if len(found) != 1:
        raise ValueError(f"benchmark reference {reference!r} matches {len(found)} rows of "
                         f"docs/_static/benchmarks.csv (it must match exactly one)")
    return found[0]


def ratio_text(row):
    return f"{float(row['ratio']):.2f}x"


def _role(fn):
    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        try:
            return [nodes.Text(fn(text))], []
        except (ValueError, KeyError) as exc:
            msg = inliner.reporter.error(str(exc), line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return role


def _seconds(value):
    value = float(value)
    return f"{value * 1e3:.3g} ms" if value < 0.01 else f"{value:.3g} s"


def compile_seconds(reference):
    case, dtype = (reference.split("|") + [""])[:2]
    cold, warm = find(f"{case}|{dtype}|cold"), find(f"{case}|{dtype}|warm")
    return float(cold["skmlp_s"]) - float(warm["skmlp_s"])


class BenchTable(Directive):
    """The rows of some cases: workload, scikit-learn's time, skmlp's, and the ratio."""

    option_spec = {"cases": directives.unchanged_required, "only": directives.unchanged}

    def run(self):
        cases = [c.strip() for c in self.options["cases"].split(",")]
        words = self.options.get("only", "").lower().split()
        selected = [r for c in cases for r in rows() if r["case"] == c
                    and all(w in r["label"].lower() for w in words)]
        if not selected:
            raise self.error(f"no benchmark rows for cases {cases}")
        notes = any(r["notes"] for r in selected)
        lines = [".. list-table::", "   :header-rows: 1", "",
                 "   * - workload, skmlp settings", "     - scikit-learn", "     - skmlp",
                 "     - speed-up"] + (["     - notes"] if notes else [])
        for r in selected:
            lines += [f"   * - {r['label']}", f"     - {_seconds(r['sklearn_s'])}",
                      f"     - {_seconds(r['skmlp_s'])}", f"     - {ratio_text(r)}"]
            if notes:
                lines.append(f"     - {r['notes']}")
        machine = selected[0].get("machine", "")
        lines += ["", f"Measured on {machine} (``python asv_bench/compare.py``; "
                      "ratios are scikit-learn's time over skmlp's)."]
        node = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, node)
        return node.children


def setup(app):
    app.add_role("bench", _role(lambda text: ratio_text(find(text))))
    app.add_role("bench-compile", _role(lambda text: f"{compile_seconds(text):.2f} s"))
    app.add_directive("bench-table", BenchTable)
    return {"parallel_read_safe": True}
