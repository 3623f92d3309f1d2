"""
======================================
Batch normalization on unscaled inputs
======================================

Features on wildly different scales (here, multiplied by factors from 0.01 to 1000) make
plain gradient descent crawl. ``batch_norm=True`` normalizes each hidden layer's inputs per
minibatch and trains quickly without a ``StandardScaler``. At predict time the network uses
the running statistics it learned (``batch_norm_means_``, ``batch_norm_vars_``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifier

X, y = make_classification(n_samples=3000, n_features=20, n_informative=10, n_classes=3,
                           random_state=0)
X = X * np.logspace(-2, 3, X.shape[1])  # unscaled features
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

models = {}
for batch_norm in (False, True):
    model = MLPClassifier(hidden_layer_sizes=(64, 64), batch_norm=batch_norm, max_iter=60,
                          random_state=0).fit(X_train, y_train)
    models[batch_norm] = model
    print(f"batch_norm={batch_norm}: test accuracy {model.score(X_test, y_test):.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for batch_norm, model in models.items():
    ax.plot(model.loss_curve_, label=f"batch_norm={batch_norm}")
ax.set(xlabel="epoch", ylabel="training loss", yscale="log",
       title="unscaled features: training loss")
ax.legend()
plt.tight_layout()

# %%
# The running mean of the first hidden layer's pre-activations, used at predict time:
print(np.round(models[True].batch_norm_means_[0][:8], 2))
