"""Work items, their names, options read by the commands' own parsers, and the SQLite ledger."""

import multiprocessing
import threading

import pytest

from posekit.batch import ItemResult, Ledger, WorkItem, make_item
from posekit.batch.inputs import collect_items
from posekit.batch.options import options_to_argv, parse_item_options, typed_options
from posekit.errors import UsageError
from tests.batch.helpers import CLIPS, CLIPS_DIR
from tests.conftest import IMAGES


def test_same_stem_in_two_folders_gets_two_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = make_item(tmp_path / "a" / "clip.mp4", "track"), make_item(tmp_path / "b" / "clip.mp4", "track")
    assert first.out_name.startswith("clip-") and second.out_name.startswith("clip-")
    assert first.out_name != second.out_name
    assert make_item(tmp_path / "a" / "clip.mp4", "track").item_id == first.item_id  # same command, same item
    assert make_item(tmp_path / "a" / "clip.mp4", "analyze").item_id != first.item_id


def test_work_item_round_trips_and_refuses_bad_values():
    item = make_item(CLIPS[0], "track", {"max-frames": 5, "--no-propagate": True})
    assert item.options == {"max_frames": 5, "no_propagate": True}
    assert WorkItem.from_dict(item.to_dict()) == item
    with pytest.raises(ValueError):
        WorkItem(item_id="x", source="a.mp4", task="dance")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WorkItem(item_id="x", source="a.mp4", task="track", out_name="../escape")


def test_options_go_through_the_commands_parsers():
    args = parse_item_options("track", "a.mp4", {"max_frames": "7", "keypoints": "lightning", "render": "true"})
    assert (args.max_frames, args.keypoints, args.render) == (7, "lightning", True)
    assert options_to_argv("track", {"no_look_behind": True, "render": False}) == ["--no-look-behind"]
    assert typed_options("predict", {"format": "openpose", "min_score": "0.5"}) == {
        "format": "openpose",
        "min_score": 0.5,
    }
    with pytest.raises(UsageError, match="invalid choice"):
        parse_item_options("predict", "d", {"format": "csv"})  # a video format, not an image one
    with pytest.raises(UsageError, match="no option --exercise"):
        options_to_argv("track", {"exercise": "squat"})
    with pytest.raises(UsageError):
        options_to_argv("track", {"threads": 4})  # threads belong to the worker, not the item


def test_collect_folders_globs_and_manifests(tmp_path):
    collected = collect_items([str(CLIPS_DIR)], "track", {})
    assert [item.source for item in collected.items] == [str(p.resolve()) for p in CLIPS]
    assert collect_items([str(CLIPS_DIR / "street_*.mp4")], "track", {}).items == [
        make_item(p, "track") for p in CLIPS if p.name.startswith("street")
    ]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two clips\n{CLIPS[0]}\n\n{CLIPS[1]}\n")
    table = tmp_path / "table.csv"
    table.write_text(f"source,max_frames,keypoints\n{CLIPS[2]},3,lightning\n{CLIPS[3]},,\n")
    collected = collect_items([str(listing), str(table), str(CLIPS[0]), "missing.mp4"], "track", {"stride": 2})
    assert [i.source for i in collected.items] == [str(p.resolve()) for p in CLIPS]  # CLIPS[0] once
    assert collected.items[2].options == {"stride": 2, "max_frames": "3", "keypoints": "lightning"}
    assert collected.items[3].options == {"stride": 2}
    assert collected.errors == ["missing.mp4: no such file or folder"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"source,keypoints\n{CLIPS[0]},huge\n")
    assert collect_items([str(bad)], "track", {}).items == []


def test_predict_items_are_folders_of_images(tmp_path):
    collected = collect_items([str(IMAGES.parent)], "predict", {})
    assert str(IMAGES.resolve()) in [i.source for i in collected.items]
    assert all(i.task == "predict" for i in collected.items)
    assert collect_items([str(tmp_path)], "predict", {}).errors


def _result(frames: int) -> ItemResult:
    return ItemResult(files=[{"path": "a.jsonl", "bytes": 3, "sha256": "00"}], frames=frames, people=2, seconds=0.5)


def test_ledger_states_and_reopen(tmp_path):
    items = [make_item(p, "track") for p in CLIPS[:3]]
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.add(items) == 3 and ledger.add(items[:1]) == 0
    ledger.mark_running(items[0].item_id, worker="w1@here:1")
    ledger.update_progress(items[0].item_id, 4, 12)
    ledger.mark_done(items[0].item_id, _result(12))
    ledger.mark_running(items[1].item_id)
    ledger.mark_failed(items[1].item_id, "corrupt")
    reopened = Ledger(tmp_path / "ledger.sqlite")
    assert reopened.summary() == {"pending": 1, "running": 0, "done": 1, "failed": 1}
    done = reopened.get(items[0].item_id)
    assert done is not None and done.result == _result(12) and done.done_count == 1 and done.attempts == 1
    assert reopened.get(items[1].item_id).error == "corrupt"  # type: ignore[union-attr]
    assert [e.item for e in reopened.entries()] == items
    reopened.remove(items[2].item_id)
    assert reopened.get(items[2].item_id) is None
    with pytest.raises(KeyError):
        reopened.mark_running("nope")


def _hammer(path: str, names: list[str]) -> None:
    ledger = Ledger(path)
    for name in names:
        ledger.mark_running(name)
        for frame in range(5):
            ledger.update_progress(name, frame, 5)
        ledger.mark_done(name, _result(5))


def test_ledger_from_threads_and_processes(tmp_path):
    path = tmp_path / "ledger.sqlite"
    names = [f"item{i}" for i in range(16)]
    Ledger(path).add([WorkItem(item_id=n, source=n, task="track") for n in names])
    threads = [threading.Thread(target=_hammer, args=(str(path), names[i::4])) for i in range(2)]
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_hammer, args=(str(path), names[i::4])) for i in range(2, 4)]
    for worker in [*threads, *processes]:
        worker.start()
    for worker in [*threads, *processes]:
        worker.join(60)
    assert all(p.exitcode == 0 for p in processes)
    ledger = Ledger(path)
    assert ledger.summary()["done"] == 16
    assert all(e.done_count == 1 and e.frames_done == 5 for e in ledger.entries())
