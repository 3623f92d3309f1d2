"""Readers of the real datasets kept as plain files (MNIST, Fashion-MNIST, California
housing) in the directory named by ``$SKMLP_DATA``, by default ``../shared/data`` beside this
repository. Nothing is downloaded: a reader raises ``FileNotFoundError`` when its files are
absent, so benchmarks skip cleanly. (Benchmark code, not part of the installed package.)
"""

import gzip
import os
from pathlib import Path

import numpy as np

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data"


def data_dir():
    """The dataset directory: ``$SKMLP_DATA`` or ``../shared/data`` next to the repository."""
    return Path(os.environ.get("SKMLP_DATA", _DEFAULT))


def _read_idx(path):
    raw = gzip.open(path, "rb").read()
    magic = int.from_bytes(raw[:4], "big")
    if magic == 2051:
        n, rows, cols = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows * cols)
    if magic == 2049:
        return np.frombuffer(raw, np.uint8, offset=8)
    raise ValueError(f"{path} is not an IDX file (magic number {magic})")


def load_idx_dataset(name):
    """``(X_train, y_train, X_test, y_test)`` of 'mnist' or 'fashion-mnist'.

    Images are flattened to 784 float32 features scaled to [0, 1].
    """
    folder = data_dir() / name
    parts = []
    for split in ("train", "t10k"):
        X = _read_idx(folder / f"{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = _read_idx(folder / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
        if len(X) != len(y):
            raise ValueError(f"{name} {split}: {len(X)} images but {len(y)} labels")
        parts += [X, y]
    return tuple(parts)


def load_california_housing():
    """``(X, y)``: scikit-learn's 8 California-housing features and target (in $100,000)."""
    raw = np.loadtxt(data_dir() / "california_housing" / "cal_housing.data", delimiter=",")
    lon, lat, age, rooms, bedrooms, pop, households, income, value = raw.T
    X = np.column_stack([income, age, rooms / households, bedrooms / households, pop,
                         pop / households, lat, lon])
    return X, value / 1e5


