"""
=============================================
Fast hyperparameter search with model stacks
=============================================

``skmlp.model_selection.GridSearchCV`` is scikit-learn's ``GridSearchCV`` whose candidate x
fold fits train together: fits that share a network shape are stacked along a model axis and
trained as one compiled program, each model exactly the one a separate fit would give. Here a
4 x 3 grid over learning rate and penalty, 5-fold, on the digits dataset: 60 fits, one
program. The heat map shows the mean validation accuracy of each candidate; the search's
results equal those of scikit-learn's ``GridSearchCV`` running scikit-learn's MLP, timed
alongside.
"""

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier
from skmlp.model_selection import GridSearchCV

# 30 epochs is short: every fit stops at max_iter, and scikit-learn's MLP (and skmlp's)
# would say so with a ConvergenceWarning per fit.
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
rates = [3e-4, 1e-3, 3e-3, 1e-2]
alphas = [1e-4, 1e-2, 1e0]
grid = {"mlpclassifier__learning_rate_init": rates, "mlpclassifier__alpha": alphas}
pipe = make_pipeline(StandardScaler(),
                     MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0))
search = GridSearchCV(pipe, grid, cv=5)
start = time.perf_counter()
search.fit(X, y)  # the first search of this shape also compiles its program
print(f"skmlp: 60 fits in {time.perf_counter() - start:.1f} s; best {search.best_params_}, "
      f"accuracy {search.best_score_:.3f}")

baseline = SklearnGridSearchCV(make_pipeline(StandardScaler(), SklearnMLP(
    hidden_layer_sizes=(64,), max_iter=30, random_state=0)), grid, cv=5)
start = time.perf_counter()
baseline.fit(X, y)
print(f"scikit-learn: 60 fits in {time.perf_counter() - start:.1f} s; best "
      f"{baseline.best_params_}, accuracy {baseline.best_score_:.3f}")
gap = np.abs(search.cv_results_["mean_test_score"]
             - baseline.cv_results_["mean_test_score"]).max()
print(f"largest difference between the two searches' mean CV scores: {gap:.1e}")

# %%
# Mean validation accuracy per candidate, looked up by its parameters.
scores = np.empty((len(alphas), len(rates)))
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    scores[alphas.index(params["mlpclassifier__alpha"]),
           rates.index(params["mlpclassifier__learning_rate_init"])] = score
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
image = ax.imshow(scores, cmap="viridis", vmin=scores.min(), vmax=scores.max())
ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
ax.set_xlabel("learning_rate_init")
ax.set_ylabel("alpha")
for (i, j), s in np.ndenumerate(scores):
    ax.text(j, i, f"{s:.3f}", ha="center", va="center", color="w" if s < scores.max() else "k")
fig.colorbar(image, ax=ax, label="mean CV accuracy")
ax.set_title("digits, (64,) network, 30 epochs, 5-fold CV")
plt.show()
