"""Quality parity with scikit-learn on digits (the full table: asv_bench/parity.py)."""

import importlib.util
from pathlib import Path

import pytest

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
    # float64 data trains in float64 and reproduces scikit-learn's fit: the same scores
    assert ours == pytest.approx(sk, abs=1e-12)
    assert ours > 0.95
