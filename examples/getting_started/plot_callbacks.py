"""
==========================================
Watching a fit: callbacks and ProgressBar
==========================================

Two ways to follow a fit epoch by epoch:

* skmlp's ``callbacks`` parameter: a function called after each epoch with the estimator
  (holding that epoch's weights) and a dict of figures; returning True stops training.
* scikit-learn's callback framework (scikit-learn 1.9 or later): ``set_callbacks`` with
  ``ProgressBar`` or your own callback, which also reaches fits inside a ``Pipeline`` or a
  search.

Here a callback records the test accuracy after every epoch and stops when it has not improved
for five epochs, a kind of early stopping on a metric of your choice.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

history = []


def watch(model, figures):
    """Record the held-out accuracy; stop after 5 epochs without a new best."""
    history.append((figures["epoch"], figures["loss"], model.score(X_test, y_test)))
    best = max(range(len(history)), key=lambda i: history[i][2])
    return len(history) - 1 - best >= 5


clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=0, callbacks=watch)
clf.fit(X_train, y_train)
print(f"stopped after {clf.n_iter_} epochs; best held-out accuracy "
      f"{max(h[2] for h in history):.3f}")

# %%
epochs, losses, accuracies = zip(*history)
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(epochs, losses, label="training loss")
ax.set(xlabel="epoch", ylabel="training loss", yscale="log")
right = ax.twinx()
right.plot(epochs, accuracies, "C1--", label="held-out accuracy")
right.set_ylabel("held-out accuracy")
fig.legend(loc="outside right upper", fontsize="small")

# %%
# scikit-learn's ``ProgressBar`` shows a bar per fit (it needs the ``rich`` package); the
# same call works on a ``Pipeline`` or a search, which pass it to their fits.
try:
    from sklearn.callback import ProgressBar
except ImportError:  # scikit-learn < 1.9 has no callback framework
    ProgressBar = None
if ProgressBar is not None:
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    clf.set_callbacks(ProgressBar())
    clf.fit(X_train, y_train)
