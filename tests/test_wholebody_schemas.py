"""Whole-body, hand and face schemas and their conversions, checked on real labels."""

import json

import numpy as np
import pytest

from posekit.results import Keypoints, Poses, assemble
from posekit.schemas import (
    BLAZEPOSE33,
    COCO17,
    CONVERSIONS,
    FACE68,
    FACE468,
    HALPE26,
    HALPE136,
    HAND21,
    HAND_LEFT21,
    HAND_RIGHT21,
    HOLISTIC,
    OPENPOSE137,
    SCHEMAS,
    WFLW98,
    WHOLEBODY133,
    HandLandmark,
    compose,
    convert,
)
from posekit.schemas.core import by_name
from posekit.schemas.face import FACE468_TO_FACE68, WFLW98_TO_FACE68
from posekit.schemas.wholebody import WHOLEBODY_FIELDS
from tests.conftest import ANNOTATIONS


def load(name: str) -> dict:
    return json.loads((ANNOTATIONS / f"{name}.json").read_text())


def labelled(flat: list[float], k: int) -> Keypoints:
    """GT ``[x, y, v] * k`` as keypoints of one person: v > 0 -> confidence 1, else missing."""
    a = np.array(flat, dtype=np.float32).reshape(1, k, 3)
    present = a[..., 2] > 0
    xy = np.where(present[..., None], a[..., :2], np.nan)
    return xy, present.astype(np.float32)


def wb_concat(ann: dict) -> np.ndarray:
    return np.concatenate([np.array(ann[f], float).reshape(-1, 3) for _, f in WHOLEBODY_FIELDS])


def test_layouts_match_the_label_files():
    wb, halpe = load("coco_wholebody"), load("halpe")
    assert list(WHOLEBODY133.keypoint_names) == wb["info"]["wholebody_keypoint_names_133"]
    assert list(HALPE136.keypoint_names) == halpe["info"]["native_keypoint_names"]
    assert HALPE26.keypoint_names == HALPE136.keypoint_names[:26]
    hand = load("hand_freihand")["categories"][0]["keypoints"]
    assert list(HAND21.keypoint_names) == hand
    assert [m.name for m in HandLandmark][:2] == ["WRIST", "THUMB_CMC"] and len(HandLandmark) == 21
    sizes = {"wholebody133": 133, "halpe26": 26, "halpe136": 136, "openpose137": 137, "holistic": 543}
    assert {name: SCHEMAS[name].num_keypoints for name in sizes} == sizes
    assert FACE468.num_keypoints == 468 and FACE68.num_keypoints == 68 and WFLW98.num_keypoints == 98


def test_published_sigmas_are_consistent():
    wb = WHOLEBODY133.sigmas
    np.testing.assert_allclose(wb[:17], COCO17.sigmas, rtol=1e-12)  # COCO-WholeBody reuses COCO's body sigmas
    np.testing.assert_array_equal(wb[WHOLEBODY133.part("face")], FACE68.sigmas)
    np.testing.assert_array_equal(wb[WHOLEBODY133.part("left_hand")], wb[WHOLEBODY133.part("right_hand")])
    np.testing.assert_array_equal(wb[WHOLEBODY133.part("left_hand")], HAND21.sigmas)
    assert wb[17:23].tolist() == [0.068, 0.066, 0.066, 0.092, 0.094, 0.094]
    np.testing.assert_allclose(HALPE136.sigmas[:17], COCO17.sigmas, rtol=1e-12)
    assert HALPE136.sigmas[26:].tolist() == [0.015] * 110
    assert HALPE26.sigmas[17:20].tolist() == [0.026, 0.026, 0.066]


def test_parts_cover_the_layouts():
    assert [(n, s.stop - s.start) for n, s in ((p, WHOLEBODY133.part(p)) for p, _, _ in WHOLEBODY133.parts)] == [
        ("body", 17),
        ("foot", 6),
        ("face", 68),
        ("left_hand", 21),
        ("right_hand", 21),
    ]
    assert HOLISTIC.part("face") == slice(33, 501)
    assert OPENPOSE137.keypoint_names[93:95] == ("right_pupil", "left_pupil")


def _parts_from_wholebody_gt(ann: dict) -> dict[str, Keypoints]:
    """Separate parts as posekit's models would give them, made from COCO-WholeBody labels.
    The feet go through a BlazePose-33 array (heel = heel, foot index = big toe), the way
    posekit's own feet arrive."""
    body = Keypoints(COCO17, *labelled(ann["keypoints"], 17))
    foot_xy, foot_conf = labelled(ann["foot_kpts"], 6)
    bp_xy = np.full((1, 33, 2), np.nan, np.float32)
    bp_conf = np.zeros((1, 33), np.float32)
    for side, offset in (("left", 0), ("right", 3)):
        for bp_name, foot_index in ((f"{side}_foot_index", 0), (f"{side}_heel", 2)):
            bp_xy[0, BLAZEPOSE33.index(bp_name)] = foot_xy[0, offset + foot_index]
            bp_conf[0, BLAZEPOSE33.index(bp_name)] = foot_conf[0, offset + foot_index]
    return {
        "coco17": body,
        "blazepose33": Keypoints(BLAZEPOSE33, bp_xy, bp_conf),
        "face68": Keypoints(FACE68, *labelled(ann["face_kpts"], 68)),
        "hand_left21": Keypoints(HAND_LEFT21, *labelled(ann["lefthand_kpts"], 21)),
        "hand_right21": Keypoints(HAND_RIGHT21, *labelled(ann["righthand_kpts"], 21)),
    }


@pytest.mark.parametrize("ann", load("coco_wholebody")["annotations"], ids=lambda a: str(a["id"]))
def test_assembled_wholebody_equals_the_label_files_concatenation(ann):
    gt = wb_concat(ann)
    out = assemble(_parts_from_wholebody_gt(ann), WHOLEBODY133)
    small_toes = [WHOLEBODY133.index("left_small_toe"), WHOLEBODY133.index("right_small_toe")]
    exact = np.ones(133, bool)
    exact[small_toes] = False
    labelled_gt = gt[:, 2] > 0
    # Every labelled point is there, at its place; unlabelled ones are missing, never (0, 0).
    np.testing.assert_array_equal(out.confidence[0, exact] > 0, labelled_gt[exact])
    np.testing.assert_allclose(out.xy[0, exact & labelled_gt], gt[exact & labelled_gt, :2], atol=1e-3)
    assert np.isnan(out.xy[0, exact & ~labelled_gt]).all()
    # The small toe is the documented estimate: 1/3 heel + 2/3 big toe.
    for toe, (big, heel) in zip(small_toes, [(17, 19), (20, 22)], strict=True):
        if gt[big, 2] > 0 and gt[heel, 2] > 0:
            np.testing.assert_allclose(out.xy[0, toe], gt[heel, :2] / 3 + 2 * gt[big, :2] / 3, atol=1e-3)
        else:
            assert out.confidence[0, toe] == 0


def test_assembly_prefers_coco_body_and_falls_back_to_blazepose():
    rng = np.random.default_rng(0)
    coco = Keypoints(COCO17, rng.uniform(0, 100, (2, 17, 2)), np.full((2, 17), 0.9))
    conf = np.full((2, 33), 0.8)
    blaze = Keypoints(BLAZEPOSE33, rng.uniform(0, 100, (2, 33, 2)), conf)
    out = assemble({"coco17": coco, "blazepose33": blaze}, WHOLEBODY133)
    np.testing.assert_allclose(out.xy[:, :17], coco.xy)
    coco_conf = coco.confidence.copy()
    coco_conf[1, 9] = 0.0  # person 1's left wrist unseen by the COCO model
    out = assemble({"coco17": Keypoints(COCO17, coco.xy, coco_conf), "blazepose33": blaze}, WHOLEBODY133)
    np.testing.assert_allclose(out.xy[1, 9], blaze.xy[1, BLAZEPOSE33.index("left_wrist")])
    face = WHOLEBODY133.part("face")
    assert (out.confidence[:, face] == 0).all() and np.isnan(out.xy[:, face]).all()  # no face part given
    with pytest.raises(ValueError):
        assemble({"hand_left21": Keypoints(HAND21, np.zeros((1, 21, 2)), np.ones((1, 21)))})


def test_face_falls_back_to_the_mesh():
    rng = np.random.default_rng(1)
    mesh = Keypoints(FACE468, rng.uniform(0, 100, (1, 468, 2)), np.full((1, 468), 0.7))
    out = assemble({"face468": mesh}, WHOLEBODY133)
    via68 = mesh.to(FACE68)
    np.testing.assert_allclose(out.xy[0, WHOLEBODY133.part("face")], via68.xy[0], rtol=1e-5)
    holistic = assemble({"face468": mesh}, HOLISTIC)
    np.testing.assert_allclose(holistic.xy[0, HOLISTIC.part("face")], mesh.xy[0])


def test_openpose137_from_wholebody_parts():
    ann = next(a for a in load("coco_wholebody")["annotations"] if a["face_valid"] and a["num_keypoints"] == 17)
    out = assemble(_parts_from_wholebody_gt(ann), OPENPOSE137)
    body = np.array(ann["keypoints"], float).reshape(17, 3)
    face = np.array(ann["face_kpts"], float).reshape(68, 3)
    np.testing.assert_allclose(out.xy[0, OPENPOSE137.index("neck")], body[[5, 6], :2].mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(out.xy[0, OPENPOSE137.index("mid_hip")], body[[11, 12], :2].mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(out.xy[0, OPENPOSE137.index("right_pupil")], face[36:42, :2].mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(out.xy[0, OPENPOSE137.index("left_pupil")], face[42:48, :2].mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(out.xy[0, 25:93], face[:, :2], atol=1e-3)
    # The same from the assembled whole body through the conversion table.
    wb = assemble(_parts_from_wholebody_gt(ann), WHOLEBODY133).to(OPENPOSE137)
    np.testing.assert_allclose(wb.xy, out.xy, atol=1e-3)


def test_halpe136_and_wholebody133_agree_on_shared_points():
    """Halpe-FullBody and COCO-WholeBody label the same COCO people independently: the body is
    COCO's in both (equal), feet, face and hands are two annotators' clicks (close, and far
    closer with the right correspondence than with a mirrored one)."""
    wb = {a["id"]: a for a in load("coco_wholebody")["annotations"]}
    halpe = {a["id"]: a for a in load("halpe")["annotations"]}
    assert wb.keys() == halpe.keys()
    to_wb = CONVERSIONS[("halpe136", "wholebody133")]
    to_halpe = CONVERSIONS[("wholebody133", "halpe136")]
    parts = np.array(WHOLEBODY133.part_of_each())
    errors = []
    for ann_id, ann in wb.items():
        gt = wb_concat(ann)
        xy, conf = convert(*labelled(halpe[ann_id]["native_keypoints"], 136), to_wb)
        both = (gt[:, 2] > 0) & (conf[0] > 0)
        body = both & (parts == "body")
        np.testing.assert_allclose(xy[0, body], gt[body, :2], atol=0.5)
        errors += list(np.linalg.norm(xy[0, both & (parts != "body")] - gt[both & (parts != "body"), :2], axis=1))
        back, back_conf = convert(xy, conf, to_halpe)  # the round trip keeps every shared point
        native = np.array(halpe[ann_id]["native_keypoints"], float).reshape(136, 3)
        shared = (native[:, 2] > 0) & (back_conf[0] > 0) & (np.array(HALPE136.keypoint_names) != "neck")
        shared &= np.array(HALPE136.keypoint_names) != "hip"
        np.testing.assert_allclose(back[0, shared], native[shared, :2], atol=1e-3)
    assert len(errors) > 200 and np.median(errors) < 5.0


def test_wholebody_to_halpe_derives_neck_and_hip_and_leaves_head_missing():
    xy = np.random.default_rng(2).uniform(0, 100, (1, 133, 2))
    out = Keypoints(WHOLEBODY133, xy, np.ones((1, 133))).to(HALPE136)
    np.testing.assert_allclose(out.xy[0, HALPE136.index("neck")], xy[0, [5, 6]].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(out.xy[0, HALPE136.index("hip")], xy[0, [11, 12]].mean(axis=0), rtol=1e-5)
    assert out.confidence[0, HALPE136.index("head")] == 0


def test_mesh_to_ibug_table_is_well_formed():
    assert len(FACE468_TO_FACE68) == 68
    assert all(0 <= i < 468 for mesh in FACE468_TO_FACE68 for i in mesh)
    # Eye and mouth corners: the landmarks both layouts define the same way.
    corners = {36: 33, 39: 133, 42: 362, 45: 263, 48: 61, 54: 291}
    assert {k: FACE468_TO_FACE68[k] for k in corners} == {k: (v,) for k, v in corners.items()}


def test_wflw_to_ibug_keeps_the_inter_ocular_points():
    assert len(WFLW98_TO_FACE68) == 68 and len(set(WFLW98_TO_FACE68)) == 68
    ann = load("face_wflw")["annotations"][0]
    kp = np.array(ann["keypoints"], float).reshape(98, 3)
    xy, _ = convert(kp[None, :, :2], np.ones((1, 98)), CONVERSIONS[("wflw98", "face68")])
    np.testing.assert_allclose(xy[0, 36], kp[60, :2], rtol=1e-6)
    np.testing.assert_allclose(xy[0, 45], kp[72, :2], rtol=1e-6)


def test_compose_equals_converting_twice():
    xy = np.random.default_rng(3).uniform(0, 100, (2, 468, 2))
    conf = np.random.default_rng(4).uniform(0.1, 1, (2, 468))
    mesh_to_68 = CONVERSIONS[("face468", "face68")]
    face68_to_op = by_name(FACE68, OPENPOSE137, {"right_pupil": [(f"face-{i}", 1.0) for i in range(36, 42)]})
    mid_xy, mid_conf = convert(xy, conf, mesh_to_68)
    two_xy, two_conf = convert(mid_xy, mid_conf, face68_to_op)
    one_xy, one_conf = convert(xy, conf, compose(mesh_to_68, face68_to_op))
    np.testing.assert_allclose(one_xy, two_xy, rtol=1e-5)
    np.testing.assert_allclose(one_conf, two_conf)
    with pytest.raises(ValueError):
        compose(mesh_to_68, CONVERSIONS[("halpe136", "wholebody133")])


def test_poses_assemble_whole_body_layouts_from_their_parts():
    rng = np.random.default_rng(5)
    coco = Keypoints(COCO17, rng.uniform(0, 100, (1, 17, 2)), np.ones((1, 17)))
    blaze = Keypoints(BLAZEPOSE33, rng.uniform(0, 100, (1, 33, 2)), np.ones((1, 33)))
    poses = Poses(np.zeros((1, 4)), np.ones(1), {"coco17": coco, "blazepose33": blaze}, image_size=(100, 100))
    wb = poses.keypoints_in(WHOLEBODY133)
    np.testing.assert_allclose(wb.xy[0, :17], coco.xy[0])
    np.testing.assert_allclose(wb.xy[0, WHOLEBODY133.index("left_heel")], blaze.xy[0, BLAZEPOSE33.index("left_heel")])
    assert (wb.confidence[0, 23:] == 0).all()


def test_nobody_assembles_to_nobody_and_parts_must_agree():
    empty = Poses.empty((10, 10), (COCO17, BLAZEPOSE33))
    assert len(empty.keypoints_in(WHOLEBODY133)) == 0 and empty.keypoints_in(HALPE136).xy.shape == (0, 136, 2)
    one = Keypoints(COCO17, np.zeros((1, 17, 2)), np.ones((1, 17)))
    two = Keypoints(BLAZEPOSE33, np.zeros((2, 33, 2)), np.ones((2, 33)))
    with pytest.raises(ValueError, match="different numbers"):
        assemble({"coco17": one, "blazepose33": two})
    with pytest.raises(ValueError, match="no assembly"):
        assemble({"coco17": one}, FACE68)


def test_parts_come_back_out_of_a_whole_body_layout():
    xy = np.random.default_rng(6).uniform(0, 100, (1, 133, 2))
    wb = Keypoints(WHOLEBODY133, xy, np.ones((1, 133)))
    np.testing.assert_allclose(wb.to(FACE68).xy[0], xy[0, 23:91], rtol=1e-6)
    np.testing.assert_allclose(wb.to(HAND_RIGHT21).to(HAND21).xy[0], xy[0, 112:133], rtol=1e-6)
    np.testing.assert_allclose(wb.to(COCO17).xy[0], xy[0, :17], rtol=1e-6)
