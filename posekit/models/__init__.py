"""Vendored model files and their manifest (see ``manifest.json`` and ``NOTICE``).

Nothing here downloads anything: every model ships inside the package.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from posekit.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parent


@cache
def manifest() -> dict[str, dict]:
    """File name -> manifest entry (size, sha256, origin, licence)."""
    data = json.loads((MODELS_DIR / "manifest.json").read_text())
    return {entry["file"]: entry for entry in data["models"]}


def model_path(file_name: str) -> Path:
    """Path of a vendored model; checks it is listed and has the recorded size."""
    entry = manifest().get(file_name)
    if entry is None:
        raise ModelError(f"{file_name} is not a vendored model (known: {', '.join(sorted(manifest()))})")
    path = MODELS_DIR / file_name
    if not path.is_file() or path.stat().st_size != entry["size"]:
        raise ModelError(f"{path}: missing or truncated; reinstall posekit or run tools/fetch_models.py")
    return path
