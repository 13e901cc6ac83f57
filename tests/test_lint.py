"""Lint runs with the tests, so CI checks it the same way as a developer's machine."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [ruff, "check", "posekit", "tests", "bench", "tools"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean():
    mypy = shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy not installed (pip install -e '.[dev]')")
    proc = subprocess.run([mypy, "posekit", "--ignore-missing-imports"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
