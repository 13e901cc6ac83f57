import pytest

from tests.batch.helpers import CLIPS, run_batch_cli


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """An uninterrupted run of the four clips on one worker: what every other run must reproduce."""
    out = tmp_path_factory.mktemp("reference")
    done = run_batch_cli(CLIPS, out, "--workers", "1")
    assert done.returncode == 0, done.stderr
    return out
