"""Sparse benchmark problems, shared by the asv suites and ``compare.py``.

``movielens_like`` is a recommender problem with the shape of MovieLens-100k, generated in code
by :func:`skmlp.datasets.make_ratings` (943 users, 1 682 items, 100 000 ratings with a realistic
popularity skew), target ``rating >= 4``.
``adult_onehot`` reads the Adult census files from ``$SKMLP_DATA`` (default ``../shared/data``).
"""

from functools import lru_cache

import numpy as np

N_USERS, N_ITEMS = 943, 1682


@lru_cache(maxsize=None)
def movielens_ratings(random_state=0):
    """(user, item) pairs of shape (100000, 2) and ratings 1..5."""
    from skmlp.datasets import make_ratings

    return make_ratings(random_state=random_state)


def movielens_like(kind="csr"):
    """Train/test split of the one-hot (user, item) table and the target ``rating >= 4``.

    ``kind='csr'``: ``OneHotEncoder`` output (CSR, 2 625 columns, 2 non-zeros a row);
    ``kind='dummies'``: the same table as a dense ``pd.get_dummies`` DataFrame (bool columns).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import OneHotEncoder

    pairs, ratings = movielens_ratings()
    y = (ratings >= 4).astype(int)
    if kind == "csr":
        X = OneHotEncoder(categories=[np.arange(N_USERS), np.arange(N_ITEMS)]).fit_transform(pairs)
        X = X.tocsr()
    else:
        import pandas as pd

        frame = pd.DataFrame({"user": pd.Categorical(pairs[:, 0], categories=range(N_USERS)),
                              "item": pd.Categorical(pairs[:, 1], categories=range(N_ITEMS))})
        X = pd.get_dummies(frame)  # bool columns, pandas' default (and the tutorials')
    return train_test_split(X, y, test_size=0.2, random_state=42)


def _data_dir():
    from .datafiles import data_dir

    return data_dir()


def adult_onehot():
    """Adult census: ``OneHotEncoder`` + ``StandardScaler`` in a ``ColumnTransformer`` with
    sparse output, fitted on the training file. Raises FileNotFoundError without the data."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    names = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
             "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
             "hours-per-week", "native-country", "income"]
    directory = _data_dir() / "adult"
    frames = [pd.read_csv(directory / f, names=names, skipinitialspace=True, comment="|")
              for f in ("adult.data", "adult.test")]
    numeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
               "hours-per-week"]
    categorical = [c for c in names[:-1] if c not in numeric]
    prep = ColumnTransformer([("num", StandardScaler(), numeric),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)],
                             sparse_threshold=1.0)
    train, test = frames
    y_train = train["income"].str.startswith(">50K").astype(int).to_numpy()
    y_test = test["income"].str.startswith(">50K").astype(int).to_numpy()
    X_train = prep.fit_transform(train[names[:-1]]).tocsr()
    X_test = prep.transform(test[names[:-1]]).tocsr()
    return X_train, X_test, y_train, y_test
