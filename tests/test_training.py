"""The host-side trainer on its own: driven from plain values, with no estimator anywhere."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer

from skmlp import MLPClassifier
from skmlp._core.network import NetSpec, init_params
from skmlp._core.train import TrainSpec
from skmlp._training import History, Rules, prepare, share_groups, train_alone

# scikit-learn's defaults for every runtime hyperparameter the programs read
HPARAMS = {"learning_rate": 0.001, "alpha": 1e-4, "weight_decay": 1e-4, "l1_ratio": 0.15,
           "momentum": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
           "bn_momentum": 0.9, "huber_delta": 1.0}


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _run(X, y, rules, listener=None, seed=0):
    random_state = np.random.RandomState(seed)
    Y = LabelBinarizer().fit_transform(y).astype(np.float64)
    weights = init_params(random_state, [X.shape[1], 16, Y.shape[1]], dtype=np.float64)
    spec = TrainSpec(net=NetSpec(activations=("relu",), out_activation="softmax"),
                     loss="log_loss", solver="adam")
    return prepare(X=X, y=Y, sample_weight=None, random_state=random_state, incremental=False,
                   layout="dense", spec=spec, rules=rules, dtype=np.dtype(np.float64),
                   out_dtype=np.dtype(np.float64), weights=weights, hparams=HPARAMS,
                   history=History.start(stochastic=True, early_stopping=rules.early_stopping),
                   listener=listener)


def test_trainer_without_an_estimator_gives_the_estimators_model(data):
    X, y = data
    run = _run(X, y, Rules(max_iter=6, tol=0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        params, _ = train_alone(run)
        clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=6, tol=0.0,
                            random_state=0).fit(X, y)
    history = run.history
    assert history.n_iter == 6 and history.t == 6 * len(X)
    assert history.loss_curve == clf.loss_curve_
    assert history.loss == clf.loss_ and history.best_loss == clf.best_loss_
    for ours, theirs in zip(params["coefs"] + params["intercepts"],
                            clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(ours, theirs)
    # the optimizer state comes back as plain arrays, for a later call to continue from
    assert history.opt_state and all(isinstance(a, np.ndarray) for a in history.opt_state)


class _Recorder:
    """A listener that stops training after ``stop_after`` epochs."""

    def __init__(self, stop_after):
        self.stop_after, self.begun, self.ended = stop_after, 0, []

    def begin_epoch(self):
        self.begun += 1

    def end_epoch(self, history, metrics, learning_rate, fetch_weights):
        params, _ = fetch_weights()
        self.ended.append((history.n_iter, float(metrics["loss"]), learning_rate,
                           params["coefs"][0].shape))
        return history.n_iter == self.stop_after


def test_trainer_tells_a_listener_each_epoch_and_stops_when_asked(data):
    X, y = data
    listener = _Recorder(stop_after=3)
    run = _run(X, y, Rules(max_iter=50, tol=0.0, early_stopping=True), listener)
    weights = train_alone(run)
    assert listener.begun == 3
    assert [e[0] for e in listener.ended] == [1, 2, 3]
    assert [e[1] for e in listener.ended] == run.history.loss_curve
    assert {e[2] for e in listener.ended} == {0.001}
    assert {e[3] for e in listener.ended} == {(64, 16)}
    assert len(run.history.validation_scores) == 3
    # early stopping hands back its best weights, not the last epoch's
    assert weights is run.history.best_weights


def test_runs_that_see_the_same_rows_share_a_group(data):
    X, y = data
    same = [_run(X, y, Rules(max_iter=2)) for _ in range(2)]
    other = _run(X, y, Rules(max_iter=2), seed=1)
    assert share_groups(same) == [[0, 1]]
    assert share_groups(same + [other]) == [[0], [1], [2]]  # unequal groups: no sharing
