"""Sphinx configuration for skmlp's documentation."""

import os
import sys
import warnings

from sphinx_gallery.sorting import ExplicitOrder

import skmlp

project = "skmlp"
author = "The skmlp developers"
copyright = "2026, The skmlp developers"
release = version = skmlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
    "benchfigures",  # docs/_ext: figures from the benchmark CSVs in docs/_static
]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))
# The performance page's plots read the figures in docs/_static.
plot_working_directory = os.path.dirname(os.path.abspath(__file__))
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "jax": ("https://docs.jax.dev/en/latest/", None),
    "optax": ("https://optax.readthedocs.io/en/latest/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
# Offline builds (no network): SKMLP_DOCS_OFFLINE=1 skips the inventories; references to
# other projects then render as plain text instead of failing the -W build.
if os.environ.get("SKMLP_DOCS_OFFLINE"):
    intersphinx_mapping = {}
    # scikit-learn's inherited docstrings cite its glossary and labels (:term:`fit`)
    suppress_warnings = ["ref.term", "ref.ref"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
# Docstring validation, with the checks scikit-learn applies to its own docstrings: all but
# GL01/GL02 (where the summary starts) and RT02 (a named return value). Extended summaries,
# See Also and Examples are required of the public classes and functions by
# tests/test_docstrings.py, not of every method. Methods inherited from scikit-learn are its
# docstrings, not ours.
numpydoc_validation_checks = {"all", "GL01", "GL02", "RT02", "ES01", "SA01", "EX01"}
numpydoc_validation_exclude = {
    r"\.get_params$", r"\.set_params$", r"\.set_\w+_request$", r"\.get_metadata_routing$",
    r"\.set_output$", r"\.__init__$", r"\.set_callbacks$",
    r"(GridSearchCV|RandomizedSearchCV)\.(decision_function|inverse_transform|predict|"
    r"predict_log_proba|predict_proba|score|score_samples|transform|classes_|"
    r"n_features_in_)$",
}
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "**.codeobj.json"]
html_theme = "pydata_sphinx_theme"
html_static_path = []
html_title = f"skmlp {version}"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # gpu_training.py is shown, not run
    "subsection_order": ExplicitOrder([f"../examples/{d}" for d in (
        "getting_started", "toolkit", "stacks", "data", "deploy")]),
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": (),  # outputs are what examples print, not the repr of a last expression
    "plot_gallery": os.environ.get("SKMLP_DOCS_PLOT", "True"),
    "matplotlib_animations": False,
    # "Examples using X" on every API page
    "doc_module": ("skmlp",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skmlp": None},
}

# Examples show the warnings a user would see (an example that silences one says so in its
# code); only matplotlib's note about the non-interactive backend is quiet.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently")
os.environ.setdefault("MPLBACKEND", "agg")
