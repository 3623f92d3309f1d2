"""Host-side stopping and learning-rate decisions, taken once per epoch from a few scalars.

This is scikit-learn's logic (``_update_no_improvement_count``, ``SGDOptimizer``'s
``iteration_ends`` / ``trigger_stopping``) written apart from the optimizer, plus the
'cosine' schedule and linear warm-up.
"""

import math


def update_no_improvement(count, best, current, tol, higher_is_better):
    """scikit-learn's rule. Returns ``(count, best, improved)``.

    A score must beat ``best + tol`` (a loss ``best - tol``) to reset the count; ``best``
    moves on any strict improvement.
    """
    sign = 1.0 if higher_is_better else -1.0
    cur, bst = sign * current, sign * best
    count = count + 1 if cur < bst + tol else 0
    improved = cur > bst
    return count, (current if improved else best), improved


class LearningRateSchedule:
    """The learning rate for the next epoch.

    'constant', 'invscaling' (``lr_init / (t + 1) ** power_t`` with t the samples seen) and
    'adaptive' (divide by 5 when progress stalls, stop below 1e-6) are scikit-learn's;
    'cosine' anneals from ``lr_init`` to 0 over ``max_iter`` epochs. ``warmup_epochs`` ramps
    linearly up to the scheduled rate first.
    """

    def __init__(self, kind, learning_rate_init, power_t=0.5, max_iter=200, warmup_epochs=0):
        self.kind = kind
        self.learning_rate_init = float(learning_rate_init)
        self.power_t = power_t
        self.max_iter = max_iter
        self.warmup_epochs = warmup_epochs
        self.base_rate = self.learning_rate_init  # rate before warm-up scaling
        self.epoch = 0

    @property
    def learning_rate(self):
        if self.warmup_epochs and self.epoch < self.warmup_epochs:
            return self.base_rate * (self.epoch + 1) / (self.warmup_epochs + 1)
        return self.base_rate

    def iteration_ends(self, time_step):
        """Advance after an epoch; ``time_step`` is the number of samples seen so far."""
        self.epoch += 1
        if self.kind == "invscaling":
            self.base_rate = self.learning_rate_init / (time_step + 1) ** self.power_t
        elif self.kind == "cosine":
            progress = min(self.epoch / max(self.max_iter, 1), 1.0)
            self.base_rate = 0.5 * self.learning_rate_init * (1 + math.cos(math.pi * progress))

    def trigger_stopping(self, msg, verbose):
        """True to stop; 'adaptive' lowers the rate instead until it is below 1e-6."""
        if self.kind != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.base_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.base_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.base_rate)
        return False
