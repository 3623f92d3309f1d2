"""Every figure the README and the docs quote comes from the benchmark CSVs in docs/_static.

Pages render figures from the CSVs with the ``:bench:`` and ``:bench-compile:`` roles and the
``bench-table`` directive (``docs/_ext/benchfigures.py``); this test resolves every such
reference, and fails on any speed-up ratio written by hand ("1.8x") that no CSV row gives at
the precision quoted.
"""

import csv
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.rst")),
         *sorted((ROOT / "examples").rglob("*.py")), *sorted((ROOT / "examples").rglob("*.rst"))]
RATIO = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)x(?![\w])")
ROLE = re.compile(r":bench(-compile)?:`([^`]+)`")


def _bench_module():
    spec = importlib.util.spec_from_file_location("benchfigures",
                                                  ROOT / "docs" / "_ext" / "benchfigures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measured_ratios():
    """Every ratio the CSVs hold (their ``ratio`` columns), and skmlp's speed-up per
    size-scaling row."""
    ratios = []
    for path in sorted(STATIC.glob("*.csv")):
        rows = list(csv.DictReader(open(path)))
        ratios += [float(r["ratio"]) for r in rows if r.get("ratio")]
    scaling = list(csv.DictReader(open(STATIC / "size_scaling.csv")))
    sk = {r["rows"]: float(r["seconds"]) for r in scaling if r["library"] == "scikit-learn"}
    ratios += [sk[r["rows"]] / float(r["seconds"]) for r in scaling
               if r["library"] != "scikit-learn"]
    return ratios


def _quoted(text):
    """(figure, decimals) of each hand-written ratio, outside roles."""
    text = ROLE.sub("", text)
    return [(float(m.group(1)), len(m.group(1).partition(".")[2])) for m in RATIO.finditer(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_quoted_ratio_is_a_measured_one(page):
    measured = _measured_ratios()
    stray = [f"{figure:.{decimals}f}x" for figure, decimals in _quoted(page.read_text())
             if not any(round(r, decimals) == figure for r in measured)]
    assert not stray, (f"{page.name} quotes {stray}, which no CSV in docs/_static gives: use "
                       f"the :bench: role, or rerun the benchmark that writes the figure")


def test_every_bench_reference_names_one_row():
    bench = _bench_module()
    references = [(m.group(1), m.group(2)) for page in PAGES
                  for m in ROLE.finditer(page.read_text())]
    assert references  # the pages do render figures from the CSVs
    for compile_figure, reference in references:
        if compile_figure:
            assert bench.compile_seconds(reference) > 0
        else:
            bench.find(reference)  # raises unless exactly one row matches


def test_the_check_catches_a_hand_written_figure():
    assert _quoted("skmlp is 123.45x faster, see :bench:`digits|auto|warm`") == [(123.45, 2)]
    assert _quoted("a 4x3 grid, 9x5 folds, (500, 500)") == []
