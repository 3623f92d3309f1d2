"""The compiled programs skmlp runs, defined once at module level.

Static arguments are hashable descriptions of code and shapes (``TrainSpec``, layer sizes,
solver names); every number a user tunes is an array argument, so one compiled program per
architecture serves every learning rate, alpha, momentum and fold of a grid search.
"""

import functools

import jax

from ._core import train


class Program:
    """A jitted function; the single place where skmlp's programs are compiled.

    ``trace_count`` counts traces (each is a compile unless a cache serves it), so tests can
    assert that a new learning rate, alpha or fold size compiles nothing.
    """

    def __init__(self, fun, static_argnames=()):
        self.fun = fun
        self.static_argnames = tuple(static_argnames)
        self.trace_count = 0

        @functools.wraps(fun)
        def traced(*args, **kwargs):
            self.trace_count += 1  # runs only while tracing, never in the compiled program
            return fun(*args, **kwargs)

        self._jit = jax.jit(traced, static_argnames=self.static_argnames)

    def __call__(self, *args, **kwargs):
        return self._jit(*args, **kwargs)


train_epoch = Program(train.train_epoch, static_argnames=("spec",))
evaluate = Program(train.evaluate, static_argnames=("spec",))
full_batch_value_and_grad = Program(train.full_batch_value_and_grad, static_argnames=("spec",))


PROGRAMS = (train_epoch, evaluate, full_batch_value_and_grad)
