"""report.html opened in headless Chromium: the page is self-contained and its plots render.

The report is written by ``posekit analyze`` from a synthetic scene (a jumper and a walker). A
copy of the page gets a small script that lists every image's decoded size once the page has
loaded; Chromium's ``--dump-dom`` shows the result. A screenshot then shows the plots' line
colours (matplotlib's blue and orange) drawn on the page, i.e. the PNGs were decoded and painted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit.cli import main
from tests.analysis.test_cli_analyze import _scene

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="needs Debian's chromium")

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking")
_PROBE = (
    "<script>window.addEventListener('load', () => {"
    "const sizes = [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]);"
    "const out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(sizes);"
    "document.body.appendChild(out);});</script>"
)


def _chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    result = subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return result.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    _scene(folder / "scene.jsonl")
    out = folder / "out"
    assert main(["analyze", str(folder / "scene.jsonl"), "--out", str(out), "--exercise", "jumping_jack"]) == 0
    return folder / "out" / "report.html"


def test_report_is_self_contained(report: Path):
    page = report.read_text(encoding="utf-8")
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert sources and all(s.startswith(("data:image/png;base64,", "#track-")) for s in sources)


def test_report_plots_decode_in_chromium(report: Path, tmp_path: Path):
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, "the page did not finish loading in Chromium"
    images = json.loads(match.group(1).replace("&quot;", '"'))
    plots = len(list((report.parent / "plots").glob("*.png")))
    assert len(images) == plots >= 3  # two angle plots and the walker's gait plot
    assert all(complete and width > 300 and height > 150 for _, complete, width, height in images)


def test_report_plots_are_painted(report: Path, tmp_path: Path):
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    image = cv2.imread(str(shot))
    assert image is not None
    for bgr in ((180, 119, 31), (14, 127, 255)):  # matplotlib tab:blue, tab:orange
        close = np.abs(image.astype(int) - np.array(bgr)).sum(axis=2) < 40
        assert close.sum() > 200, f"no plot lines of colour {bgr} on the rendered page"
