"""Quality parity with scikit-learn on digits (the full table: asv_bench/parity.py)."""

import importlib.util
from pathlib import Path

PARITY = Path(__file__).resolve().parents[1] / "asv_bench" / "parity.py"


def _parity_module():
    spec = importlib.util.spec_from_file_location("skmlp_parity", PARITY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_cv_accuracy_matches_scikit_learn():
    parity = _parity_module()
    sk = parity.cv_scores("digits", "scikit-learn").mean()
    ours = parity.cv_scores("digits", "skmlp").mean()
    assert ours >= sk - parity.TOLERANCE, (ours, sk)
    assert ours > 0.95
