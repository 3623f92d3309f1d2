"""
==========================================
Regression on real data: diabetes
==========================================

``MLPRegressor`` on the diabetes dataset that ships with scikit-learn (442 patients, 10
features, a disease-progression score a year later), in a ``Pipeline`` that scales the
features, next to scikit-learn's own MLP and a linear baseline. Small tabular problems like
this one are where a linear model is hard to beat: the plot shows predictions against the
truth on held-out patients.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

kw = dict(hidden_layer_sizes=(32,), alpha=1.0, learning_rate_init=0.01, max_iter=2000,
          early_stopping=True, n_iter_no_change=50, random_state=0)
models = {
    "skmlp MLPRegressor": make_pipeline(StandardScaler(), MLPRegressor(**kw)),
    "scikit-learn MLPRegressor": make_pipeline(StandardScaler(), SklearnMLPRegressor(**kw)),
    "RidgeCV (linear baseline)": make_pipeline(StandardScaler(), RidgeCV()),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>27}: test R^2 {model.score(X_test, y_test):.3f}")

# %%
# skmlp's and scikit-learn's MLPs are the same model with the same ``random_state``, so
# their predictions coincide; both land close to the linear model on this small problem.
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
for (name, model), marker in zip(models.items(), ["o", "x", "+"]):
    ax.scatter(y_test, model.predict(X_test), marker=marker, label=name, alpha=0.7)
lims = [y.min(), y.max()]
ax.plot(lims, lims, "k--", linewidth=1)
ax.set(xlabel="true progression", ylabel="predicted progression",
       title="diabetes: held-out patients")
ax.legend(fontsize="small")
