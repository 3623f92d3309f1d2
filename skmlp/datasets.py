"""Datasets for examples and benchmarks.

``make_ratings`` generates a MovieLens-100k-shaped ratings table in code. The loaders read
datasets kept as plain files (MNIST, Fashion-MNIST, California housing) from the ``SKMLP_DATA``
environment variable's directory, by default ``shared/data`` beside the repository. Nothing is
downloaded: a loader raises ``FileNotFoundError`` when its files are absent, so benchmarks and
examples can skip or fall back cleanly.
"""

import gzip
import os
from pathlib import Path

import numpy as np

_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_dir():
    """The dataset directory: ``$SKMLP_DATA`` or ``../shared/data`` next to the repository."""
    return Path(os.environ.get("SKMLP_DATA", _DEFAULT))


def _read_idx(path):
    raw = gzip.open(path, "rb").read()
    magic = int.from_bytes(raw[:4], "big")
    if magic == 2051:
        n, rows, cols = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows * cols)
    if magic == 2049:
        return np.frombuffer(raw, np.uint8, offset=8)
    raise ValueError(f"{path} is not an IDX file (magic number {magic})")


def load_idx_dataset(name):
    """``(X_train, y_train, X_test, y_test)`` of 'mnist' or 'fashion-mnist'.

    Images are flattened to 784 float32 features scaled to [0, 1].
    """
    folder = data_dir() / name
    parts = []
    for split in ("train", "t10k"):
        X = _read_idx(folder / f"{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = _read_idx(folder / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
        if len(X) != len(y):
            raise ValueError(f"{name} {split}: {len(X)} images but {len(y)} labels")
        parts += [X, y]
    return tuple(parts)


def load_california_housing():
    """``(X, y)``: scikit-learn's 8 California-housing features and target (in $100,000)."""
    raw = np.loadtxt(data_dir() / "california_housing" / "cal_housing.data", delimiter=",")
    lon, lat, age, rooms, bedrooms, pop, households, income, value = raw.T
    X = np.column_stack([income, age, rooms / households, bedrooms / households, pop,
                         pop / households, lat, lon])
    return X, value / 1e5


# MovieLens-100k's share of ratings 1..5
_RATING_SHARES = np.array([0.061, 0.114, 0.271, 0.341, 0.213])


def make_ratings(n_users=943, n_items=1682, n_ratings=100_000, *, random_state=0):
    """A recommender's ratings table with the shape of MovieLens-100k, generated in code.

    Distinct (user, item) pairs with a realistic popularity skew (power-law item popularity,
    log-normal user activity, at least 20 ratings per user) and ratings 1-5 from a low-rank
    user-item model plus noise, in MovieLens's proportions. One-hot encoding the two id columns
    gives the typical sparse input of an MLP recommender (two non-zeros per row).

    Returns
    -------
    pairs : ndarray of shape (n_ratings, 2)
        User and item ids.
    ratings : ndarray of shape (n_ratings,)
        Integer ratings 1..5.
    """
    rng = np.random.RandomState(random_state)
    item_pop = 1.0 / np.arange(1, n_items + 1) ** 0.9
    item_pop = item_pop[rng.permutation(n_items)]
    item_pop /= item_pop.sum()
    floor = min(20, n_ratings // n_users)
    activity = rng.lognormal(0.0, 1.0, n_users)
    counts = floor + np.floor(activity / activity.sum() * (n_ratings - floor * n_users))
    counts = np.minimum(counts.astype(int), n_items)
    short = n_ratings - counts.sum()
    while short > 0:  # hand out what rounding and the per-user cap left over
        room = np.flatnonzero(counts < n_items)
        extra = rng.choice(room, min(short, len(room)), replace=False)
        counts[extra] += 1
        short -= len(extra)
    users, items = [], []
    for u, c in enumerate(counts):
        users.append(np.full(c, u))
        items.append(rng.choice(n_items, size=c, replace=False, p=item_pop))
    pairs = np.c_[np.concatenate(users), np.concatenate(items)]
    rank = 8
    U = rng.normal(0, 1, (n_users, rank))
    V = rng.normal(0, 1, (n_items, rank))
    affinity = (U[pairs[:, 0]] * V[pairs[:, 1]]).sum(1) / np.sqrt(rank)
    affinity += rng.normal(0, 0.7, n_users)[pairs[:, 0]] + rng.normal(0, 0.7, n_items)[pairs[:, 1]]
    affinity += rng.normal(0, 0.6, len(pairs))
    cuts = np.quantile(affinity, np.cumsum(_RATING_SHARES)[:-1])
    return pairs, 1 + np.searchsorted(cuts, affinity)
