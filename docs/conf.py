"""Sphinx configuration for skmlp's documentation."""

import os
import warnings

from sklearn.exceptions import ConvergenceWarning

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
]
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
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": os.environ.get("SKMLP_DOCS_PLOT", "True"),
    "matplotlib_animations": False,
    # "Examples using X" on every API page
    "doc_module": ("skmlp",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skmlp": None},
}

# Examples print their own figures; quiet the warnings they intentionally provoke (short
# fits that stop at max_iter) so that rendered output shows no warnings or build paths.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently")
warnings.filterwarnings("ignore", category=ConvergenceWarning)
os.environ.setdefault("MPLBACKEND", "agg")
