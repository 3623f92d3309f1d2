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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
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
}

# Examples print their own figures; quiet the warnings they intentionally provoke.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently")
os.environ.setdefault("MPLBACKEND", "agg")
