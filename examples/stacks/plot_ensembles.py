"""
==========================================
Ensembles of MLPs, trained together
==========================================

``skmlp.ensemble.MLPEnsembleClassifier`` trains several MLPs that differ only in their random
seed (and, with ``bootstrap=True``, in their resampled rows) and averages their predicted
probabilities. The members train as one stack of models in one compiled program. Averaging
smooths out the luck of each member's initialisation: the ensemble scores at least as well as
its typical member, here on held-out digits.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier
from skmlp.ensemble import MLPEnsembleClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

ensemble = MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(32,), max_iter=100),
                                 n_estimators=10, random_state=0)
ensemble.fit(X_train, y_train)
members = [member.score(X_test, y_test) for member in ensemble.estimators_]
print(f"members: held-out accuracy {np.min(members):.3f} to {np.max(members):.3f}; "
      f"ensemble {ensemble.score(X_test, y_test):.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.bar(range(len(members)), members, color="C0", label="each member")
ax.axhline(ensemble.score(X_test, y_test), color="C1", linewidth=2, label="the ensemble")
ax.set(xlabel="member", ylabel="held-out accuracy", ylim=(min(members) - 0.02, 1.0),
       xticks=range(len(members)))
ax.legend(loc="lower right")
