"""``LossCurveDisplay`` (training curves against epochs, in scikit-learn's Display style) and the
``summary()`` table."""

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._predict import per_layer


def _final_mlp(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def _curves_of(mlp):
    check_is_fitted(mlp)
    if not hasattr(mlp, "loss_curve_"):
        raise ValueError(f"{type(mlp).__name__} has no loss curve: solver='lbfgs' records none "
                         f"(it reports only the final loss_). Use a stochastic solver.")
    val_loss = getattr(mlp, "validation_loss_curve_", None) or None
    val_score = getattr(mlp, "validation_scores_", None) or None
    return (np.asarray(mlp.loss_curve_, float),
            None if val_loss is None else np.asarray(val_loss, float),
            None if val_score is None else np.asarray(val_score, float))


def _mean(curves):
    """Mean over folds, epoch by epoch, over the folds that reached each epoch."""
    curves = [c for c in curves if c is not None]
    if not curves:
        return None
    longest = max(len(c) for c in curves)
    padded = np.full((len(curves), longest), np.nan)
    for i, c in enumerate(curves):
        padded[i, :len(c)] = c
    return np.nanmean(padded, axis=0)


class LossCurveDisplay:
    """Training loss, validation loss and validation score against epochs.

    Build it with :meth:`from_estimator` (one or several fitted estimators, or a fitted
    ``skmlp.model_selection`` search, whose candidates it overlays). The training and
    validation losses share the left axis; the validation score (accuracy or R^2, recorded
    with ``early_stopping=True``) is drawn dashed on a right-hand axis.

    Parameters
    ----------
    loss_curves : list of ndarray
        One training-loss curve per line.
    validation_loss_curves : list of ndarray or None, default=None
        The validation losses, one per line (None where not recorded).
    validation_scores : list of ndarray or None, default=None
        The validation scores, one per line (None where not recorded).
    names : list of str, default=None
        The legend label of each line.
    score_name : str, default="validation score"
        The label of the score axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the losses.
    score_ax_ : matplotlib Axes or None
        The twin axes of the validation scores, when any was recorded.
    figure_ : matplotlib Figure
        The figure holding the axes.
    lines_ : list of matplotlib Line2D
        Every line drawn.

    See Also
    --------
    skmlp.MLPClassifier : Records ``loss_curve_`` and, with early stopping, the validation
        curves.
    skmlp.model_selection.GridSearchCV : Records ``loss_curves_`` per candidate and fold.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skmlp import LossCurveDisplay, MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=20, early_stopping=True, random_state=0).fit(X / 16, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> [line.get_label() for line in display.lines_]
    ['training loss', 'validation loss', 'validation accuracy']
    """

    def __init__(self, *, loss_curves: Sequence[np.ndarray],
                 validation_loss_curves: Sequence[np.ndarray | None] | None = None,
                 validation_scores: Sequence[np.ndarray | None] | None = None,
                 names: Sequence[str] | None = None,
                 score_name: str = "validation score") -> None:
        self.loss_curves = loss_curves
        self.validation_loss_curves = validation_loss_curves
        self.validation_scores = validation_scores
        self.names = names
        self.score_name = score_name

    def plot(self, ax: Any = None, *, show_validation: bool = True,
             **kwargs: Any) -> "LossCurveDisplay":
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure when None.
        show_validation : bool, default=True
            Whether to draw the validation loss and score where they were recorded.
        **kwargs : dict
            Passed to every ``Axes.plot`` call (``linewidth``, ``alpha``, ...).

        Returns
        -------
        display : LossCurveDisplay
            This object, with ``ax_``, ``score_ax_``, ``figure_`` and ``lines_``.
        """
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D

        own_figure = ax is None
        if own_figure:  # laid out by matplotlib, the legend beside the axes
            ax = plt.figure(layout="constrained").add_subplot()
        n = len(self.loss_curves)
        names = self.names if self.names is not None else [None] * n
        val_losses = self.validation_loss_curves or [None] * n
        val_scores = self.validation_scores or [None] * n
        single = n == 1
        colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        lines, score_ax = [], None
        kinds: dict[str, Any] = {"training loss": "-"}  # curve kind -> its line style
        for i, (loss, name) in enumerate(zip(self.loss_curves, names)):
            color = colors[i % len(colors)]
            prefix = "" if single or name is None else f"{name}: "
            epochs = np.arange(1, len(loss) + 1)
            lines += ax.plot(epochs, loss, color=color, label=f"{prefix}training loss",
                             **kwargs)
            if not show_validation:
                continue
            val_loss, val_score = val_losses[i], val_scores[i]
            if val_loss is not None:
                kinds["validation loss"] = ":"
                lines += ax.plot(np.arange(1, len(val_loss) + 1), val_loss,
                                 color=color, linestyle=":", label=f"{prefix}validation loss",
                                 **kwargs)
            if val_score is not None:
                kinds[self.score_name] = "--"
                if score_ax is None:
                    score_ax = ax.twinx()
                    score_ax.set_ylabel(self.score_name)
                lines += score_ax.plot(np.arange(1, len(val_score) + 1), val_score,
                                       color=color, linestyle="--",
                                       label=f"{prefix}{self.score_name}", **kwargs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if single or all(name is None for name in names):
            handles = lines
        else:  # one entry per model (its colour) and one per kind of curve (its style)
            handles = [Line2D([], [], color=colors[i % len(colors)], label=str(name))
                       for i, name in enumerate(names)]
            if len(kinds) > 1:
                handles += [Line2D([], [], color="0.4", linestyle=style, label=kind)
                            for kind, style in kinds.items()]
        if own_figure and (score_ax is not None or len(handles) > 4):
            # below the axes, across the figure: long labels never squeeze the plot
            ax.figure.legend(handles=handles, loc="outside lower center", fontsize="small",
                             ncols=1 if max(len(h.get_label()) for h in handles) > 40 else 2)
        else:
            ax.legend(handles=handles, loc="best", fontsize="small")
        self.ax_, self.score_ax_, self.figure_, self.lines_ = ax, score_ax, ax.figure, lines
        return self

    @classmethod
    def from_estimator(cls, estimator: Any, *, names: Sequence[str] | None = None,
                       candidates: Sequence[int] | None = None, ax: Any = None,
                       show_validation: bool = True, **kwargs: Any) -> "LossCurveDisplay":
        """Plot the curves of fitted estimators.

        Parameters
        ----------
        estimator : estimator, list of estimators, or fitted search
            A fitted skmlp ``MLPClassifier`` or ``MLPRegressor`` (or a ``Pipeline`` ending in
            one), a list of them (overlaid), an ``MLPEnsemble*`` (its members overlaid), or a
            fitted ``skmlp.model_selection`` search (each candidate's curves, averaged over
            its folds, labelled by its parameters).
        names : list of str, default=None
            Legend labels; by default the class names (numbered when repeated), for a search
            the parameters that vary among the candidates plotted, or ``member i``.
        candidates : array-like of int, default=None
            For a search: the indices (into ``cv_results_``) of the candidates to plot; all
            by default.
        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure when None.
        show_validation : bool, default=True
            Whether to draw the validation loss and score where they were recorded.
        **kwargs : dict
            Passed to every ``Axes.plot`` call.

        Returns
        -------
        display : LossCurveDisplay
        """
        if hasattr(estimator, "cv_results_"):
            curves, default_names = cls._search_curves(estimator, candidates)
        else:
            if hasattr(estimator, "estimators_") and not isinstance(estimator, Pipeline):
                mlps = list(estimator.estimators_)
                default_names = [f"member {i}" for i in range(len(mlps))]
            else:
                mlps = list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
                default_names = [type(_final_mlp(m)).__name__ for m in mlps]
                if len(set(default_names)) < len(default_names):
                    default_names = [f"{n} {i}" for i, n in enumerate(default_names)]
            curves = [_curves_of(_final_mlp(m)) for m in mlps]
        if names is not None and len(names) != len(curves):
            raise ValueError(f"names has {len(names)} entries for {len(curves)} curves.")
        first: Any = estimator[0] if isinstance(estimator, (list, tuple)) else estimator
        first = getattr(first, "best_estimator_", first)
        first = first.estimators_[0] if hasattr(first, "estimators_") else first
        score_name = ("validation accuracy" if is_classifier(_final_mlp(first))
                      else "validation R^2")
        display = cls(loss_curves=[c[0] for c in curves],
                      validation_loss_curves=[c[1] for c in curves],
                      validation_scores=[c[2] for c in curves],
                      names=list(names) if names is not None else default_names,
                      score_name=score_name)
        return display.plot(ax=ax, show_validation=show_validation, **kwargs)

    @staticmethod
    def _search_curves(search, candidates):
        per_candidate = getattr(search, "loss_curves_", None)
        if per_candidate is None:
            raise ValueError(
                "This search recorded no loss curves: use skmlp.model_selection.GridSearchCV "
                "or RandomizedSearchCV (or pass search.best_estimator_).")
        curves, names = [], []
        chosen = range(len(per_candidate)) if candidates is None else candidates
        for i in chosen:
            params, folds = search.cv_results_["params"][i], per_candidate[i]
            if folds is None:  # fitted in scikit-learn's loop, which keeps no estimator
                continue
            curves.append(tuple(_mean([f[k] for f in folds]) for k in range(3)))
            names.append(params)
        # Label each candidate by the parameters that vary among those plotted.
        varying = [k for k in names[0] if len({repr(p[k]) for p in names}) > 1] if names else []
        names = [", ".join(f"{k.split('__')[-1]}={v:.3g}" if isinstance(v, float)
                           else f"{k.split('__')[-1]}={v!r}"
                           for k, v in params.items() if k in varying or not varying)
                 for params in names]
        if not curves:
            raise ValueError("No candidate of this search recorded loss curves (none was "
                             "trained as a model stack).")
        return curves, names


class ModelSummary(str):
    """The text of ``summary()``, a ``str`` that shows itself when echoed.

    A REPL or notebook that echoes it shows the table, not its quoted repr; in a notebook it
    renders as HTML. Everything a ``str`` does works on it.

    See Also
    --------
    skmlp.MLPClassifier.summary : What returns it.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> summary = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5).fit(X, y).summary()
    >>> isinstance(summary, str), "Total params" in summary
    (True, True)
    """

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):  # IPython's plain-text display
        printer.text(str(self))

    def _repr_html_(self):
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def model_summary(est):
    """A fitted MLP's layers as a ``ModelSummary`` table (see ``summary()``)."""
    n_hidden = est.n_layers_ - 2
    activations = per_layer(est.activation, n_hidden, "activation")
    rates = per_layer(est.dropout, n_hidden, "dropout")
    rows = [("input", "", est.coefs_[0].shape[0], 0, 0)]
    for i in range(est.n_layers_ - 1):
        n_params = est.coefs_[i].size + est.intercepts_[i].size
        n_fixed = 0
        if i < n_hidden:
            extra = [activations[i]]
            if est.batch_norm:
                n_params += est.batch_norm_scales_[i].size + est.batch_norm_shifts_[i].size
                n_fixed = est.batch_norm_means_[i].size + est.batch_norm_vars_[i].size
                extra.append("batch norm")
            if rates[i]:
                extra.append(f"dropout {rates[i]:g}")
            name, detail = f"hidden {i + 1}", ", ".join(extra)
        else:
            name, detail = "output", est.out_activation_
        rows.append((name, detail, est.coefs_[i].shape[1], n_params + n_fixed, n_fixed))
    trainable = sum(r[3] - r[4] for r in rows)
    fixed = sum(r[4] for r in rows)
    table = [("layer", "activation", "width", "parameters")]
    table += [(n, d, str(w), f"{p:,}") for n, d, w, p, _ in rows]
    widths = [max(len(r[j]) for r in table) for j in range(4)]

    def fmt(r):
        return (f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  "
                f"{r[3]:>{widths[3]}}").rstrip()

    rule = "-" * (sum(widths) + 6)
    lines = [f"{type(est).__name__}", fmt(table[0]), rule, *map(fmt, table[1:]), rule,
             f"Total params: {trainable + fixed:,}",
             f"Trainable params: {trainable:,}",
             f"Non-trainable params: {fixed:,}"]
    return ModelSummary("\n".join(lines))
