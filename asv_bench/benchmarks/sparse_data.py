"""Sparse benchmark problems, shared by the asv suites and ``compare.py``.

``movielens_like`` generates, in code, a recommender problem with the shape of MovieLens-100k:
943 users, 1 682 items, 100 000 distinct (user, item) ratings with a realistic popularity skew
(power-law item popularity, log-normal user activity, at least 20 ratings per user), ratings 1-5
from a low-rank model plus noise in MovieLens's proportions, target ``rating >= 4``.
``adult_onehot`` reads the Adult census files from ``$SKMLP_DATA`` (default ``../shared/data``).
"""

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

N_USERS, N_ITEMS, N_RATINGS = 943, 1682, 100_000
# MovieLens-100k's share of ratings 1..5
_RATING_SHARES = np.array([0.061, 0.114, 0.271, 0.341, 0.213])


@lru_cache(maxsize=None)
def movielens_ratings(random_state=0):
    """(user, item) pairs of shape (100000, 2) and ratings 1..5."""
    rng = np.random.RandomState(random_state)
    item_pop = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.9
    item_pop = item_pop[rng.permutation(N_ITEMS)]
    item_pop /= item_pop.sum()
    activity = rng.lognormal(0.0, 1.0, N_USERS)
    counts = 20 + np.floor(activity / activity.sum() * (N_RATINGS - 20 * N_USERS)).astype(int)
    counts[rng.choice(N_USERS, N_RATINGS - counts.sum(), replace=False)] += 1
    users, items = [], []
    for u, c in enumerate(counts):
        chosen = rng.choice(N_ITEMS, size=min(c, N_ITEMS), replace=False, p=item_pop)
        users.append(np.full(len(chosen), u))
        items.append(chosen)
    pairs = np.c_[np.concatenate(users), np.concatenate(items)]
    rank = 8
    U = rng.normal(0, 1, (N_USERS, rank))
    V = rng.normal(0, 1, (N_ITEMS, rank))
    affinity = (U[pairs[:, 0]] * V[pairs[:, 1]]).sum(1) / np.sqrt(rank)
    affinity += rng.normal(0, 0.7, N_USERS)[pairs[:, 0]] + rng.normal(0, 0.7, N_ITEMS)[pairs[:, 1]]
    affinity += rng.normal(0, 0.6, len(pairs))
    cuts = np.quantile(affinity, np.cumsum(_RATING_SHARES)[:-1])
    ratings = 1 + np.searchsorted(cuts, affinity)
    return pairs, ratings


def movielens_like(kind="csr"):
    """Train/test split of the one-hot (user, item) table and the target ``rating >= 4``.

    ``kind='csr'``: ``OneHotEncoder`` output (CSR, 2 625 columns, 2 non-zeros a row);
    ``kind='dummies'``: the same table as a dense ``pd.get_dummies`` DataFrame.
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
        X = pd.get_dummies(frame, dtype=np.float64)
    return train_test_split(X, y, test_size=0.2, random_state=42)


def _data_dir():
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    return Path(os.environ.get("SKMLP_DATA", default))


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
