"""What a fit tells about its epochs: skmlp's own callbacks (``callbacks=``, each called as
``callback(estimator, figures)``) and scikit-learn's callback framework (``sklearn.callback``:
a fit task with one ``epoch`` subtask per epoch).

The trainer knows neither: it tells an ``EpochListener`` about each epoch, and the listener
shows the estimator that epoch's model before calling anyone.
"""

from ._predict import weight_attributes
from ._sklearn_compat import callback_context


def callback_list(callbacks):
    """The ``callbacks`` parameter as a list."""
    if callbacks is None:
        return []
    return [callbacks] if callable(callbacks) else list(callbacks)


def begin_fit(est, n_epochs, X, y, sample_weight):
    """Open a fit's root ``sklearn.callback`` task (None when nobody listens)."""
    context = callback_context(est, n_epochs)
    if context is not None:
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        context.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata=metadata)
    return context


def end_fit(est, context, X, y):
    """End a fit's root ``sklearn.callback`` task: ``est`` is fitted, nothing to rebuild."""
    if context is not None:
        context.call_on_fit_task_end(estimator=est, X=X, y=y, reconstruction_attributes={})


def replay(est, X, y, sample_weight):
    """Report a fit that a model stack already trained to scikit-learn's callbacks (a search
    propagates them only now): its epochs, then the fitted model."""
    context = begin_fit(est, est.n_iter_, X, y, sample_weight)
    if context is None:
        return
    for _ in range(est.n_iter_):
        epoch = context.subcontext(task_name="epoch")
        epoch.call_on_fit_task_begin(estimator=est, X=X, y=y)
        epoch.call_on_fit_task_end(estimator=est, X=X, y=y)
    end_fit(est, context, X, y)


class EpochListener:
    """Tells an estimator's callbacks about each epoch the trainer completes.

    ``show(history, weights)`` puts an epoch's record and weights on the estimator, so that a
    callback reading ``est.coefs_`` or ``est.loss_curve_`` sees that epoch. ``custom_rate``: an
    optax solver applies its own learning rate, which skmlp cannot see (reported as None).
    """

    def __init__(self, est, show, callbacks, context, X, y, out_dtype, custom_rate=False):
        self.est, self.show, self.callbacks = est, show, callbacks
        self.context, self.X, self.y = context, X, y
        self.out_dtype, self.custom_rate = out_dtype, custom_rate
        self._epoch = None

    def begin_epoch(self):
        if self.context is not None:
            self._epoch = self.context.subcontext(task_name="epoch")
            self._epoch.call_on_fit_task_begin(estimator=self.est, X=self.X, y=self.y)

    def end_epoch(self, history, metrics, learning_rate, fetch_weights):
        """True when a callback asks to stop. ``fetch_weights`` is None for an epoch that
        learned nothing finite: only scikit-learn's epoch task is closed, with no model."""
        stop = False
        if fetch_weights is not None and self.callbacks:
            self.show(history, fetch_weights())
            figures = {"epoch": history.n_iter, "loss": history.loss,
                       "learning_rate": None if self.custom_rate else learning_rate}
            if "val_score" in metrics:
                figures["validation_score"] = float(metrics["val_score"])
                figures["validation_loss"] = float(metrics["val_loss"])
            for callback in self.callbacks:
                stop = bool(callback(self.est, figures)) or stop
            if stop:
                return True
        epoch, self._epoch = self._epoch, None
        if epoch is None:
            return False
        # A callback that wants this epoch's model (``fitted_estimator``) gets a copy of the
        # estimator holding these weights.
        rebuild = None if fetch_weights is None else (
            lambda: weight_attributes(*fetch_weights(), self.out_dtype))
        return bool(epoch.call_on_fit_task_end(estimator=self.est, X=self.X, y=self.y,
                                               reconstruction_attributes=rebuild))
