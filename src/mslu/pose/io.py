"""Read and write pose sequences: pose-format ``.pose``, MMPose JSON predictions, numpy ``.npy``/``.npz``.

Every reader returns a :class:`PoseSequence` with x, y in pixels (as stored), confidence clipped to
[0, 1] (MMPose scores can exceed 1 slightly) and missing joints as confidence 0 with x, y NaN.

Choosing one person when a file holds several:

* MMPose JSON: per frame, the signer is the instance with the highest mean keypoint score over the 11
  upper-body points (COCO 0-10); ties go to the larger bounding box, then to the lower instance index.
  When a signer was chosen in the previous frame, instances are first restricted to those whose box
  overlaps the previous signer's box (IoU >= 0.3), so the choice follows one person; if none overlaps, the
  rule above runs on all instances. A frame with no instance is all missing.
* ``.pose`` with several people: the person with the highest total confidence over the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mslu.pose.layouts import (
    COCO_WHOLEBODY_133,
    LAYOUTS,
    MP_POSE_NAMES,
    OPENPOSE_137,
    SL79,
    Layout,
    get_layout,
    mediapipe_holistic,
)
from mslu.pose.sequence import PoseSequence
from mslu.pose.skeleton import SL79_EDGES

# --- pose-format component specs: layout name -> [(component name, point names)] in layout order -------
_HAND_MP = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)  # fmt: skip


def _mediapipe_spec(refined: bool, world: bool) -> list[tuple[str, tuple[str, ...]]]:
    pose = tuple(n.upper() for n in MP_POSE_NAMES)
    spec = [
        ("POSE_LANDMARKS", pose),
        ("FACE_LANDMARKS", tuple(str(i) for i in range(478 if refined else 468))),
        ("LEFT_HAND_LANDMARKS", _HAND_MP),
        ("RIGHT_HAND_LANDMARKS", _HAND_MP),
    ]
    if world:
        spec.append(("POSE_WORLD_LANDMARKS", pose))
    return spec


def _names(layout: Layout, group: str) -> tuple[str, ...]:
    return tuple(layout.names[i] for i in layout.groups[group])


COMPONENT_SPECS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    COCO_WHOLEBODY_133.name: [
        ("BODY", COCO_WHOLEBODY_133.names[:23]),
        ("FACE", tuple(f"face-{i}" for i in range(68))),
        ("LEFT_HAND", tuple(f"left_hand_{i}" for i in range(21))),
        ("RIGHT_HAND", tuple(f"right_hand_{i}" for i in range(21))),
    ],
    OPENPOSE_137.name: [
        ("pose_keypoints_2d", _names(OPENPOSE_137, "body")),
        ("face_keypoints_2d", tuple(f"face_{i}" for i in range(70))),
        ("hand_left_keypoints_2d", _names(OPENPOSE_137, "left_hand")),
        ("hand_right_keypoints_2d", _names(OPENPOSE_137, "right_hand")),
    ],
    SL79.name: [("SL79", SL79.names)],
}
for _r in (False, True):
    for _w in (False, True):
        COMPONENT_SPECS[mediapipe_holistic(_r, _w).name] = _mediapipe_spec(_r, _w)


class PoseReadError(ValueError):
    """A pose file could not be read; the message names the file and the problem."""


def _clean(data: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Clip confidence to [0, 1] (MMPose scores can slightly exceed 1) and make missing joints (conf <= 0,
    NaN, or ``missing``) conf 0 with x, y NaN. Modifies and returns ``data``."""
    bad = ~(data[..., 2] > 0) | np.isnan(data).any(-1)
    if missing is not None:
        bad |= missing
    np.clip(data[..., 2], 0.0, 1.0, out=data[..., 2])
    data[bad] = (np.nan, np.nan, 0.0)
    return data


# --- .pose ------------------------------------------------------------------------------------------
def _match_layout(components: list[tuple[str, int]]) -> tuple[Layout, list[int]] | None:
    """Known layout whose components match the file's by (name, point count), and the file component
    order that puts them in layout order. Falls back to a unique layout with the same total count."""
    have = {(n, k): i for i, (n, k) in enumerate(components)}
    for name, spec in COMPONENT_SPECS.items():
        want = [(c, len(p)) for c, p in spec]
        if set(want) == set(have) and len(want) == len(components):
            return get_layout(name), [have[w] for w in want]
    total = sum(k for _, k in components)
    same = [lay for lay in LAYOUTS.values() if lay.num_keypoints == total]
    if len(same) == 1:
        return same[0], list(range(len(components)))
    return None


def _generic_layout(header) -> Layout:
    names: list[str] = []
    groups: dict[str, tuple[int, ...]] = {}
    for c in header.components:
        groups[c.name] = tuple(range(len(names), len(names) + len(c.points)))
        names += [f"{c.name}:{p}" for p in c.points]
    return Layout(name="pose_format:" + "+".join(c.name for c in header.components), names=tuple(names),
                  groups=groups)


def read_pose_format(path: str | Path) -> PoseSequence:
    """Read a pose-format ``.pose`` file (any layout it carries; unknown ones get a generic layout named
    ``pose_format:<components>``). x, y are kept, z and extra dimensions dropped; masked points and
    points with confidence 0 become missing (conf 0, x, y NaN)."""
    from pose_format import Pose

    path = Path(path)
    try:
        pose = Pose.read(path.read_bytes())
    except Exception as e:  # noqa: BLE001 - pose-format raises many types on corrupt input
        raise PoseReadError(f"{path}: not a readable pose-format file ({type(e).__name__}: {e})") from e
    header, body = pose.header, pose.body
    raw = np.ma.getdata(body.data).astype(np.float32)  # (T, P, K, D)
    mask = np.ma.getmaskarray(body.data)
    conf = np.asarray(body.confidence, dtype=np.float32)
    if raw.ndim != 4 or raw.shape[-1] < 2:
        raise PoseReadError(f"{path}: unexpected pose data shape {raw.shape}")
    person = int(np.argmax(np.nan_to_num(conf).sum(axis=(0, 2)))) if raw.shape[1] > 1 else 0
    xy = raw[:, person, :, :2]
    c = conf[:, person]
    missing = mask[:, person, :, :2].any(-1) | ~(c > 0) | np.isnan(xy).any(-1)
    data = _clean(np.concatenate([xy, c[..., None]], axis=-1), missing)

    comps = [(comp.name, len(comp.points)) for comp in header.components]
    match = _match_layout(comps)
    if match is None:
        layout = _generic_layout(header)
    else:
        layout, order = match
        starts = np.cumsum([0] + [k for _, k in comps])
        data = np.concatenate([data[:, starts[i]:starts[i + 1]] for i in order], axis=1)
    meta = {"path": str(path), "components": [n for n, _ in comps]}
    return PoseSequence(data, layout, float(body.fps), int(header.dimensions.width),
                        int(header.dimensions.height), meta)


def write_pose(seq: PoseSequence, path: str | Path) -> None:
    """Write ``seq`` as a pose-format ``.pose`` (format XYC). Known layouts use the component names of their
    usual pose-format files (so :func:`read_pose` maps them back); others get one component per group.
    Missing joints are stored with confidence 0 (pose-format masks them)."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    path = Path(path)
    lay = seq.layout
    if lay.name in COMPONENT_SPECS:
        spec = COMPONENT_SPECS[lay.name]
    else:
        spec = [(g, tuple(lay.names[i] for i in idx)) for g, idx in lay.groups.items()]
        if sum(len(p) for _, p in spec) != lay.num_keypoints:
            spec = [(lay.name, lay.names)]
    components = []
    for name, points in spec:
        limbs = [tuple(e) for e in SL79_EDGES] if lay.name == SL79.name else []
        components.append(PoseHeaderComponent(name, list(points), limbs, [(255, 255, 255)], "XYC"))
    header = PoseHeader(0.2, PoseHeaderDimensions(int(seq.width), int(seq.height), 0), components)
    data = seq.data.copy()
    missing = seq.missing()
    data[missing] = (np.nan, np.nan, 0.0)
    conf = data[..., 2]
    xy = np.ma.masked_array(data[:, None, :, :2], mask=np.repeat(missing[:, None, :, None], 2, axis=-1))
    body = NumPyPoseBody(float(seq.fps), xy, conf[:, None])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        Pose(header, body).write(f)


# --- MMPose JSON ----------------------------------------------------------------------------------------
def _box_area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    inter = iw * ih
    union = _box_area(a) + _box_area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def select_signer(
    keypoints: Sequence[np.ndarray], scores: Sequence[np.ndarray], boxes: Sequence[np.ndarray],
    previous_box: np.ndarray | None = None, body: Sequence[int] = tuple(range(11)), min_iou: float = 0.3,
) -> int:
    """Index of the signer among one frame's instances (rule in the module docstring)."""
    cands = list(range(len(keypoints)))
    if previous_box is not None:
        near = [i for i in cands if _iou(boxes[i], previous_box) >= min_iou]
        cands = near or cands
    body = list(body)
    return min(cands, key=lambda i: (-float(np.nanmean(scores[i][body])), -_box_area(boxes[i]), i))


def _instance_arrays(inst: dict, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kp = np.asarray(inst.get("keypoints"), dtype=np.float32)
    if kp.ndim == 1 and kp.size % 3 == 0:  # COCO style flat [x, y, v, ...]
        kp = kp.reshape(-1, 3)
    if kp.ndim != 2 or kp.shape[1] not in (2, 3):
        raise PoseReadError(f"{path}: instance keypoints must be (K, 2) or (K, 3), got {kp.shape}")
    if "keypoint_scores" in inst:
        sc = np.asarray(inst["keypoint_scores"], dtype=np.float32).reshape(-1)
    elif kp.shape[1] == 3:
        sc = kp[:, 2]
    else:
        sc = np.ones(len(kp), dtype=np.float32)
    if len(sc) != len(kp):
        raise PoseReadError(f"{path}: {len(kp)} keypoints but {len(sc)} scores")
    xy = kp[:, :2]
    box = inst.get("bbox")
    if box is not None:
        box = np.asarray(box, dtype=np.float32).reshape(-1)[:4]
    else:
        ok = np.isfinite(xy).all(-1)
        box = np.concatenate([xy[ok].min(0), xy[ok].max(0)]) if ok.any() else np.zeros(4, np.float32)
    return xy, sc, box


def read_mmpose_json(path: str | Path, fps: float = 25.0, width: int = 0, height: int = 0) -> PoseSequence:
    """Read MMPose predictions: a list of ``{"frame_id", "instances": [{"keypoints", "keypoint_scores",
    "bbox", ...}]}`` or a dict with that list under ``"instance_info"`` (MMPose demo output). The layout
    is inferred from the number of keypoints (133 -> COCO-WholeBody). One signer per frame (module doc)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise PoseReadError(f"{path}: not a readable JSON file ({e})") from e
    frames = doc.get("instance_info") if isinstance(doc, dict) else doc
    if not isinstance(frames, list):
        raise PoseReadError(f"{path}: expected a list of frames or a dict with 'instance_info'")
    if frames and "frame_id" in frames[0]:
        frames = sorted(frames, key=lambda f: f["frame_id"])
    num_k = None
    out: list[np.ndarray | None] = []
    prev_box = None
    for fr in frames:
        insts = [_instance_arrays(i, path) for i in fr.get("instances", [])]
        if not insts:
            out.append(None)
            continue
        ks = {len(x) for x, _, _ in insts}
        if num_k is None:
            num_k = ks.pop() if len(ks) == 1 else 0
        if ks - {num_k} or not num_k:
            raise PoseReadError(f"{path}: frames disagree on the number of keypoints")
        kps, scs, boxes = zip(*insts, strict=True)
        i = select_signer(kps, scs, boxes, prev_box)
        xy, sc, prev_box = insts[i]
        out.append(np.concatenate([xy, sc[:, None]], axis=1))
    if num_k is None:
        raise PoseReadError(f"{path}: no person detected in any frame")
    layout = _layout_for_k(num_k, path)
    empty = np.zeros((num_k, 3), np.float32)
    data = _clean(np.stack([empty if o is None else o for o in out]).astype(np.float32))
    meta = doc.get("meta_info", {}) if isinstance(doc, dict) else {}
    return PoseSequence(data, layout, fps, width, height, {"path": str(path), "mmpose_meta": bool(meta)})


# --- numpy -------------------------------------------------------------------------------------------------
def _layout_for_k(k: int, path: Path, layout: str | Layout | None = None) -> Layout:
    if layout is not None:
        return get_layout(layout) if isinstance(layout, str) else layout
    same = [lay for lay in LAYOUTS.values() if lay.num_keypoints == k]
    if len(same) != 1:
        raise PoseReadError(f"{path}: cannot infer the keypoint layout from K={k}; pass layout=")
    return same[0]


def read_numpy(
    path: str | Path, layout: str | Layout | None = None, fps: float = 25.0, width: int = 0, height: int = 0,
) -> PoseSequence:
    """Read a (T, K, 2|3) array from ``.npy`` or ``.npz`` (key ``pose``, ``keypoints`` or the only array;
    optional scalar keys ``fps``, ``width``, ``height``, ``layout``). Pickles are refused. Without a
    confidence channel every finite point counts as present (conf 1)."""
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise PoseReadError(f"{path}: not a readable numpy file ({e})") from e
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            only = keys[0] if len(keys) == 1 else None
            key = next((k for k in ("pose", "keypoints", "data") if k in keys), only)
            if key is None:
                raise PoseReadError(f"{path}: no 'pose' array among {keys}")
            arr = loaded[key]
            fps = float(loaded["fps"]) if "fps" in keys else fps
            width = int(loaded["width"]) if "width" in keys else width
            height = int(loaded["height"]) if "height" in keys else height
            if layout is None and "layout" in keys:
                layout = str(loaded["layout"])
    else:
        arr = loaded
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] not in (2, 3):
        raise PoseReadError(f"{path}: pose array must be (T, K, 2) or (T, K, 3), got {arr.shape}")
    if arr.shape[2] == 2:
        arr = np.concatenate([arr, np.ones(arr.shape[:2] + (1,), np.float32)], axis=-1)
    data = _clean(arr.copy())
    try:
        lay = _layout_for_k(arr.shape[1], path, layout)
        return PoseSequence(data, lay, fps, width, height, {"path": str(path)})
    except (KeyError, ValueError) as e:
        raise PoseReadError(f"{path}: {e}") from e


def read_pose(path: str | Path, **kwargs) -> PoseSequence:
    """Read any supported pose file, dispatching on its suffix: ``.pose`` (pose-format), ``.json`` (MMPose
    predictions), ``.npy``/``.npz``. Keyword arguments go to the reader (fps, width, height, layout); for
    ``.pose`` they only fill in an fps or frame size the file lacks."""
    path = Path(path)
    if not path.is_file():
        raise PoseReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".pose":
        seq = read_pose_format(path)
        # the file's own fps / frame size win; keyword values only fill in what it lacks
        seq.fps = seq.fps or float(kwargs.get("fps") or 0.0) or 25.0
        seq.width = seq.width or int(kwargs.get("width") or 0)
        seq.height = seq.height or int(kwargs.get("height") or 0)
        return seq
    if suffix == ".json":
        return read_mmpose_json(path, **kwargs)
    if suffix in (".npy", ".npz"):
        return read_numpy(path, **kwargs)
    raise PoseReadError(f"{path}: unsupported pose file type {suffix!r} (.pose, .json, .npy, .npz)")
