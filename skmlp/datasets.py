"""Generated datasets for examples and benchmarks.

:func:`make_ratings` builds a MovieLens-100k-shaped table of user x item ratings in code (no
download), the one-hot, mostly-zero kind of data that skmlp trains sparse.
"""

import numpy as np
from sklearn.utils import check_random_state

# MovieLens-100k's share of ratings 1..5
_RATING_SHARES = np.array([0.061, 0.114, 0.271, 0.341, 0.213])


def make_ratings(n_users=943, n_items=1682, n_ratings=100_000, *, random_state=0):
    """A recommender's ratings table with the shape of MovieLens-100k, generated in code.

    Distinct (user, item) pairs with a realistic popularity skew (power-law item popularity,
    log-normal user activity, at least 20 ratings per user) and ratings 1-5 from a low-rank
    user-item model plus noise, in MovieLens's proportions. One-hot encoding the two id columns
    gives the typical sparse input of an MLP recommender (two non-zeros per row).

    Parameters
    ----------
    n_users : int, default=943
        Number of users (MovieLens-100k has 943).
    n_items : int, default=1682
        Number of items (MovieLens-100k has 1682).
    n_ratings : int, default=100_000
        Number of distinct (user, item) pairs rated.
    random_state : int, RandomState instance or None, default=0
        Seeds the table; an int gives the same table on every call.

    Returns
    -------
    pairs : ndarray of shape (n_ratings, 2)
        User and item ids.
    ratings : ndarray of shape (n_ratings,)
        Integer ratings 1..5.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : Turns the id pairs into the sparse input.

    Examples
    --------
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from skmlp.datasets import make_ratings
    >>> pairs, ratings = make_ratings(n_ratings=5000, random_state=0)
    >>> X = OneHotEncoder().fit_transform(pairs)
    >>> X.shape[0], int(X.getnnz(axis=1).max()), sorted(set(ratings.tolist()))
    (5000, 2, [1, 2, 3, 4, 5])
    """
    rng = check_random_state(random_state)
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
