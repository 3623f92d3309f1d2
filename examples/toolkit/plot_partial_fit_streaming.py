"""
==========================================
Learning from a stream with partial_fit
==========================================

When data arrives in chunks (or does not fit in memory), ``partial_fit`` trains one epoch on
each chunk, keeping the optimizer's state between calls, exactly as scikit-learn's MLP does.
Only the first call needs ``classes``. skmlp compiles its program on the first chunk; every
later chunk of the same size reuses it. Here the training set streams by five times, in 20
chunks each. The curves of skmlp and scikit-learn coincide: the same ``random_state`` gives
the same model after every chunk.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
chunks = np.array_split(np.arange(len(X_train)), 20) * 5  # 5 passes of 20 chunks, ~67 rows

curves = {}
for name, Estimator in [("skmlp", MLPClassifier), ("scikit-learn", SklearnMLP)]:
    model = Estimator(hidden_layer_sizes=(64,), random_state=0)
    scores = []
    for rows in chunks:
        model.partial_fit(X_train[rows], y_train[rows], classes=np.unique(y))
        scores.append(model.score(X_test, y_test))
    curves[name] = scores
    print(f"{name:>12}: held-out accuracy after the stream {scores[-1]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for (name, scores), style in zip(curves.items(), ["-", "--"]):
    ax.plot(np.arange(1, len(scores) + 1), scores, style, label=name, linewidth=2)
ax.set(xlabel="chunks seen", ylabel="held-out accuracy",
       title="digits, one partial_fit per chunk, 5 passes")
ax.legend()
