"""
=================================
Huber loss against outliers
=================================

A tenth of the training targets are corrupted by large errors. The squared error chases
them; the Huber loss (quadratic near the target, linear beyond ``huber_delta``) barely
notices, and predicts the clean test targets far better.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_absolute_error

from skmlp import MLPRegressor

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(600, 1))
y_clean = np.sin(X[:, 0]) + 0.1 * rng.randn(600)
y = y_clean.copy()
outliers = rng.rand(600) < 0.1
y[outliers] += rng.choice([-1, 1], outliers.sum()) * rng.uniform(4, 8, outliers.sum())

X_test = np.linspace(-3, 3, 300).reshape(-1, 1)
y_test = np.sin(X_test[:, 0])

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X[~outliers, 0], y[~outliers], s=5, color="0.7", label="training data")
ax.scatter(X[outliers, 0], y[outliers], s=8, color="tab:red", label="outliers")
for loss in ("squared_error", "huber"):
    model = MLPRegressor(loss=loss, hidden_layer_sizes=(64, 64), max_iter=300,
                         learning_rate_init=3e-3, random_state=0).fit(X, y)
    pred = model.predict(X_test)
    mae = mean_absolute_error(y_test, pred)
    print(f"{loss:>13}: test mean absolute error {mae:.3f}")
    ax.plot(X_test[:, 0], pred, linewidth=2, label=f"{loss} (test MAE {mae:.2f})")
ax.set(ylim=(-3, 3), xlabel="x", ylabel="y", title="sin(x) with 10% outliers")
ax.legend(loc="lower right")
plt.tight_layout()
