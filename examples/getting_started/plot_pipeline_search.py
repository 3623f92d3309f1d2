"""
=========================================================
A Pipeline and a grid search on real data
=========================================================

The usual scikit-learn workflow, unchanged: a ``Pipeline`` that scales the features and
fits an MLP, tuned by ``GridSearchCV`` over network width and weight penalty on the breast
cancer dataset that ships with scikit-learn (569 tumours, 30 features).

The only skmlp-specific line is the import of ``GridSearchCV`` from
:mod:`skmlp.model_selection`: the same class as scikit-learn's, whose candidate x fold fits
train as stacks of models in one compiled program per network width. The results are those of
scikit-learn's ``GridSearchCV`` running the same pipeline.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import LossCurveDisplay, MLPClassifier
from skmlp.model_selection import GridSearchCV

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(),
                     MLPClassifier(max_iter=100, early_stopping=True, random_state=0))
grid = {"mlpclassifier__hidden_layer_sizes": [(8,), (32,), (128,)],
        "mlpclassifier__alpha": [1e-4, 1e-2, 1.0]}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(5, shuffle=True, random_state=0))
search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"cross-validated accuracy {search.best_score_:.3f}, "
      f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy of each candidate, looked up by its parameters (the order of
# ``cv_results_`` is ``ParameterGrid``'s, which sorts the parameter names).
widths = grid["mlpclassifier__hidden_layer_sizes"]
alphas = grid["mlpclassifier__alpha"]
scores = np.empty((len(widths), len(alphas)))
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    scores[widths.index(params["mlpclassifier__hidden_layer_sizes"]),
           alphas.index(params["mlpclassifier__alpha"])] = score
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
ax.set(xticks=range(len(alphas)), xticklabels=[f"{a:g}" for a in alphas],
       yticks=range(len(widths)), yticklabels=[str(w) for w in widths],
       xlabel="alpha", ylabel="hidden_layer_sizes", title="mean CV accuracy")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="w")
fig.colorbar(image)

# %%
# The training curves of the three widths at the best penalty, averaged over the folds:
# the search keeps every stacked fit's curves in ``loss_curves_``.
best_alpha = search.best_params_["mlpclassifier__alpha"]
keep = [i for i, p in enumerate(search.cv_results_["params"])
        if p["mlpclassifier__alpha"] == best_alpha]
display = LossCurveDisplay.from_estimator(search, candidates=keep)
display.ax_.set_title(f"alpha={best_alpha:g}, mean of 5 folds")
