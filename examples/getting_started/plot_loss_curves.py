"""
=========================================================
Watching training with LossCurveDisplay
=========================================================

:class:`skmlp.LossCurveDisplay` plots what a fit recorded: the training loss each epoch and,
with ``early_stopping=True``, the loss and accuracy on the validation set it held out. Here
three learning rates on the digits dataset: the smallest learns slowly, the largest learns
fastest but noisily, and early stopping ends each run when its validation accuracy stops
improving.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skmlp import LossCurveDisplay, MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0

models = [MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=rate, max_iter=200,
                        early_stopping=True, n_iter_no_change=10, random_state=0).fit(X, y)
          for rate in (1e-4, 1e-3, 3e-2)]
for model in models:
    print(f"learning_rate_init={model.learning_rate_init:g}: stopped after {model.n_iter_} "
          f"epochs, best validation accuracy {model.best_validation_score_:.3f}")

# %%
display = LossCurveDisplay.from_estimator(
    models, names=[f"learning_rate_init={m.learning_rate_init:g}" for m in models])
display.ax_.set_yscale("log")

# %%
# ``summary()`` lists the layers of a fitted model; echoed in a notebook, it shows the table.
print(models[1].summary())
