import os

import pytest

import skmlp


@pytest.fixture(autouse=True, scope="session")
def _isolated_compile_cache(tmp_path_factory):
    """Tests never read or write the user's compile cache, in this process or in the joblib
    workers it starts (they inherit the environment)."""
    directory = tmp_path_factory.mktemp("skmlp-cache")
    previous = os.environ.get("SKMLP_CACHE_DIR")
    os.environ["SKMLP_CACHE_DIR"] = str(directory)
    skmlp.set_compile_cache(enabled=True, directory=directory)
    yield
    if previous is None:
        os.environ.pop("SKMLP_CACHE_DIR", None)
    else:
        os.environ["SKMLP_CACHE_DIR"] = previous
