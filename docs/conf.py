"""Sphinx configuration for skmlp's documentation."""

import os
import warnings

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
]
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
    suppress_warnings = ["ref.class", "ref.func", "ref.meth", "ref.obj", "ref.mod"]
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

# Examples print their own figures; quiet the warnings they intentionally provoke.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently")
os.environ.setdefault("MPLBACKEND", "agg")
