import numpy as np

from posekit.track.tracker import PoseTracker, TrackerOptions, TrackState
from tests.builders import make_poses


def _frame(boxes):
    return make_poses(boxes)


def test_ids_follow_people_moving_and_swapping_list_order():
    tracker = PoseTracker()
    ids = []
    for t in range(6):
        a = (100 + 10 * t, 100, 80, 200)
        b = (400 - 10 * t, 120, 80, 200)
        boxes = [a, b] if t % 2 == 0 else [b, a]  # detector order changes; ids must not
        out = tracker.update(_frame(boxes), t / 10)
        by_x = dict(zip(out.bbox_xywh[:, 0].round().tolist(), out.track_id.tolist(), strict=True))
        ids.append((by_x[100 + 10 * t], by_x[400 - 10 * t]))
    assert len(set(ids)) == 1 and ids[0][0] != ids[0][1]


def test_new_person_is_tentative_until_seen_again():
    tracker = PoseTracker(TrackerOptions(min_hits=2))
    assert len(tracker.update(_frame([(100, 100, 80, 200)]), 0.0)) == 1  # first frame: confirmed at once
    out = tracker.update(_frame([(102, 100, 80, 200), (400, 100, 80, 200)]), 0.1)
    assert len(out) == 1  # the newcomer is tentative
    out = tracker.update(_frame([(104, 100, 80, 200), (402, 100, 80, 200)]), 0.2)
    assert len(out) == 2 and len(set(out.track_id.tolist())) == 2


def test_lost_track_is_removed_after_max_lost():
    tracker = PoseTracker(TrackerOptions(max_lost_s=0.5))
    tracker.update(_frame([(100, 100, 80, 200)]), 0.0)
    tracker.update(_frame([]), 0.1)
    assert [t.state for t in tracker.tracks] == [TrackState.LOST]
    tracker.update(_frame([]), 0.7)
    assert tracker.tracks == []


def test_reset_forgets_everything():
    tracker = PoseTracker()
    tracker.update(_frame([(100, 100, 80, 200)]), 0.0)
    tracker.reset()
    out = tracker.update(_frame([(100, 100, 80, 200)]), 0.0)
    assert out.track_id.tolist() == [1]


def test_update_does_not_change_the_input():
    poses = _frame([(100, 100, 80, 200)])
    out = PoseTracker().update(poses, 0.0)
    assert poses.track_id is None and out.track_id is not None
    assert np.array_equal(out.bbox_xywh, poses.bbox_xywh)


def test_velocity_is_the_same_at_any_frame_rate_and_shrugs_off_a_jump():
    # A person walking right at 180 px/s; on the last frame their box centre jumps 10 px (someone
    # walked in front). Two-frame differences would say 480 px/s at 30 fps.
    for fps in (10.0, 30.0):
        tracker = PoseTracker()
        times = np.arange(int(fps)) / fps
        for t in times:
            jump = 10.0 if t == times[-1] else 0.0
            tracker.update(make_poses([(100 + 180 * t + jump, 50, 80, 200)]), float(t))
        (track,) = tracker.live_tracks
        assert abs(track.velocity_xy[0] - 180) < 40, fps
        assert abs(track.velocity_xy[1]) < 1e-6
