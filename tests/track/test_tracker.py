import numpy as np

from posekit.schemas import COCO17
from posekit.track.tracker import PoseTracker, TrackerOptions, TrackState
from tests.builders import make_poses, with_points


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


def test_velocity_follows_the_points_still_seen_when_someone_hides_the_legs():
    # Walking right at 180 px/s (30 fps); for the last third of a second someone in front hides
    # the hips and legs: the box shrinks to the upper body and its centre rises 50 px, but the
    # person does not. The shift of the points seen in both frames keeps the velocity level.
    tracker = PoseTracker()
    lower = np.arange(11, 17)  # hips, knees, ankles
    for frame in range(30):
        t = frame / 30
        x = 100 + 180 * t
        poses = make_poses([(x, 50, 80, 200)])
        if frame >= 20:
            full = poses.keypoints["coco17"]
            confidence = full.confidence.copy()
            confidence[:, lower] = 0.0
            poses = with_points(make_poses([(x, 50, 80, 100)]), COCO17, full.xy, confidence)
        tracker.update(poses, t)
    (track,) = tracker.live_tracks
    assert abs(track.velocity_xy[0] - 180) < 20
    assert abs(track.velocity_xy[1]) < 10  # fitted to the box centre: 132 px/s
