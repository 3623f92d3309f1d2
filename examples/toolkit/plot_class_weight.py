"""
==========================================
Imbalanced classes: class_weight
==========================================

When one class is rare, a classifier can score a high accuracy by mostly ignoring it.
``class_weight`` (which scikit-learn's MLP does not have) weighs each sample's loss by its
class: ``'balanced'`` uses ``n_samples / (n_classes * count)``, so the rare class counts as
much as the common one in total. The confusion matrices on held-out data show what it buys:
more of the rare class found, at the cost of some false alarms.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.metrics import ConfusionMatrixDisplay, balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = make_classification(n_samples=4000, n_features=20, n_informative=6, weights=[0.95],
                           class_sep=0.6, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"rare class: {y_train.mean():.1%} of the training rows")

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5), layout="constrained")
for ax, class_weight in zip(axes, [None, "balanced"]):
    model = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(32,), class_weight=class_weight, max_iter=300, random_state=0))
    model.fit(X_train, y_train)
    predicted = model.predict(X_test)
    print(f"class_weight={class_weight!r}: accuracy {model.score(X_test, y_test):.3f}, "
          f"balanced accuracy {balanced_accuracy_score(y_test, predicted):.3f}, "
          f"recall of the rare class {recall_score(y_test, predicted):.3f}")
    ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=ax, colorbar=False)
    ax.set_title(f"class_weight={class_weight!r}")
