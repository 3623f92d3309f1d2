"""
==========================================
Randomized search over continuous ranges
==========================================

``skmlp.model_selection.RandomizedSearchCV`` samples candidates from distributions, like
scikit-learn's, and trains all candidate x fold fits of one network shape as one stack of
models. Here 12 candidates x 3 folds over the learning rate, the penalty and the dropout rate
(all runtime values: 36 fits, one compiled program). The search keeps every stacked fit's
training curves in ``loss_curves_``, which ``LossCurveDisplay`` plots for the best candidates.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import LossCurveDisplay, MLPClassifier
from skmlp.model_selection import RandomizedSearchCV

X, y = load_digits(return_X_y=True)
pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=60,
                                                     early_stopping=True, random_state=0))
distributions = {"mlpclassifier__learning_rate_init": loguniform(1e-4, 3e-2),
                 "mlpclassifier__alpha": loguniform(1e-5, 1e0),
                 "mlpclassifier__dropout": uniform(0.0, 0.5)}
search = RandomizedSearchCV(pipe, distributions, n_iter=12, cv=3, random_state=0)
search.fit(X, y)
print("best:", {k.split("__")[1]: round(v, 5) for k, v in search.best_params_.items()},
      f"CV accuracy {search.best_score_:.3f}")

# %%
# Mean CV accuracy against the learning rate, coloured by the dropout rate.
params = search.cv_results_["params"]
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
points = ax.scatter([p["mlpclassifier__learning_rate_init"] for p in params],
                    search.cv_results_["mean_test_score"],
                    c=[p["mlpclassifier__dropout"] for p in params], cmap="viridis")
ax.set(xscale="log", xlabel="learning_rate_init", ylabel="mean CV accuracy")
fig.colorbar(points, ax=ax, label="dropout")

# %%
# The three best candidates' curves, each averaged over its folds.
best = np.argsort(search.cv_results_["rank_test_score"])[:3]
display = LossCurveDisplay.from_estimator(search, candidates=best)
display.ax_.set_yscale("log")
