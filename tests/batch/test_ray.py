"""The same items on Ray: one Ray started on loopback for the module (2 CPUs), driven in-process
(``--ray``, which joins the Ray already up) and from a separate process (``--ray ADDRESS``).

Outputs must equal the local pool's byte for byte, the ledger must move between backends without
redoing or losing items, and an actor killed with SIGKILL mid-item must cost a retry, not the item.
"""

import os
import signal
import subprocess

import pytest

from posekit.cli import main
from tests.batch.helpers import (
    CLIPS,
    ROOT,
    TRACK_FLAGS,
    assert_same_outputs,
    batch_command,
    entries,
    kill_group,
    pid_of_worker,
    wait_for,
)

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'posekit[ray]')")


@pytest.fixture(scope="module")
def ray_address():
    """A Ray of this test process on 127.0.0.1 with 2 CPUs, shut down after the module."""
    context = ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1"
    )
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


def _batch(inputs, out, *extra):
    """``posekit batch`` in this process (so ``--ray`` uses the module's Ray)."""
    return main(["batch", *map(str, inputs), "--out", str(out), *TRACK_FLAGS, *extra])


def _summary_line(text):
    (line,) = [line for line in text.splitlines() if " done now, " in line]
    return line


def test_ray_matches_the_local_pool(tmp_path, reference, ray_address, capsys):
    out = tmp_path / "out"
    assert _batch(CLIPS, out, "--ray", "--workers", "2") == 0
    assert "4 done now, 0 done before, 0 failed" in _summary_line(capsys.readouterr().err)
    assert_same_outputs(out, reference)
    ledger = entries(out)
    assert all(e.state == "done" and e.done_count == 1 and e.attempts == 1 for e in ledger.values())
    assert all(e.worker.startswith("ray:") for e in ledger.values())
    assert len({e.worker for e in ledger.values()}) == 2  # both actors took items


def test_a_run_moves_between_local_and_ray(tmp_path, reference, ray_address, capsys):
    out = tmp_path / "out"
    assert _batch(CLIPS[:1], out, "--workers", "1") == 0  # local first
    assert _batch(CLIPS[:3], out, "--ray", "--workers", "2") == 0  # then Ray: only the two new ones
    assert _batch(CLIPS, out, "--workers", "2") == 0  # and local again: only the last one
    lines = [line for line in capsys.readouterr().err.splitlines() if " done now, " in line]
    assert ["1 done now, 0 done before" in lines[0], "2 done now, 1 done before" in lines[1]] == [True, True]
    assert "1 done now, 3 done before, 0 failed" in lines[2]
    ledger = entries(out)
    assert all(e.state == "done" and e.done_count == 1 and e.attempts == 1 for e in ledger.values())
    places = [ledger[str(clip.resolve())].worker.startswith("ray:") for clip in CLIPS]
    assert places == [False, True, True, False]
    assert_same_outputs(out, reference)


def _mid_item(out):
    """A running item whose half-written JSON lines (in ``.partial``) already hold a frame."""
    if not (out / "ledger.sqlite").exists():
        return None
    for entry in entries(out).values():
        if entry.state != "running" or not entry.worker.startswith("ray:"):
            continue
        for path in (out / ".partial").glob(f"{entry.item.out_name}.*/*.jsonl"):
            if path.stat().st_size > 0:
                return entry
    return None


def test_actor_killed_mid_item_is_retried_and_done_once(tmp_path, reference, ray_address):
    out = tmp_path / "out"
    driver = subprocess.Popen(
        batch_command(CLIPS, out, "--ray", ray_address, "--workers", "2"), cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        victim = wait_for(lambda: _mid_item(out) or driver.poll() is not None, 120, "an item mid-way", 0.02)
        assert victim is not True, "the run ended before an actor could be killed"
        os.kill(pid_of_worker(victim.worker), signal.SIGKILL)
        _, stderr = driver.communicate(timeout=150)
    finally:
        kill_group(driver)
    assert driver.returncode == 0, stderr
    assert "4 done now, 0 done before, 0 failed" in stderr
    ledger = entries(out)
    assert all(e.state == "done" and e.done_count == 1 for e in ledger.values())
    redone = ledger[victim.item.source]
    assert pid_of_worker(redone.worker) != pid_of_worker(victim.worker)  # Ray's restarted actor finished it
    assert_same_outputs(out, reference)
    assert not (out / ".partial").exists()
