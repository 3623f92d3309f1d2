"""
====================================
Dropout against overfitting
====================================

A wide network trained on scikit-learn's small digits dataset (1 797 images of 8x8 pixels)
memorises it: the training loss keeps falling, far below a validation loss that levels off.
Dropout (``dropout=0.5``) keeps the two together and ends with a lower validation loss. Predictions stay
deterministic: dropout acts only while training.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skmlp import MLPClassifier

X, y = load_digits(return_X_y=True)
X, name = X / 16.0, "digits"

curves = {}
for rate in (0.0, 0.5):
    # early_stopping sets a validation set aside and records its loss every epoch; a large
    # n_iter_no_change keeps training for all max_iter epochs.
    model = MLPClassifier(hidden_layer_sizes=(256, 256), dropout=rate, max_iter=60,
                          early_stopping=True, validation_fraction=0.25, n_iter_no_change=100,
                          learning_rate_init=1e-3, random_state=0)
    model.fit(X, y)
    curves[rate] = model
    print(f"dropout={rate}: best validation accuracy {model.best_validation_score_:.4f}, "
          f"lowest validation loss {min(model.validation_loss_curve_):.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for rate, color in zip(curves, ["tab:red", "tab:blue"]):
    model = curves[rate]
    ax.plot(model.loss_curve_, color=color, linestyle="--", label=f"train, dropout={rate}")
    ax.plot(model.validation_loss_curve_, color=color, label=f"validation, dropout={rate}")
ax.set(xlabel="epoch", ylabel="log loss", yscale="log", title=f"{name}, MLP (256, 256)")
ax.legend()
plt.tight_layout()

# %%
# Prediction does not drop units: repeated predictions are identical.
model = curves[0.5]
assert np.array_equal(model.predict_proba(X[:100]), model.predict_proba(X[:100]))
