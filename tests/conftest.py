import numpy as np
import pytest

from dd2424.synthetic import write_archive


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """(path, md5) of a small synthetic archive in the official layout."""
    path = tmp_path_factory.mktemp("archive") / "cifar-10-python.tar.gz"
    return path, write_archive(path, per_batch=60)
