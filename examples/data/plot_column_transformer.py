"""
==================================================
A mixed-type DataFrame through a ColumnTransformer
==================================================

Real tables mix numbers and categories. A ``ColumnTransformer`` scales the numeric columns and
one-hot encodes the categorical ones, and skmlp's ``MLPClassifier`` takes what comes out,
keeping the column names it was given. The table here is generated (a customer-churn-like
problem with two numeric and three categorical columns) so the example runs anywhere;
``permutation_importance`` then asks which columns the fitted pipeline relies on.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp import MLPClassifier

rng = np.random.RandomState(0)
n = 3000
frame = pd.DataFrame({
    "tenure_months": rng.exponential(24, n).round(),
    "monthly_charge": rng.normal(70, 20, n).round(2),
    "contract": rng.choice(["month-to-month", "one year", "two year"], n, p=[0.5, 0.3, 0.2]),
    "payment": rng.choice(["card", "transfer", "cheque"], n),
    "region": rng.choice(["north", "south", "east", "west"], n),
})
risk = (-0.05 * frame["tenure_months"] + 0.02 * frame["monthly_charge"]
        + frame["contract"].map({"month-to-month": 1.5, "one year": 0.0, "two year": -1.5})
        + 0.5 * (frame["payment"] == "cheque") + rng.normal(0, 1, n))
churned = (risk > np.quantile(risk, 0.7)).astype(int)
X_train, X_test, y_train, y_test = train_test_split(frame, churned, random_state=0)

preprocess = ColumnTransformer([
    ("numbers", StandardScaler(), ["tenure_months", "monthly_charge"]),
    ("categories", OneHotEncoder(), ["contract", "payment", "region"]),
])
model = make_pipeline(preprocess, MLPClassifier(hidden_layer_sizes=(32,), max_iter=300,
                                                early_stopping=True, random_state=0))
model.fit(X_train, y_train)
print(f"held-out accuracy {model.score(X_test, y_test):.3f}")
print("the MLP sees", model[-1].n_features_in_, "columns, trained",
      model[-1].input_layout_)

# %%
# Which columns matter: the drop in held-out accuracy when each one is shuffled. The
# generated churn risk depends on tenure, charge, contract and payment, not on the region.
result = permutation_importance(model, X_test, y_test, n_repeats=5, random_state=0)
order = np.argsort(result.importances_mean)
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.barh(np.array(frame.columns)[order], result.importances_mean[order],
        xerr=result.importances_std[order])
ax.set(xlabel="drop in held-out accuracy when shuffled", title="permutation importance")
