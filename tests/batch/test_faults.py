"""Faults: a worker killed mid-item, the driver killed mid-run.

Each kill lands at a random point (seeded, the seed printed on failure); after it, a rerun must
finish with every item done exactly once, every output identical to an uninterrupted run, and
items finished before the kill left untouched.
"""

import os
import random
import signal
import subprocess
import time

from tests.batch.helpers import (
    CLIPS,
    ROOT,
    assert_same_outputs,
    batch_command,
    children,
    entries,
    is_alive,
    item_folders,
    kill_group,
    pid_of_worker,
    run_batch_cli,
    wait_for,
)

SEED = int(os.environ.get("POSEKIT_TEST_SEED", time.time_ns() % 100_000))


def _start(out):
    return subprocess.Popen(batch_command(CLIPS, out, "--workers", "2"), cwd=ROOT, stderr=subprocess.PIPE, text=True)


def _running_mid_item(out):
    """An item a worker is in the middle of (progress reported, frames still to go), or None."""
    if not (out / "ledger.sqlite").exists():
        return None
    for entry in entries(out).values():
        if entry.state == "running" and entry.frames_total and 1 <= entry.frames_done <= entry.frames_total - 5:
            return entry
    return None


def test_worker_killed_mid_item(tmp_path, reference):
    rng = random.Random(SEED)
    out = tmp_path / "out"
    driver = _start(out)
    try:
        time.sleep(rng.uniform(0.0, 2.0))  # a random point of the run, then the next item caught mid-way
        victim = wait_for(lambda: _running_mid_item(out) or driver.poll() is not None, 120, "an item mid-way", 0.02)
        assert victim is not True, f"the run ended before a worker could be killed (seed {SEED})"
        os.kill(pid_of_worker(victim.worker), signal.SIGKILL)
        _, stderr = driver.communicate(timeout=180)
    finally:
        kill_group(driver)
    assert driver.returncode == 0, f"seed {SEED}: {stderr}"
    assert "4 done now" in stderr
    ledger = entries(out)
    assert ledger[victim.item.source].attempts == 2  # killed once, run again
    assert all(e.state == "done" and e.done_count == 1 for e in ledger.values())
    assert_same_outputs(out, reference)


def test_driver_killed_mid_run_then_rerun(tmp_path, reference):
    rng = random.Random(SEED + 1)
    out = tmp_path / "out"
    driver = _start(out)
    try:
        wait_for(lambda: _running_mid_item(out) or driver.poll() is not None, 120, "a first item under way")
        assert driver.poll() is None
        time.sleep(rng.uniform(0.0, 2.5))
        workers = children(driver.pid)
        driver.kill()
        driver.wait(10)
    finally:
        kill_group(driver)
    wait_for(lambda: not any(is_alive(pid) for pid in workers), 20, "the workers to die with their driver")
    before = entries(out)
    finished = {source: entry for source, entry in before.items() if entry.state == "done"}
    for name, folder in item_folders(out).items():  # whatever is in place is whole, never half-written
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (reference / name).iterdir())
        for path in folder.iterdir():
            assert path.read_bytes() == (reference / name / path.name).read_bytes(), f"seed {SEED + 1}"
    rerun = run_batch_cli(CLIPS, out, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{4 - len(finished)} done now, {len(finished)} done before" in rerun.stderr
    after = entries(out)
    assert all(e.state == "done" and e.done_count == 1 for e in after.values())
    for source, entry in finished.items():
        assert after[source].updated_at == entry.updated_at and after[source].attempts == entry.attempts
    assert_same_outputs(out, reference)
    assert not (out / ".partial").exists() or not any((out / ".partial").iterdir())
