#!/usr/bin/env python3
"""Writes xtcocotools' COCO-WholeBody numbers for the test builder's results (a reference file).

posekit scores COCO-WholeBody with its own numpy code; ``tests/eval/test_wholebody.py`` checks it
against the numbers this script stores. xtcocotools is not a posekit dependency (its wheels need
numpy < 2), so run it in a separate venv:

    python3 -m venv /tmp/xtc && /tmp/xtc/bin/pip install xtcocotools==1.14.3 "numpy<2"
    /tmp/xtc/bin/python tools/xtcocotools_reference.py > tests/data/reference/xtcocotools_wholebody.json

Per part it runs ``COCOeval(gt, dt, "keypoints_<part>", sigmas[part], use_area=True)`` as
COCO-WholeBody's and mmpose's evaluators do.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.eval.wholebody_results import CASES, noisy_wholebody_results  # noqa: E402

# COCO-WholeBody's sigmas, repeated here so the script needs only numpy and xtcocotools; the
# test checks they equal posekit.schemas.WHOLEBODY133.sigmas.
SIGMAS = json.loads((ROOT / "tests/data/reference/wholebody133_sigmas.json").read_text())
PARTS = {
    "body": (0, 17),
    "foot": (17, 23),
    "face": (23, 91),
    "lefthand": (91, 112),
    "righthand": (112, 133),
    "wholebody": (0, 133),
}
KEYS = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def main() -> None:
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    warnings.simplefilter("ignore")
    sigmas = np.array(SIGMAS)
    data = json.loads((ROOT / "tests/data/annotations/coco_wholebody.json").read_text())
    out = []
    for noise, seed, with_bbox, part_scores in CASES:
        results = noisy_wholebody_results(data, sigmas, noise, seed, with_bbox=with_bbox, part_scores=part_scores)
        metrics = {}
        for part, (start, stop) in PARTS.items():
            with contextlib.redirect_stdout(io.StringIO()):
                gt = COCO()
                gt.dataset = copy.deepcopy(data)
                gt.createIndex()
                dt = gt.loadRes(copy.deepcopy(results))
                ev = COCOeval(gt, dt, "keypoints_" + part, sigmas[start:stop], use_area=True)
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
            metrics[part] = dict(zip(KEYS, [float(v) for v in ev.stats], strict=True))
        out.append({"case": [noise, seed, with_bbox, part_scores], "metrics": metrics})
    json.dump({"xtcocotools": "1.14.3", "cases": out}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
