"""
==========================================
The same fit as scikit-learn, compiled
==========================================

skmlp draws the same initial weights and minibatch shuffles as scikit-learn for the same
``random_state`` and applies the same update rule, so with float64 data the two libraries
trace the same loss curve. skmlp runs each epoch as one compiled XLA program.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# skmlp's first fit of a network shape compiles its training program (the compile cache keeps
# it for later processes); that fit is timed apart from a later one.
start = time.perf_counter()
MLPClassifier(hidden_layer_sizes=(100,), max_iter=2, random_state=0).fit(X_train, y_train)
print(f"skmlp's first fit of this shape (compiles, or loads from the cache): "
      f"{time.perf_counter() - start:.2f} s")

fits = {}
for name, Estimator in [("scikit-learn", SklearnMLP), ("skmlp", MLPClassifier)]:
    start = time.perf_counter()
    model = Estimator(hidden_layer_sizes=(100,), random_state=0).fit(X_train, y_train)
    fits[name] = (model, time.perf_counter() - start)
    print(f"{name:>12}: {model.n_iter_} epochs, test accuracy {model.score(X_test, y_test):.4f}, "
          f"fit {fits[name][1]:.2f} s")

# %%
# The loss curves lie on top of each other.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for (name, (model, _)), style in zip(fits.items(), ["-", "--"]):
    ax.plot(model.loss_curve_, style, label=name, linewidth=2)
ax.set(xlabel="epoch", ylabel="training loss", yscale="log",
       title="digits, MLP (100,), adam: identical training")
ax.legend()

# %%
gap = max(abs(a - b).max() for a, b in zip(fits["skmlp"][0].coefs_, fits["scikit-learn"][0].coefs_))
print(f"largest difference between the fitted weights: {gap:.1e}")
