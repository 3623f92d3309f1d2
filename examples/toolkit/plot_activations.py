"""
======================================
Activations, one per hidden layer
======================================

``activation`` takes any of ten names, or a list with one activation per hidden layer. The
decision boundaries on two interleaved half-moons show how the choice shapes the function
the network learns: piecewise-linear for ReLU, smooth for tanh and GELU. Each panel shows
the held-out test points and the accuracy on them.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = make_moons(n_samples=400, noise=0.25, random_state=0)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
xx, yy = np.meshgrid(np.linspace(-2.5, 2.5, 200), np.linspace(-2.5, 2.5, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])

choices = ["relu", "tanh", "gelu", "selu", "leaky_relu", ["relu", "tanh"]]
fig, axes = plt.subplots(2, 3, figsize=(10, 6.5), sharex=True, sharey=True,
                         layout="constrained")
for ax, activation in zip(axes.ravel(), choices):
    model = MLPClassifier(hidden_layer_sizes=(32, 32), activation=activation, max_iter=400,
                          learning_rate_init=3e-3, random_state=0).fit(X_train, y_train)
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.8)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu_r", edgecolor="k", s=12)
    ax.set_title(f"{activation}: test accuracy {model.score(X_test, y_test):.2f}", fontsize=10)

# %%
# A per-layer choice shows in the model summary:
print(model.summary())
