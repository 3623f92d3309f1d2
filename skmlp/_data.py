"""Host-side data preparation: dense or sparse layout, bucketed padding, one device transfer
per fit."""

import contextlib
import contextvars
import math
import warnings

import numpy as np
import scipy.sparse as sp

from ._core.formulas import SparseRows

# The sparse layout costs O(rows x padded non-zeros per row x width), the dense one O(rows x
# features x width) at a far better rate per operation (GEMM against gather and scatter-add).
# Measured on a 2-core CPU, float64, adam, 100 units, 1000 features
# (asv_bench/sparse_crossover.py): a sparse epoch is 5.1x faster at 0.1% padded fill, 2.4x at
# 1.6%, 1.2x at 3.2%, and 0.84x at 6.4%. 'auto' trains sparse up to 4%.
SPARSE_MAX_FILL = 0.04


def bucket(n):
    """Smallest size >= n of the form m * 2**e with m in {4, 5, 6, 7} (exact below 8).

    Consecutive buckets differ by at most 25%, so sizes a few samples apart (CV folds) share
    a bucket and therefore one compiled program.
    """
    n = int(n)
    if n <= 8:
        return max(n, 1)
    e = math.floor(math.log2(n)) - 2
    for m in (4, 5, 6, 7, 8):
        if m * 2**e >= n:
            return m * 2**e
    raise AssertionError("unreachable")


def n_padded_rows(n_samples, batch_size):
    """Rows after padding: a bucketed number of whole minibatches."""
    return bucket(math.ceil(n_samples / batch_size)) * batch_size


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _fits_sparse(row_nnz, n_features):
    """Whether rows padded to the longest one fill at most SPARSE_MAX_FILL of the features."""
    width = bucket(max(int(row_nnz.max(initial=0)), 1))
    return n_features > 0 and width <= SPARSE_MAX_FILL * n_features


def _flat_nonzero(mask):
    """``np.flatnonzero`` of a boolean array, 4x faster when it is mostly False: scan it as
    64-bit words, then expand only the words holding a True."""
    pad = (-mask.size) % 8
    if pad:
        mask = np.concatenate([mask, np.zeros(pad, bool)])
    hits = np.flatnonzero(mask.view(np.uint64))
    word, byte = np.nonzero(mask.reshape(-1, 8)[hits])
    return hits[word] * 8 + byte


def _dense_to_csr(X, mask):
    """A dense array's non-zeros (``mask``, in X's memory order) as CSR."""
    n, d = X.shape
    f_order = X.flags.f_contiguous and not X.flags.c_contiguous
    flat = _flat_nonzero(mask)
    major, minor = np.divmod(flat, n if f_order else d)
    rows, cols = (minor, major) if f_order else (major, minor)
    return sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape)


# A dense copy of sparse input above this size is worth a word (input_layout='dense').
DENSE_COPY_WARN_BYTES = 256 * 2**20


def _warn_large_dense(X):
    size = X.shape[0] * X.shape[1] * X.dtype.itemsize
    if size > DENSE_COPY_WARN_BYTES:
        fill = X.nnz / max(X.shape[0] * X.shape[1], 1)
        warnings.warn(
            f"input_layout='dense' makes a dense copy of this {X.shape[0]} x {X.shape[1]} "
            f"sparse matrix ({100 * fill:.2g}% non-zero): {size / 2**20:,.0f} MiB, and more on the "
            f"device. input_layout='auto' or 'sparse' trains on its non-zeros only.",
            UserWarning, stacklevel=5)


def check_sparse_structure(X):
    """Refuse a CSR or CSC matrix whose index arrays point outside it, in O(nnz): such a
    matrix would otherwise train and predict on whatever memory the indices reach."""
    if not sp.issparse(X) or X.format not in ("csr", "csc"):
        return
    n_minor = X.shape[1] if X.format == "csr" else X.shape[0]
    indices, indptr = X.indices, X.indptr
    if indptr.size != X.shape[0 if X.format == "csr" else 1] + 1 or (
            indptr.size and (indptr[0] != 0 or indptr[-1] > indices.size
                             or np.any(indptr[1:] < indptr[:-1]))):
        raise ValueError("The sparse matrix X is corrupt: its index pointer (indptr) is not "
                         "a non-decreasing sequence from 0 to at most nnz. "
                         "X.check_format(full_check=True) names the fault.")
    if indices.size and (indices.min() < 0 or indices.max() >= n_minor):
        which = "column" if X.format == "csr" else "row"
        raise ValueError(f"The sparse matrix X is corrupt: a {which} index lies outside "
                         f"[0, {n_minor}) (found {int(indices.min())} to "
                         f"{int(indices.max())}). X.check_format(full_check=True) names the "
                         f"fault; rebuild the matrix.")


def one_hot_frame_as_csr(X):
    """A pandas DataFrame of mostly-zero one-hot columns (``bool``, or 1-byte integers, as
    ``pd.get_dummies`` makes them) as float64 CSR, in one pass over its bytes; None for any
    other input. scikit-learn's ``check_array`` would first build the dense float64 copy, 8
    bytes a cell (1.7 GB for an 80000 x 2625 MovieLens table)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "iloc") or 0 in X.shape:
        return None
    if not all(isinstance(dt, np.dtype) and (dt == bool or (dt.kind in "iu" and dt.itemsize == 1))
               for dt in dtypes):
        return None
    values = X.to_numpy()  # the frame's one block of bytes (a view when it is one block)
    if values.dtype.itemsize != 1 or values.dtype.kind not in "biu":
        return None
    f_order = values.flags.f_contiguous and not values.flags.c_contiguous
    flat = values.ravel(order="F" if f_order else "C")
    mask = flat if flat.dtype == bool else flat != 0
    if np.count_nonzero(mask) > SPARSE_MAX_FILL * mask.size:
        return None  # too full to pay off: scikit-learn's dense path
    return _dense_to_csr(values, mask).astype(np.float64)


def choose_layout(X, setting="auto"):
    """``(X, layout)``: the layout training uses, 'sparse' or 'dense', and X ready for it.

    ``setting`` forces a layout; 'auto' measures the padded row width the sparse layout would
    have (the bucketed largest number of non-zeros in a row) against the number of features,
    so sparse and mostly-zero dense input (one-hot tables, ``pd.get_dummies``) train sparse,
    and rows of very uneven length, which would pad every row to the longest, train dense. A
    dense X that trains sparse comes back as CSR (one pass); dense data pays one count.
    """
    if setting == "dense" or X.shape[0] == 0:
        if setting == "dense" and sp.issparse(X):
            _warn_large_dense(X)
        return X, "dense"
    if sp.issparse(X):
        X = X if X.format == "csr" else sp.csr_matrix(X)
        if setting == "auto" and not _fits_sparse(np.diff(X.indptr), X.shape[1]):
            return X, "dense"
        return X, "sparse"
    X = np.asarray(X)
    f_order = X.flags.f_contiguous and not X.flags.c_contiguous
    mask = X.ravel(order="F" if f_order else "C") != 0  # a view of X, in its memory order
    if setting == "auto" and np.count_nonzero(mask) > SPARSE_MAX_FILL * X.size:
        return X, "dense"  # the mean row already fills too much: no need to look closer
    csr = _dense_to_csr(X, mask)
    if setting == "auto" and not _fits_sparse(np.diff(csr.indptr), X.shape[1]):
        return X, "dense"
    return csr, "sparse"


def sparse_rows(X, n_rows, dtype):
    """X (sparse or dense) as ``SparseRows`` of ``n_rows`` rows, in O(nnz) host memory.

    Duplicate entries sum, as in scipy; explicit zeros and index order don't matter.
    """
    X = sp.csr_matrix(X, dtype=dtype, copy=True)  # sum_duplicates works in place
    X.sum_duplicates()
    if X.shape[0] > n_rows:
        raise ValueError(f"{X.shape[0]} rows do not fit in {n_rows}")
    lengths = np.diff(X.indptr)
    width = bucket(max(int(lengths.max(initial=0)), 1))
    indices = np.zeros((n_rows, width), np.int32)
    values = np.zeros((n_rows, width), dtype)
    row = np.repeat(np.arange(X.shape[0]), lengths)
    slot = np.arange(X.nnz) - X.indptr[row]
    indices[row, slot] = X.indices
    values[row, slot] = X.data
    return SparseRows(indices, values)


def device_arrays(X, Y, sample_weight, n_rows, dtype, layout="dense"):
    """``padded_arrays`` put on the device in one transfer."""
    import jax

    return tuple(jax.device_put(padded_arrays(X, Y, sample_weight, n_rows, dtype, layout)))


def stack(datasets):
    """Several models' padded data along a new leading (model) axis; sparse rows are padded to
    the widest. Entries that are None (no validation set) stay None."""
    if datasets[0] is None:
        return None
    X0 = datasets[0][0]
    if isinstance(X0, SparseRows):
        width = max(d[0].indices.shape[1] for d in datasets)

        def widen(a):
            return np.pad(a, ((0, 0), (0, width - a.shape[1])))

        datasets = [(SparseRows(widen(d[0].indices), widen(d[0].values)), *d[1:])
                    for d in datasets]
    import jax

    return jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *datasets)


# While open (``shared_padding``): padded arrays by where their inputs' entries lie in memory.
_PADDED: contextvars.ContextVar = contextvars.ContextVar("skmlp_padded", default=None)


@contextlib.contextmanager
def shared_padding():
    """Within this context, ``padded_arrays`` of the very same dense inputs (the same memory,
    shape, strides and dtype: a search's candidates of one CV fold, whose validated arrays are
    shared) are padded once, and the runs share that read-only copy. The 9 x 5 digits grid
    padded each fold's rows nine times, twice: 0.07-0.085 s before its lanes could start."""
    token = _PADDED.set({})
    try:
        yield
    finally:
        _PADDED.reset(token)


def _where(a):
    """A dense array's entries' place in memory, or None for anything else."""
    if a is None or type(a) is not np.ndarray:
        return None
    return a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str


def padded_arrays(X, Y, sample_weight, n_rows, dtype, layout="dense"):
    """X, Y, w, mask padded to ``n_rows`` rows (weight 0, mask 0), as host arrays.

    ``layout='sparse'`` lays X out as ``SparseRows`` without ever building the dense matrix.
    Within ``shared_padding``, equal calls on the same dense arrays share one result.
    """
    memo = _PADDED.get()
    key = None
    if memo is not None and layout == "dense":
        places = tuple(map(_where, (X, Y, sample_weight)))
        if places[0] is not None and places[1] is not None and (
                sample_weight is None or places[2] is not None):
            key = (*places, n_rows, np.dtype(dtype).str)
            if key in memo:
                return memo[key][1]
    out = _padded_arrays(X, Y, sample_weight, n_rows, dtype, layout)
    if key is not None:  # the inputs are kept too: their memory is not freed and reused
        memo[key] = ((X, Y, sample_weight), out)
    return out


def _padded_arrays(X, Y, sample_weight, n_rows, dtype, layout):
    n = X.shape[0]
    pad = n_rows - n
    if layout == "sparse":
        Xp = sparse_rows(X, n_rows, dtype)
    else:
        Xp = np.zeros((n_rows, X.shape[1]), dtype=dtype)
        Xp[:n] = _dense(X)
    Yp = np.zeros((n_rows, Y.shape[1]), dtype=dtype)
    Yp[:n] = Y
    w = np.zeros(n_rows, dtype=dtype)
    w[:n] = 1.0 if sample_weight is None else sample_weight
    mask = np.concatenate([np.ones(n, dtype=dtype), np.zeros(pad, dtype=dtype)])
    return Xp, Yp, w, mask


def hparams_to_device(hparams, dtype):
    """Hyperparameters on the device as 0-d (or 1-d) arrays of the compute dtype: runtime
    values, never constants baked into a compiled program. One transfer per fit (``device_put``
    compiles nothing, unlike building JAX arrays with ``jnp.asarray``)."""
    import jax

    return jax.device_put({k: np.asarray(v, dtype=dtype) for k, v in hparams.items()})
