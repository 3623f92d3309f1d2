"""
=========================================================
One-hot data trains sparse
=========================================================

A recommender's ratings table: who rated which film, and did they like it (rating >= 4)?
One-hot encoding the user and item ids gives 2 625 columns with two non-zeros per row, the
shape of MovieLens-100k (generated here by :func:`skmlp.datasets.make_ratings`). skmlp's
MLP trains such input without ever building the dense matrix: the first layer gathers the
weight rows of each sample's non-zeros, so an epoch costs O(non-zeros) instead of
O(rows x columns). ``input_layout='auto'`` (the default) picks that path by itself, and the
fitted model is the one dense training gives.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder

from skmlp import MLPClassifier
from skmlp.datasets import make_ratings

pairs, ratings = make_ratings(random_state=0)  # (user, item) ids and 1-5 ratings
X = OneHotEncoder(handle_unknown="ignore").fit_transform(pairs).tocsr()
y = ratings >= 4
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
print(f"{X.shape[0]} ratings x {X.shape[1]} one-hot columns, "
      f"{X.nnz / np.prod(X.shape):.3%} non-zero")

# %%
# The same network trained sparse (the automatic choice) and dense. The first fit of each
# layout compiles its program; the timings below are of a second fit.
times, models = {}, {}
for layout in ("sparse", "dense"):
    params = dict(hidden_layer_sizes=(64,), max_iter=5, input_layout=layout, random_state=0)
    MLPClassifier(**params).fit(X_train[:2000], y_train[:2000])  # compile
    start = time.perf_counter()
    models[layout] = MLPClassifier(**params).fit(X_train, y_train)
    times[layout] = time.perf_counter() - start
    print(f"{layout:>6}: {times[layout]:.2f} s for 5 epochs, "
          f"test accuracy {models[layout].score(X_test, y_test):.4f}")
print("automatic choice:", MLPClassifier(max_iter=1).fit(X_train, y_train).input_layout_)
gap = max(np.abs(a - b).max() for a, b in zip(models["sparse"].coefs_,
                                                  models["dense"].coefs_))
print(f"largest weight difference between the two models: {gap:.1e}")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.barh(list(times), list(times.values()), color=["tab:green", "tab:gray"])
ax.set(xlabel="seconds for 5 epochs", title="same model, two input layouts")
plt.tight_layout()
