"""From ``posekit batch INPUTS...`` to work items: files, folders (recursive), globs and manifests.

* ``track`` / ``analyze``: one item per video. A file named explicitly is kept whatever its suffix
  (so a bad file gets its own error line when it is read); a folder gives the videos under it; a
  URL (``rtsp://``, ``http://``) is one item.
* ``predict``: one item per folder of images: a folder gives itself and every folder under it that
  holds images directly.
* A manifest (``.txt`` / ``.list``: one source per line, ``#`` comments; ``.csv``: a ``source``
  column and optional option columns named as the flags, e.g. ``max_frames,keypoints``) gives its
  sources, relative paths read from the manifest's folder, each with its own options on top of
  the command line's.

Hidden files and folders and anything under the output folder are skipped.
"""

from __future__ import annotations

import csv
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posekit.batch.items import TaskName, WorkItem, make_item, normalise_option_name
from posekit.batch.options import parse_item_options
from posekit.errors import UsageError
from posekit.io.images import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"})
MANIFEST_SUFFIXES = frozenset({".txt", ".list", ".lst", ".csv"})


@dataclass
class Collected:
    """The items found, in input order without duplicates, and one message per input that gave none."""

    items: list[WorkItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def collect_items(
    inputs: list[str], task: TaskName, options: dict[str, Any], *, exclude: Path | None = None
) -> Collected:
    """Expands ``inputs`` into items of ``task`` with ``options``; ``exclude``: the output folder."""
    collected = Collected()
    seen: set[str] = set()
    excluded = exclude.resolve() if exclude is not None else None
    for text in inputs:
        for source, own_options in _sources(text, task, collected.errors):
            if excluded is not None and "://" not in source and _is_under(Path(source).resolve(), excluded):
                continue
            merged = {**options, **own_options}
            try:
                parse_item_options(task, source, merged)  # bad options are this line's error, not the run's
            except UsageError as exc:
                collected.errors.append(f"{source}: {exc}")
                continue
            item = make_item(source, task, merged)
            if item.item_id not in seen:
                seen.add(item.item_id)
                collected.items.append(item)
    return collected


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _videos_under(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file() and _visible(p, folder)
    )


def _image_folders_under(folder: Path) -> list[Path]:
    candidates = [folder, *sorted(p for p in folder.rglob("*") if p.is_dir() and _visible(p, folder))]
    return [candidate for candidate in candidates if any(_is_image(p) for p in candidate.iterdir())]


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def _sources(text: str, task: TaskName, errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    if "://" in text:
        return [(text, {})]
    path = Path(text)
    if path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        return _read_manifest(path, errors)
    if path.is_dir():
        found = _image_folders_under(path) if task == "predict" else _videos_under(path)
        if not found:
            errors.append(f"{text}: {'no folder of images' if task == 'predict' else 'no videos'} in this folder")
        return [(str(p), {}) for p in found]
    if path.exists():
        return [(text, {})]
    if glob.has_magic(text):
        matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
        if task == "predict":
            found = [folder for match in matches if match.is_dir() for folder in _image_folders_under(match)]
        else:
            found = [m for m in matches if m.is_file() and m.suffix.lower() in VIDEO_SUFFIXES]
            found += [v for m in matches if m.is_dir() for v in _videos_under(m)]
        if not found:
            errors.append(f"{text}: pattern matches nothing to {task}")
        return [(str(p), {}) for p in found]
    errors.append(f"{text}: no such file or folder")
    return []


def _read_manifest(path: Path, errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Sources listed in a manifest; relative paths are read from the manifest's folder."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{path}: cannot read manifest: {exc}")
        return []
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or "source" not in reader.fieldnames:
            errors.append(f"{path}: a CSV manifest needs a 'source' column")
            return []
        for row in reader:
            source = (row.pop("source") or "").strip()
            if source and not source.startswith("#"):
                options = {normalise_option_name(k): v.strip() for k, v in row.items() if k and v and v.strip()}
                rows.append((source, options))
    else:
        for line in text.splitlines():
            source = line.strip()
            if source and not source.startswith("#"):
                rows.append((source, {}))
    return [(_resolve(source, path.parent), options) for source, options in rows]


def _resolve(source: str, base: Path) -> str:
    if "://" in source or Path(source).is_absolute():
        return source
    return str(base / source)
