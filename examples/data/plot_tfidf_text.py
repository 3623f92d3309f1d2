"""
==========================================
Text classification on sparse TF-IDF
==========================================

A ``TfidfVectorizer`` turns documents into a sparse matrix with one column per word: thousands
of columns, a few dozen non-zeros per row. skmlp trains such input sparse: the first
layer costs O(non-zeros x width) and the dense matrix is never built (``input_layout='auto'``
decides this from the data; ``input_layout_`` says what the fit used). The model is the same
as a dense fit's. The corpus is generated (short "reviews" mixing topic words and common
words) so the example runs without a download.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifier

rng = np.random.RandomState(0)
topics = {
    "sports": "match goal team coach season league score player win",
    "cooking": "recipe oven flavour salt garlic bake dinner taste sauce",
    "travel": "flight hotel beach city museum train passport tour",
}
common = [f"w{i}" for i in range(5000)]  # a long tail of words every topic uses
documents, labels = [], []
for label, words in enumerate(topics.values()):
    words = words.split()
    for _ in range(1500):
        doc = list(rng.choice(words, 4)) + list(rng.choice(common, 40))
        documents.append(" ".join(doc))
        labels.append(label)
labels = np.array(labels)
docs_train, docs_test, y_train, y_test = train_test_split(documents, labels, random_state=0)

vectorizer = TfidfVectorizer()
X_train = vectorizer.fit_transform(docs_train)
X_test = vectorizer.transform(docs_test)
print(f"{X_train.shape[0]} documents x {X_train.shape[1]} words, "
      f"{X_train.nnz / X_train.shape[0]:.0f} non-zeros per row")

# %%
# The same fit, sparse (what ``'auto'`` picks here) and dense.
times = {}
for layout in ["sparse", "dense"]:
    kw = dict(hidden_layer_sizes=(64,), input_layout=layout, random_state=0)
    MLPClassifier(max_iter=1, **kw).fit(X_train, y_train)  # compile this layout's program
    model = MLPClassifier(max_iter=10, **kw)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    times[layout] = time.perf_counter() - start
    print(f"{layout:>6}: fit {times[layout]:.2f} s, held-out accuracy "
          f"{model.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(5, 2.5), layout="constrained")
ax.barh(list(times), list(times.values()), color=["C0", "C7"])
ax.set(xlabel="fit time, 10 epochs (s)", title="the same model, two layouts")
