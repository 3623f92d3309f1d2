"""Hyperparameter searches whose skmlp fits train as model stacks: many models, one program."""

from ._search import GridSearchCV, RandomizedSearchCV

__all__ = ["GridSearchCV", "RandomizedSearchCV"]
