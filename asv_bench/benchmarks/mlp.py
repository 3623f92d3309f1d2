"""asv benchmarks: skmlp against scikit-learn's MLP, measured in the same suite.

Each suite is parametrized by ``library``: 'sklearn' (scikit-learn's MLP), 'skmlp' (default
``compute_dtype='auto'``: float64 data trains in float64) and 'skmlp-float32'. Inputs are
float64, as users' data usually are. MNIST, Fashion-MNIST and California housing come from
``$SKMLP_DATA`` (default ``../shared/data``); their suites are skipped when it is absent.

Run with ``asv run`` (or ``asv run --python=same --quick`` against the current environment).
For side-by-side ratios in one table, use ``python asv_bench/compare.py``.
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

LIBRARIES = ["sklearn", "skmlp", "skmlp-float32"]
warnings.simplefilter("ignore", ConvergenceWarning)


def make_estimator(library, kind="classifier", **params):
    if library == "sklearn":
        return (SkClassifier if kind == "classifier" else SkRegressor)(**params)
    from skmlp import MLPClassifier, MLPRegressor

    dtype = "float32" if library.endswith("float32") else "auto"
    return (MLPClassifier if kind == "classifier" else MLPRegressor)(compute_dtype=dtype, **params)


def _scaled_split(X, y, **split):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, **split)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _shared(loader, *args):
    try:
        return loader(*args)
    except (FileNotFoundError, ImportError) as exc:
        raise NotImplementedError(f"dataset not available: {exc}")  # asv skips the benchmark


class _Suite:
    """A fit/predict/score benchmark on one dataset; subclasses set the data and the model."""

    params = [LIBRARIES]
    param_names = ["library"]
    kind = "classifier"
    model_params = {}
    timeout = 1800

    def setup(self, library):
        self.X_train, self.X_test, self.y_train, self.y_test = self.setup_cache_data()
        self.fitted = self._new(library).fit(self.X_train, self.y_train)

    def _new(self, library):
        return make_estimator(library, self.kind, random_state=0, tol=0.0, **self.model_params)

    def time_fit(self, library):
        self._new(library).fit(self.X_train, self.y_train)

    def peakmem_fit(self, library):
        self._new(library).fit(self.X_train, self.y_train)

    def time_predict(self, library):
        self.fitted.predict(self.X_test)

    def track_test_score(self, library):
        return float(self.fitted.score(self.X_test, self.y_test))


class Digits(_Suite):
    """digits: 1347 training images of 64 pixels, (100,), adam, 200 epochs."""

    model_params = {"hidden_layer_sizes": (100,), "max_iter": 200, "n_iter_no_change": 200}

    def setup_cache_data(self):
        X, y = load_digits(return_X_y=True)
        return _scaled_split(X, y, test_size=0.25)


class Synthetic(_Suite):
    """A synthetic 20000x100 5-class problem (15000 training rows), (100, 100), 30 epochs."""

    model_params = {"hidden_layer_sizes": (100, 100), "max_iter": 30, "n_iter_no_change": 30}

    def setup_cache_data(self):
        X, y = make_classification(n_samples=20000, n_features=100, n_informative=50,
                                   n_classes=5, random_state=0)
        return _scaled_split(X, y, train_size=15000)


class MNIST(_Suite):
    """MNIST 60000x784, (500, 500), adam, 2 epochs."""

    model_params = {"hidden_layer_sizes": (500, 500), "max_iter": 2, "n_iter_no_change": 2}
    dataset = "mnist"

    def setup_cache_data(self):
        from .datafiles import load_idx_dataset

        X_train, y_train, X_test, y_test = _shared(load_idx_dataset, self.dataset)
        return X_train.astype(np.float64), X_test.astype(np.float64), y_train, y_test


class FashionMNIST(MNIST):
    """Fashion-MNIST 60000x784, (500, 500), adam, 2 epochs."""

    dataset = "fashion-mnist"


class CaliforniaHousing(_Suite):
    """California housing regression (16512 training rows), (100, 100), 50 epochs."""

    kind = "regressor"
    model_params = {"hidden_layer_sizes": (100, 100), "max_iter": 50, "n_iter_no_change": 50}

    def setup_cache_data(self):
        from .datafiles import load_california_housing

        X, y = _shared(load_california_housing)
        return _scaled_split(X, y, test_size=0.2)


def _digits_grid(library, Search=GridSearchCV, **search_params):
    """Digits, and the 9 x 5 search over alpha and learning_rate_init, (64,), 50 epochs."""
    X, y = load_digits(return_X_y=True)
    grid = {"mlpclassifier__alpha": [1e-5, 1e-3, 1e-1],
            "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}
    pipe = make_pipeline(StandardScaler(), make_estimator(
        library, hidden_layer_sizes=(64,), max_iter=50, n_iter_no_change=50, tol=0.0,
        random_state=0))
    return X.astype(np.float64), y, Search(pipe, grid, cv=5, **search_params)


class GridSearchDigits:
    """A 9-candidate x 5-fold GridSearchCV on digits, (64,), 50 epochs per fit."""

    params = [LIBRARIES]
    param_names = ["library"]
    timeout = 1800

    def setup(self, library):
        self.X, self.y, self.search = _digits_grid(library)

    def time_fit(self, library):
        self.search.fit(self.X, self.y)

    def track_best_score(self, library):
        return float(self.search.fit(self.X, self.y).best_score_)


class _SparseSuite(_Suite):
    """Sparse one-hot problems (``sparse_data``): 10 iterations or epochs per fit."""

    model_params = {"max_iter": 10}

    def setup_cache_data(self):
        from .sparse_data import movielens_like

        return movielens_like(self.table)


class MovieLensCSRLbfgs(_SparseSuite):
    """MovieLens-100k-shaped (user, item) one-hot CSR, 80000x2625, lbfgs, 10 iterations."""

    table = "csr"
    model_params = {"solver": "lbfgs", "max_iter": 10}


class MovieLensCSRAdam(_SparseSuite):
    """The same CSR table, adam with early stopping, 10 epochs."""

    table = "csr"
    model_params = {"solver": "adam", "early_stopping": True, "max_iter": 10}


class MovieLensDummiesLbfgs(_SparseSuite):
    """The same table as a pd.get_dummies DataFrame of bool columns (0.08% non-zeros), lbfgs."""

    table = "dummies"
    model_params = {"solver": "lbfgs", "max_iter": 10}


class AdultOneHot(_Suite):
    """Adult census, OneHotEncoder + StandardScaler (sparse output, 108 columns), adam, 10 ep."""

    model_params = {"max_iter": 10}

    def setup_cache_data(self):
        from .sparse_data import adult_onehot

        X_train, X_test, y_train, y_test = _shared(adult_onehot)
        return X_train, X_test, y_train, y_test


class ScaleOutGridSearchDigits:
    """The 9x5 digits grid on several workers: scikit-learn's search and skmlp's stacked one at
    n_jobs 1 and 2 (loky), and skmlp's on a 2-worker Dask LocalCluster (started in setup, so
    its start-up is not timed; compare.py's 'scale' case reports it)."""

    params = [["sklearn", "skmlp"], ["1", "2", "dask"]]
    param_names = ["library", "n_jobs"]
    timeout = 1800

    def setup(self, library, n_jobs):
        if library == "sklearn" and n_jobs == "dask":
            raise NotImplementedError("skmlp only")  # asv skips it
        Search = GridSearchCV
        if library == "skmlp":
            from skmlp.model_selection import GridSearchCV as Search
        self.X, self.y, self.search = _digits_grid(
            library, Search, n_jobs=None if n_jobs == "dask" else int(n_jobs))
        self.cluster = self.client = None
        self.config = {}
        if n_jobs == "dask":
            from distributed import Client, LocalCluster

            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None)
            self.client = Client(self.cluster)
            self.config = {"backend": "dask"}
        self.time_fit(library, n_jobs)  # start the worker pool and fill the compile cache

    def teardown(self, library, n_jobs):
        if self.cluster is not None:
            self.client.close()
            self.cluster.close()

    def time_fit(self, library, n_jobs):
        from joblib import parallel_config

        with parallel_config(**self.config):
            self.search.fit(self.X, self.y)
