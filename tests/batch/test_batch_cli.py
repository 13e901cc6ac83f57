"""``posekit batch`` end to end on real clips: same outputs as ``posekit track``, resumable, bad items listed."""

import shutil

from posekit.cli import main
from tests.batch.helpers import (
    CLIPS,
    FRAMES,
    assert_same_outputs,
    assert_valid_jsonl,
    entries,
    item_folders,
    run_batch_cli,
)
from tests.conftest import IMAGES


def test_batch_help(capsys):
    try:
        main(["batch", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    text = capsys.readouterr().out
    assert "--workers" in text and "--ray" in text and "--max-frames" in text and "--status" in text


def test_each_item_matches_posekit_track(tmp_path, reference):
    for clip in CLIPS[:2]:
        out = tmp_path / clip.stem
        assert (
            main(["track", str(clip.resolve()), "--out", str(out), "--max-frames", FRAMES, "--threads", "1", "--quiet"])
            == 0
        )
        (folder,) = [f for name, f in item_folders(reference).items() if name.startswith(clip.stem + "-")]
        assert (folder / f"{clip.stem}.jsonl").read_bytes() == (out / f"{clip.stem}.jsonl").read_bytes()
    for entry in entries(reference).values():
        assert entry.state == "done" and entry.done_count == 1 and entry.result.frames == int(FRAMES)
        assert_valid_jsonl(reference / entry.item.out_name, int(FRAMES))


def test_two_workers_match_one_and_rerun_skips(tmp_path, reference, capsys):
    out = tmp_path / "out"
    done = run_batch_cli(CLIPS, out, "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "4 done now, 0 done before, 0 failed" in done.stderr
    assert_same_outputs(out, reference)
    before = {source: entry.updated_at for source, entry in entries(out).items()}
    again = run_batch_cli(CLIPS, out, "--workers", "2")
    assert again.returncode == 0 and "0 done now, 4 done before" in again.stderr
    assert {source: entry.updated_at for source, entry in entries(out).items()} == before
    assert main(["batch", "--status", str(out)]) == 0
    status = capsys.readouterr().out
    assert "4 items: 4 done, 0 failed, 0 running, 0 pending" in status and f"{4 * int(FRAMES)} frames" in status


def test_bad_items_are_listed_and_the_rest_done(tmp_path, reference):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for clip in CLIPS:
        shutil.copy(clip, inputs / clip.name)
    (inputs / "garbage.mp4").write_bytes(b"\x00not a video" * 4000)
    (inputs / "empty.avi").write_bytes(b"")
    (inputs / "sub").mkdir()
    shutil.copy(CLIPS[0], inputs / "sub" / CLIPS[0].name)  # same stem as a clip above
    out = tmp_path / "out"
    done = run_batch_cli([inputs], out, "--workers", "2")
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("posekit: failed:")]
    assert (
        len(failed) == 2
        and any("garbage.mp4" in line for line in failed)
        and any("empty.avi" in line for line in failed)
    )
    ledger = entries(out)
    assert sorted(e.state for e in ledger.values()) == ["done"] * 5 + ["failed"] * 2
    assert all(e.attempts == 1 for e in ledger.values() if e.state == "failed")  # bad input: not retried
    assert len(item_folders(out)) == 5  # nothing for the bad ones, two folders for the twin stems
    for entry in ledger.values():
        if entry.state == "done":
            assert_valid_jsonl(out / entry.item.out_name, int(FRAMES))
    assert not any((out / ".partial").iterdir()) if (out / ".partial").exists() else True
    again = run_batch_cli([inputs], out, "--workers", "2")
    assert again.returncode == 1 and "0 done now, 5 done before, 2 failed" in again.stderr


def test_predict_over_a_folder_of_images(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["batch", str(IMAGES), "--task", "predict", "--out", str(out), "--format", "jsonl", "--workers", "1", "--quiet"]
    )
    assert code == 0
    (entry,) = entries(out).values()
    images = [p for p in IMAGES.iterdir() if p.suffix.lower() in (".jpg", ".png")]
    assert entry.result.frames == len(images) and entry.result.people > 0
    assert (out / entry.item.out_name / "predictions.jsonl").read_text().count("\n") == len(images)


def test_bad_task_options_are_one_line(tmp_path, capsys):
    assert main(["batch", str(CLIPS[0]), "--out", str(tmp_path), "--task", "predict", "--format", "csv"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["batch", "--status", str(tmp_path / "none")]) == 2
