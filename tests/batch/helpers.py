"""Shared pieces of the batch tests: the clips, running ``posekit batch``, comparing outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from posekit.batch import Ledger, LedgerEntry, file_records

ROOT = Path(__file__).resolve().parents[2]
CLIPS_DIR = ROOT / "tests" / "data" / "batch"
CLIPS = sorted(CLIPS_DIR.glob("*.mp4"))
FRAMES = "20"  # --max-frames per item (the whole clip): long enough to kill a worker mid-item
TRACK_FLAGS = ["--max-frames", FRAMES, "--threads", "1", "--quiet"]


def batch_command(inputs: list[Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "posekit", "batch", *map(str, inputs), "--out", str(out), *TRACK_FLAGS, *extra]


def run_batch_cli(inputs: list[Path], out: Path, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        batch_command(inputs, out, *extra), capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )


def entries(out: Path) -> dict[str, LedgerEntry]:
    return {entry.item.source: entry for entry in Ledger(out / "ledger.sqlite").entries()}


def item_folders(out: Path) -> dict[str, Path]:
    return {p.name: p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")}


def assert_same_outputs(out: Path, reference: Path) -> None:
    """Every item folder holds exactly the reference's files, byte for byte, and the ledger's
    sha256 of each done item matches what is on disk."""
    folders, expected = item_folders(out), item_folders(reference)
    assert sorted(folders) == sorted(expected)
    for name, folder in folders.items():
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted(p.name for p in expected[name].iterdir()), name
        for file_name in names:
            assert (folder / file_name).read_bytes() == (expected[name] / file_name).read_bytes(), (name, file_name)
    for entry in entries(out).values():
        if entry.state == "done":
            assert entry.result is not None
            assert entry.result.files == file_records(out / entry.item.out_name)


def assert_valid_jsonl(folder: Path, frames: int) -> None:
    (path,) = folder.glob("*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["frame_index"] for r in records] == list(range(frames))


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float, what: str, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


def pid_of_worker(worker: str) -> int:
    """``w1@host:1234`` -> 1234."""
    return int(worker.rsplit(":", 1)[1])
