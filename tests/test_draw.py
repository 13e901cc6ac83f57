import json

import cv2
import numpy as np
import pytest

from posekit.draw import FACE_STYLE, draw_keypoints, draw_poses, point_styles
from posekit.errors import UsageError
from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, COCO17, FACE68, FACE468, HAND_LEFT21, WHOLEBODY133
from tests.builders import make_poses, with_points
from tests.conftest import ANNOTATIONS, IMAGES

MESSI = IMAGES / "messi5.jpg"  # 548x342


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


def test_draws_on_a_new_image_and_leaves_the_input_alone():
    image = cv2.imread(str(MESSI))
    original = image.copy()
    image.setflags(write=False)  # a read-only input works too
    poses = make_poses([(200, 40, 120, 290)], image_size=image.shape[:2])
    rendered = draw_poses(image, poses)
    np.testing.assert_array_equal(image, original)
    assert rendered is not image and rendered.shape == image.shape and rendered.dtype == np.uint8
    assert rendered.flags.writeable


def test_pixels_change_where_people_are_and_nowhere_else():
    image = cv2.imread(str(MESSI))
    box = (200, 40, 120, 290)
    rendered = draw_poses(image, make_poses([box], image_size=image.shape[:2]), draw_boxes=False)
    diff = changed(image, rendered)
    x, y, w, h = box
    margin = 10
    inside = np.zeros_like(diff)
    inside[y - margin : y + h + margin, x - margin : x + w + margin] = True
    assert diff[inside].mean() > 0.03  # the skeleton is drawn
    assert not diff[~inside].any()  # and nothing outside the person


def test_boxes_and_score_labels_are_optional():
    image = np.zeros((480, 640, 3), np.uint8)
    poses = make_poses([(100, 100, 200, 300)])
    with_boxes = changed(image, draw_poses(image, poses))
    without = changed(image, draw_poses(image, poses, draw_boxes=False))
    assert with_boxes[100:400, 100].mean() > 0.9  # left edge of the box
    assert not without[150:350, 100].any()
    assert with_boxes[60:100, 100:160].any() and not without[60:100, 100:160].any()  # score label above


def test_track_id_label_is_drawn_when_present():
    image = np.zeros((480, 640, 3), np.uint8)
    untracked = draw_poses(image, make_poses([(100, 100, 200, 300)]), draw_boxes=False)
    tracked = draw_poses(image, make_poses([(100, 100, 200, 300)], track_ids=[7]), draw_boxes=False)
    label_area = (slice(70, 100), slice(100, 160))
    assert not changed(image, untracked)[label_area].any() and changed(image, tracked)[label_area].any()


def test_unsure_and_missing_points_are_not_drawn_nor_their_edges():
    image = np.zeros((400, 400, 3), np.uint8)
    poses = make_poses([(50, 50, 300, 300)], image_size=(400, 400))
    unsure = draw_poses(image, make_poses([(50, 50, 300, 300)], confidence=0.2), draw_boxes=False)
    assert not unsure.any()
    assert draw_poses(image, poses, min_confidence=0.95, draw_boxes=False).sum() == 0

    # Only the two wrists are drawn: their points show, the edges to the hidden elbows do not.
    xy = np.array(poses.keypoints["coco17"].xy)
    confidence = np.zeros((1, 17), np.float32)
    for name in ("left_wrist", "right_wrist", "left_hip"):
        confidence[0, COCO17.index(name)] = 0.9
    xy[0, COCO17.index("left_hip")] = np.nan  # sure, but has no location
    rendered = draw_poses(image, with_points(poses, COCO17, xy, confidence), draw_boxes=False)
    diff = changed(image, rendered)
    for name in ("left_wrist", "right_wrist"):
        x, y = xy[0, COCO17.index(name)].round().astype(int)
        assert diff[y, x]
    elbow_to_wrist = (xy[0, COCO17.index("left_elbow")] + xy[0, COCO17.index("left_wrist")]) / 2
    assert not diff[int(elbow_to_wrist[1]), int(elbow_to_wrist[0])]
    assert diff.sum() < 300  # just two dots


def test_default_schema_prefers_blazepose():
    image = np.zeros((480, 640, 3), np.uint8)
    poses = make_poses([(100, 50, 200, 400)], schemas=(COCO17, BLAZEPOSE33))
    heel = poses.keypoints["blazepose33"].xy[0, BLAZEPOSE33.index("left_heel")].round().astype(int)
    assert changed(image, draw_poses(image, poses, draw_boxes=False))[heel[1], heel[0]]
    coco_only = draw_poses(image, poses, COCO17, draw_boxes=False)
    assert not changed(image, coco_only)[heel[1], heel[0]]


@pytest.mark.parametrize("size", [200, 4000])
def test_line_width_scales_with_the_image(size):
    image = np.zeros((size, size, 3), np.uint8)
    poses = make_poses([(0.1 * size, 0.05 * size, 0.8 * size, 0.9 * size)], image_size=(size, size))
    diff = changed(image, draw_poses(image, poses, draw_boxes=False))
    # Column through the middle of the left thigh (hip -> knee is vertical in the builder's person).
    thigh_x = round(0.1 * size + 0.6 * 0.8 * size)
    thigh_row = round(0.05 * size + 0.65 * 0.9 * size)
    width = diff[thigh_row, thigh_x - size // 20 : thigh_x + size // 20].sum()
    assert 1 <= width <= max(4, size / 150)  # visible, not a smear: ~1 px at 200, ~13 px at 4000
    if size == 4000:
        assert width >= 8


def test_gray_input_and_wrong_inputs():
    gray = np.zeros((240, 320), np.uint8)
    rendered = draw_poses(gray, make_poses([(50, 20, 100, 200)], image_size=(240, 320)))
    assert rendered.shape == (240, 320, 3) and rendered.any()
    with pytest.raises(UsageError, match="8-bit"):
        draw_poses(gray.astype(np.float32), make_poses([]))
    with pytest.raises(UsageError, match="HxWx3"):
        draw_poses(np.zeros((10, 10, 4), np.uint8), make_poses([]))


def test_nobody_and_far_off_points():
    image = np.full((100, 100, 3), 50, np.uint8)
    assert np.array_equal(draw_poses(image, make_poses([], image_size=(100, 100))), image)
    far = make_poses([(1e9, -1e9, 1e9, 1e9)], image_size=(100, 100))
    draw_poses(image, far)  # no overflow, no error


def _wholebody_gt(image_id: int) -> Keypoints:
    data = json.loads((ANNOTATIONS / "coco_wholebody.json").read_text())
    fields = ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")
    anns = [a for a in data["annotations"] if a["image_id"] == image_id]
    kp = np.stack([np.concatenate([np.array(a[f], float).reshape(-1, 3) for f in fields]) for a in anns])
    present = kp[..., 2] > 0
    return Keypoints(WHOLEBODY133, np.where(present[..., None], kp[..., :2], np.nan), present.astype(np.float32))


def test_faces_and_hands_are_drawn_finer_and_in_their_own_colours():
    styles = point_styles(WHOLEBODY133)
    body, face, left, right = (styles[i] for i in (0, 23, 91, 112))
    assert face.line_width < left.line_width < body.line_width
    assert face.point_radius < left.point_radius < body.point_radius
    assert len({face.colour, left.colour, right.colour}) == 3 and body.colour is None
    assert point_styles(HAND_LEFT21)[0] == left and point_styles(FACE468)[0] == face

    # COCO-WholeBody labels of image 197388 (a person with face, feet and both hands labelled).
    image = cv2.imread(str(IMAGES / "000000197388.jpg"))
    points = _wholebody_gt(197388)
    rendered = draw_keypoints(np.zeros_like(image), points)
    for part, colour in (("left_hand", left.colour), ("right_hand", right.colour), ("face", face.colour)):
        xy = points.xy[:, WHOLEBODY133.part(part)].reshape(-1, 2)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not len(xy):
            continue
        exact = np.all(rendered == np.array(colour, np.uint8), axis=2)
        ys, xs = np.nonzero(exact)
        assert len(xs) > 0, part
        # Pixels of a part's colour lie on that part (within a few pixels of its points' extent).
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        assert x0 - 6 <= xs.min() and xs.max() <= x1 + 6 and y0 - 6 <= ys.min() and ys.max() <= y1 + 6, part


def test_whole_body_poses_draw_face_and_hand_parts_on_top_of_the_body():
    image = np.zeros((480, 640, 3), np.uint8)
    poses = make_poses([(100, 40, 200, 400)])
    face_xy = np.random.default_rng(0).uniform([180, 60], [220, 100], (1, 68, 2))
    with_face = Poses(
        poses.bbox_xywh,
        poses.score,
        {**poses.keypoints, "face68": Keypoints(FACE68, face_xy, np.ones((1, 68)))},
        image_size=(480, 640),
    )
    plain = draw_poses(image, poses, draw_boxes=False)
    rendered = draw_poses(image, with_face, draw_boxes=False)
    assert np.all(rendered == np.array(FACE_STYLE.colour, np.uint8), axis=2).sum() > 20
    assert not np.all(plain == np.array(FACE_STYLE.colour, np.uint8), axis=2).any()
