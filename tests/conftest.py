import pytest

import skmlp


@pytest.fixture(autouse=True, scope="session")
def _isolated_compile_cache(tmp_path_factory):
    """Tests never read or write the user's compile cache."""
    skmlp.set_compile_cache(enabled=True, directory=tmp_path_factory.mktemp("skmlp-cache"))
    yield
