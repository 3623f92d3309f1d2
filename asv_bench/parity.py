"""Quality parity: 5-fold CV scores of skmlp and scikit-learn with default parameters.

Run ``python asv_bench/parity.py``. Each dataset ships with scikit-learn; every model is a
``Pipeline(StandardScaler, MLP)`` with default parameters and ``random_state=0``. skmlp must
score at least scikit-learn's mean minus 0.01 on each line.
"""

import sys
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SkC, MLPRegressor as SkR
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier, MLPRegressor

DATASETS = {
    "digits": (datasets.load_digits, "accuracy"),
    "iris": (datasets.load_iris, "accuracy"),
    "breast_cancer": (datasets.load_breast_cancer, "accuracy"),
    "wine": (datasets.load_wine, "accuracy"),
    "diabetes": (datasets.load_diabetes, "r2"),
}
TOLERANCE = 0.01


def cv_scores(name, library):
    loader, scoring = DATASETS[name]
    X, y = loader(return_X_y=True)
    if scoring == "r2":
        est = MLPRegressor if library == "skmlp" else SkR
        cv = KFold(5, shuffle=True, random_state=0)
    else:
        est = MLPClassifier if library == "skmlp" else SkC
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), est(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_val_score(pipe, X, y, cv=cv, scoring=scoring)


def main(names=tuple(DATASETS)):
    print(f"{'dataset':<15}{'metric':<10}{'scikit-learn':>14}{'skmlp':>10}{'diff':>9}  ok")
    all_ok = True
    for name in names:
        sk = cv_scores(name, "scikit-learn").mean()
        ours = cv_scores(name, "skmlp").mean()
        ok = ours >= sk - TOLERANCE
        all_ok &= ok
        print(f"{name:<15}{DATASETS[name][1]:<10}{sk:>14.4f}{ours:>10.4f}{ours - sk:>+9.4f}  "
              f"{'yes' if ok else 'NO'}")
    return all_ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
