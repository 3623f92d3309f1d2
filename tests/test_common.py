"""scikit-learn's estimator checks on every public estimator, with no expected failures.

The default estimators, and non-default settings of the toolkit that can honestly pass the
checks (activations, penalties, losses, solvers, schedules, initialisations, batch norm).
The ensembles run with their default members. Dropout is left out on purpose: repeated rows draw independent dropout masks, so
``check_sample_weight_equivalence`` cannot hold for it.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifier, MLPRegressor
from skmlp.ensemble import MLPEnsembleClassifier, MLPEnsembleRegressor


@parametrize_with_checks([
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(activation="gelu", solver="adamw", penalty="elasticnet", batch_norm=True,
                  learning_rate="cosine", weight_init="he_uniform"),
    MLPRegressor(loss="huber", activation="selu", solver="rmsprop", penalty="l1"),
    MLPRegressor(loss="absolute_error", activation="silu", solver="adagrad",
                 learning_rate_init=0.05),
    # two members (not ten) keep CI's time; bootstrap is off: its draws depend on the number
    # of rows, so weighted and repeated rows cannot agree (as for scikit-learn's Bagging)
    MLPEnsembleClassifier(n_estimators=2),
    MLPEnsembleRegressor(n_estimators=2),
])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
