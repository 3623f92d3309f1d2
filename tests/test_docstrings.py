"""numpydoc validation of skmlp's public docstrings, with scikit-learn's rules for its own.

Every check applies but GL01/GL02 (where the summary starts) and RT02 (a named return value);
public classes and functions must also have an extended summary, a See Also section and an
example (ES01, SA01, EX01), which methods may leave out. The docs build runs the same
validation (``numpydoc_validation_checks`` in docs/conf.py).
"""

import inspect

import pytest

import skmlp
import skmlp.datasets
import skmlp.ensemble
import skmlp.model_selection

validate = pytest.importorskip("numpydoc.validate")

PUBLIC = [
    ("skmlp", name) for name in skmlp.__all__ if callable(getattr(skmlp, name))
] + [("skmlp.onnx", "to_onnx"), ("skmlp.model_selection", "GridSearchCV"), ("skmlp.model_selection", "RandomizedSearchCV"),
     ("skmlp.ensemble", "MLPEnsembleClassifier"), ("skmlp.ensemble", "MLPEnsembleRegressor"),
     ("skmlp.datasets", "make_ratings")]
ALWAYS_IGNORED = {"GL01", "GL02", "RT02"}
METHOD_IGNORED = ALWAYS_IGNORED | {"ES01", "SA01", "EX01"}


def _targets():
    import importlib

    for module_name, name in PUBLIC:
        obj = getattr(importlib.import_module(module_name), name)
        yield f"{module_name}.{name}", ALWAYS_IGNORED
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():  # methods defined by skmlp, not inherited
                if not attr.startswith("_") and (inspect.isfunction(member)
                                                 or isinstance(member, classmethod)):
                    yield f"{module_name}.{name}.{attr}", METHOD_IGNORED


@pytest.mark.parametrize("target, ignored", list(_targets()), ids=lambda t: str(t))
def test_public_docstring_passes_numpydoc_validation(target, ignored):
    errors = [(code, message) for code, message in validate.validate(target)["errors"]
              if code not in ignored]
    assert not errors, "\n".join(f"{code}: {message}" for code, message in errors)
