"""Read and write pose sequences.

Formats (:func:`read_pose` dispatches on the suffix; a trailing ``.gz`` is decompressed transparently, e.g.
``clip.json.gz``, ``clip.npy.gz``, ``clip.pose.gz``):

* pose-format ``.pose``: every layout of :data:`COMPONENT_SPECS` (MediaPipe Holistic 543/553/576/586,
  Pose-33, Pose-33 + hands, the 178-point reduced holistic, hands only, OpenPose, COCO-WholeBody, ...);
  components are matched by name and point count, points reordered by name when the file lists them in
  another order; unknown component sets get a generic layout;
* ``.npy`` / ``.npz``: a (T, K, C) array, C = 2 (x, y), 3 (x, y, confidence; ``channels="xyz"`` for x, y, z)
  or 4 (x, y, z, confidence); the layout is declared (``layout=``) or inferred from a unique K;
* ``.json``, recognised by content: MMPose predictions (``instances`` per frame); a per-clip list of frames,
  each a list of ``{id, x, y, z, visibility}`` (or ``{"frames": [{"keypoints": [...]}]}``, the Libras
  files), layout from the number of ids; one OpenPose frame (``{"people": [...]}``);
* a folder of OpenPose per-frame JSON files (``*_keypoints.json``), frames in file-name order: BODY_25,
  + both hands (67) or + face and hands (137), depending on which arrays the files fill;
* ``.skels``: Progressive Transformers' text layout (one clip a line, per frame 50 joints x (x, y, z) and a
  counter); a file of several clips is read as ``file.skels#<line>`` (0-based).

Every reader returns a :class:`PoseSequence` with x, y as stored (pixels, or normalised units where the
format says so: ``meta["coordinates"] = "normalized"``), confidence clipped to
[0, 1] (MMPose scores can exceed 1 slightly) and missing joints as confidence 0 with x, y NaN; z is dropped.

Choosing one person when a file holds several:

* MMPose JSON: per frame, the signer is the instance with the highest mean keypoint score over the 11
  upper-body points (COCO 0-10); ties go to the larger bounding box, then to the lower instance index.
  When a signer was chosen in the previous frame, instances are first restricted to those whose box
  overlaps the previous signer's box (IoU >= 0.3), so the choice follows one person; if none overlaps, the
  rule above runs on all instances. A frame with no instance is all missing.
* ``.pose`` with several people: the person with the highest total confidence over the whole file.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mslu.pose.layouts import (
    COCO_WHOLEBODY_133,
    FACEMESH_CONTOURS,
    HAND_LEFT_21,
    HAND_RIGHT_21,
    HANDS_42,
    HOLISTIC_REDUCED_178,
    HOLISTIC_REDUCED_POSE,
    LAYOUTS,
    MEDIAPIPE_POSE_33,
    MEDIAPIPE_POSE_HANDS_75,
    MP_POSE_NAMES,
    OPENPOSE_137,
    OPENPOSE_BODY25,
    OPENPOSE_BODY25_HANDS_67,
    PHOENIX_SKELS_50,
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
    MEDIAPIPE_POSE_33.name: [("POSE_LANDMARKS", tuple(n.upper() for n in MP_POSE_NAMES))],
    MEDIAPIPE_POSE_HANDS_75.name: [
        ("POSE_LANDMARKS", tuple(n.upper() for n in MP_POSE_NAMES)),
        ("LEFT_HAND_LANDMARKS", _HAND_MP),
        ("RIGHT_HAND_LANDMARKS", _HAND_MP),
    ],
    HOLISTIC_REDUCED_178.name: [
        ("POSE_LANDMARKS", tuple(n.upper() for n in HOLISTIC_REDUCED_POSE)),
        ("FACE_LANDMARKS", tuple(str(i) for i in FACEMESH_CONTOURS)),
        ("LEFT_HAND_LANDMARKS", _HAND_MP),
        ("RIGHT_HAND_LANDMARKS", _HAND_MP),
    ],
    HAND_LEFT_21.name: [("LEFT_HAND_LANDMARKS", _HAND_MP)],
    HAND_RIGHT_21.name: [("RIGHT_HAND_LANDMARKS", _HAND_MP)],
    HANDS_42.name: [("LEFT_HAND_LANDMARKS", _HAND_MP), ("RIGHT_HAND_LANDMARKS", _HAND_MP)],
    OPENPOSE_BODY25.name: [("pose_keypoints_2d", _names(OPENPOSE_137, "body"))],
    OPENPOSE_BODY25_HANDS_67.name: [
        ("pose_keypoints_2d", _names(OPENPOSE_137, "body")),
        ("hand_left_keypoints_2d", _names(OPENPOSE_137, "left_hand")),
        ("hand_right_keypoints_2d", _names(OPENPOSE_137, "right_hand")),
    ],
    PHOENIX_SKELS_50.name: [("SKELS_50", PHOENIX_SKELS_50.names)],
}
for _r in (False, True):
    for _w in (False, True):
        COMPONENT_SPECS[mediapipe_holistic(_r, _w).name] = _mediapipe_spec(_r, _w)


class PoseReadError(ValueError):
    """A pose file could not be read; the message names the file and the problem."""


def pose_suffix(path: str | Path) -> str:
    """The format suffix of a pose file, lower case, with a trailing ``.gz`` skipped: ``a.json.gz`` ->
    ``.json``; a folder -> ``""`` (OpenPose frames)."""
    path = Path(path)
    if path.is_dir():
        return ""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


# Limits of what one pose file may hold (``MSLU_MAX_POSE_BYTES`` / ``MSLU_MAX_POSE_FRAMES`` change them):
# a reader checks sizes a header or an archive declares against these before it allocates.
MAX_POSE_BYTES = int(os.environ.get("MSLU_MAX_POSE_BYTES", 1 << 30))  # file, or its decompressed content
MAX_POSE_FRAMES = int(os.environ.get("MSLU_MAX_POSE_FRAMES", 200_000))
MAX_KEYPOINTS = 1024


def read_bytes(path: str | Path) -> bytes:
    """The content of ``path``; gzip-compressed files (``*.gz``, or gzip magic bytes) are decompressed, at
    most :data:`MAX_POSE_BYTES` of either."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_POSE_BYTES:
            raise PoseReadError(f"{path}: {size} bytes, more than the {MAX_POSE_BYTES} a pose file may have "
                                f"(MSLU_MAX_POSE_BYTES)")
        raw = path.read_bytes()
    except OSError as e:
        raise PoseReadError(f"{path}: cannot read ({e.strerror or e})") from e
    if raw[:2] == b"\x1f\x8b":
        out = bytearray()
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = raw
            while data:
                out += d.decompress(data, MAX_POSE_BYTES + 1 - len(out))
                if len(out) > MAX_POSE_BYTES:
                    raise PoseReadError(f"{path}: decompresses to more than {MAX_POSE_BYTES} bytes "
                                        f"(MSLU_MAX_POSE_BYTES)")
                data = d.unconsumed_tail
                if d.eof:
                    break
            if not d.eof:
                raise PoseReadError(f"{path}: truncated gzip data")
            return bytes(out)
        except zlib.error as e:
            raise PoseReadError(f"{path}: corrupt gzip data ({e})") from e
    if path.suffix.lower() == ".gz":
        raise PoseReadError(f"{path}: named .gz but not gzip-compressed")
    return raw


def _read_json(path: Path):
    try:
        return json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PoseReadError(f"{path}: not a readable JSON file ({' '.join(str(e).split())})") from e
    except RecursionError:
        raise PoseReadError(f"{path}: JSON nested too deeply") from None


def _clean(data: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Clip confidence to [0, 1] (MMPose scores can slightly exceed 1) and make missing joints (conf <= 0,
    NaN, or ``missing``) conf 0 with x, y NaN. Modifies and returns ``data``."""
    bad = ~(data[..., 2] > 0) | ~np.isfinite(data).all(-1)
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


def _point_order(layout: Layout, header, order: list[int]) -> np.ndarray | None:
    """Indices that put the file's points (components in ``order``) into the layout's point order, matched by
    name within each component; None when the names do not match (then the stored order is used)."""
    spec = COMPONENT_SPECS.get(layout.name)
    if spec is None:
        return None
    starts = np.cumsum([0] + [len(c.points) for c in header.components])
    out: list[int] = []
    for (_, want), i in zip(spec, order, strict=True):
        comp = header.components[i]
        pos = {str(p).upper(): starts[i] + j for j, p in enumerate(comp.points)}
        if len(pos) != len(want) or any(str(w).upper() not in pos for w in want):
            return None
        out += [int(pos[str(w).upper()]) for w in want]
    return np.asarray(out, dtype=np.int64)


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
    raw = read_bytes(path)
    try:
        pose = Pose.read(raw)
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
        by_name = _point_order(layout, header, order)
        if by_name is not None:
            data = data[:, by_name]
        else:
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
    return _mmpose_from_doc(_read_json(path), path, fps, width, height)


def _is_mmpose(doc) -> bool:
    frames = doc.get("instance_info") if isinstance(doc, dict) else doc
    return isinstance(frames, list) and bool(frames) and isinstance(frames[0], dict) and (
        "instances" in frames[0]
    )


def _mmpose_from_doc(doc, path: Path, fps: float, width: int, height: int) -> PoseSequence:
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


# --- per-clip keypoint JSON: frames of {id, x, y, z, visibility} ------------------------------------------
_POINT_LISTS = ("keypoints", "landmarks", "points", "pose")


def _frame_points(frame, path: Path, t: int) -> list:
    if isinstance(frame, dict):
        for key in _POINT_LISTS:
            if isinstance(frame.get(key), list):
                return frame[key]
        raise PoseReadError(f"{path}: frame {t} has no keypoint list ({', '.join(_POINT_LISTS)})")
    if isinstance(frame, list):
        return frame
    raise PoseReadError(f"{path}: frame {t} is a {type(frame).__name__}, not a list of keypoints")


def _is_keypoint_frames(doc) -> bool:
    frames = doc.get("frames") if isinstance(doc, dict) else doc
    if not isinstance(frames, list):
        return False
    for fr in frames:
        try:
            pts = _frame_points(fr, Path(), 0)
        except PoseReadError:
            return False
        if pts:
            return isinstance(pts[0], dict) and "x" in pts[0] and "y" in pts[0]
    return bool(frames) or isinstance(doc, dict)


def _keypoint_frames_from_doc(doc, path: Path, layout, fps: float, width: int, height: int) -> PoseSequence:
    frames = doc.get("frames") if isinstance(doc, dict) else doc
    if isinstance(doc, dict):  # optional clip-level properties
        fps = float(doc.get("fps") or fps)
        width = int(doc.get("width") or width or 0)
        height = int(doc.get("height") or height or 0)
    if frames and all(isinstance(f, dict) and "frame" in f for f in frames):
        frames = sorted(frames, key=lambda f: f["frame"])
    rows: list[list[tuple[int, float, float, float]]] = []
    num_k = 0
    for t, fr in enumerate(frames):
        pts = []
        for j, p in enumerate(_frame_points(fr, path, t)):
            if not isinstance(p, dict) or "x" not in p or "y" not in p:
                raise PoseReadError(f"{path}: frame {t}, point {j}: expected {{id, x, y, ...}}")
            try:
                k = int(p.get("id", j))
                conf = p.get("visibility", p.get("score", p.get("confidence", 1.0)))
                x, y = float(p["x"]), float(p["y"])
                c = 1.0 if conf is None else float(conf)
            except (TypeError, ValueError) as e:
                raise PoseReadError(f"{path}: frame {t}, point {j}: not a number ({e})") from e
            if k < 0:
                raise PoseReadError(f"{path}: frame {t}, point {j}: negative id {k}")
            pts.append((k, x, y, c))
            num_k = max(num_k, k + 1)
        rows.append(pts)
    if not rows:
        raise PoseReadError(f"{path}: no frames")
    if num_k == 0:
        raise PoseReadError(f"{path}: no keypoints in any frame")
    lay = _layout_for_k(num_k, path, layout)
    if num_k > lay.num_keypoints:
        raise PoseReadError(f"{path}: keypoint id {num_k - 1} is outside layout {lay.name!r} "
                            f"({lay.num_keypoints} points)")
    data = np.zeros((len(rows), lay.num_keypoints, 3), np.float32)
    for t, pts in enumerate(rows):
        for k, x, y, c in pts:
            data[t, k] = (x, y, c)
    return PoseSequence(_clean(data), lay, fps, width, height, {"path": str(path)})


def read_keypoint_json(path: str | Path, layout: str | Layout | None = None, fps: float = 25.0,
                       width: int = 0, height: int = 0) -> PoseSequence:
    """A clip as a JSON list of frames, each a list of ``{id, x, y, z, visibility}`` (``visibility`` is the
    confidence; ``score`` / ``confidence`` are read too, none = 1), or ``{"frames": [{"frame": i,
    "keypoints": [...]}, ...]}`` (optional top-level ``fps``, ``width``, ``height``). Ids index the
    layout's points; the layout is declared or inferred from the number of ids (33: MediaPipe Pose)."""
    path = Path(path)
    return _keypoint_frames_from_doc(_read_json(path), path, layout, fps, width, height)


# --- OpenPose per-frame JSON --------------------------------------------------------------------------------
_OP_PARTS = (("pose_keypoints_2d", 25), ("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
             ("hand_right_keypoints_2d", 21))
_OP_BODY11 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4)  # BODY_25 nose, eyes, ears, shoulders, elbows, wrists


def _openpose_person(person: dict, where: str) -> dict[str, np.ndarray]:
    out = {}
    for key, k in _OP_PARTS:
        vals = person.get(key) or []
        arr = np.asarray(vals, dtype=np.float32).reshape(-1)
        if arr.size == 0:
            continue
        if key == "pose_keypoints_2d" and arr.size == 18 * 3:
            raise PoseReadError(f"{where}: OpenPose BODY_COCO (18 points) is not supported; use BODY_25")
        if arr.size != k * 3:
            raise PoseReadError(f"{where}: {key} has {arr.size} values, expected {k * 3} ({k} x [x, y, c])")
        out[key] = arr.reshape(k, 3)
    return out


def _openpose_frames(docs: list[tuple[str, dict]], path: Path, fps: float, width: int,
                     height: int) -> PoseSequence:
    frames: list[dict[str, np.ndarray] | None] = []
    present: set[str] = set()
    prev_box = None
    for where, doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
            raise PoseReadError(f"{where}: not an OpenPose frame (no 'people' list)")
        people = [_openpose_person(p, where) for p in doc["people"] if isinstance(p, dict)]
        people = [p for p in people if "pose_keypoints_2d" in p]
        if not people:
            frames.append(None)
            continue
        body = [p["pose_keypoints_2d"] for p in people]
        boxes = []
        for b in body:
            ok = b[:, 2] > 0
            boxes.append(np.concatenate([b[ok, :2].min(0), b[ok, :2].max(0)]) if ok.any()
                         else np.zeros(4, np.float32))
        i = select_signer([b[:, :2] for b in body], [b[:, 2] for b in body], boxes, prev_box, _OP_BODY11)
        prev_box = boxes[i]
        frames.append(people[i])
        present.update(people[i])
    if not present:
        raise PoseReadError(f"{path}: no person detected in any frame")
    hands = {"hand_left_keypoints_2d", "hand_right_keypoints_2d"} & present
    if "face_keypoints_2d" in present:
        layout = OPENPOSE_137
    elif hands:
        layout = OPENPOSE_BODY25_HANDS_67
    else:
        layout = OPENPOSE_BODY25
    keys = [key for key, _ in _OP_PARTS if layout is OPENPOSE_137 or key != "face_keypoints_2d"]
    if layout is OPENPOSE_BODY25:
        keys = ["pose_keypoints_2d"]
    sizes = dict(_OP_PARTS)
    data = np.concatenate(
        [np.stack([f.get(key, np.zeros((sizes[key], 3), np.float32)) if f else np.zeros((sizes[key], 3),
                                                                                       np.float32)
                   for f in frames]) for key in keys], axis=1)
    return PoseSequence(_clean(data.astype(np.float32)), layout, fps, width, height,
                        {"path": str(path), "frames": len(frames)})


def _frame_number(name: str) -> tuple:
    m = re.search(r"(\d+)(?=_keypoints\.json(\.gz)?$)", name) or re.search(r"(\d+)(?=\D*$)", name)
    return (int(m.group(1)) if m else -1, name)


def read_openpose(path: str | Path, fps: float = 25.0, width: int = 0, height: int = 0) -> PoseSequence:
    """OpenPose output: one per-frame JSON file, or a folder of them (``*_keypoints.json``; frames ordered by
    the frame number in the name). One person per frame: the highest mean upper-body confidence, following
    the previous frame's signer (the MMPose rule of the module docstring). BODY_COCO files are refused."""
    path = Path(path)
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file() and re.search(r"\.json(\.gz)?$", p.name.lower())]
        if not files:
            raise PoseReadError(f"{path}: folder holds no OpenPose .json frames")
        files.sort(key=lambda p: _frame_number(p.name))
        docs = [(str(p), _read_json(p)) for p in files]
    else:
        docs = [(str(path), _read_json(path))]
    return _openpose_frames(docs, path, fps, width, height)


def read_json(path: str | Path, layout: str | Layout | None = None, fps: float = 25.0, width: int = 0,
              height: int = 0) -> PoseSequence:
    """A ``.json`` pose file of any supported kind (module docstring), recognised by its content."""
    path = Path(path)
    doc = _read_json(path)
    if isinstance(doc, dict) and "people" in doc:
        return _openpose_frames([(str(path), doc)], path, fps, width, height)
    if _is_mmpose(doc):
        return _mmpose_from_doc(doc, path, fps, width, height)
    if _is_keypoint_frames(doc):
        return _keypoint_frames_from_doc(doc, path, layout, fps, width, height)
    raise PoseReadError(f"{path}: unrecognised JSON pose data (expected MMPose instances, OpenPose 'people' "
                        "or a list of frames of {id, x, y, ...} keypoints)")


# --- Progressive Transformers .skels ------------------------------------------------------------------------
SKELS_VALUES = 150  # 50 joints x (x, y, z)


def _skels_frames(values: np.ndarray, where: str) -> np.ndarray:
    """(T, 50, 3) x, y, z from one ``.skels`` line: 151 values a frame (the last a counter in [0, 1] rising
    over the clip), or 150 without a counter. Both divide 22,650 values: then the counter decides."""
    n = values.size
    if n % (SKELS_VALUES + 1) == 0 and n:
        counter = values.reshape(-1, SKELS_VALUES + 1)[:, -1]
        if ((counter >= 0) & (counter <= 1)).all() and (np.diff(counter) >= 0).all():
            return values.reshape(-1, SKELS_VALUES + 1)[:, :SKELS_VALUES].reshape(-1, 50, 3)
    if n % SKELS_VALUES == 0 and n:
        return values.reshape(-1, 50, 3)
    raise PoseReadError(f"{where}: {n} values are not frames of 50 joints x 3 (+ counter)")


def read_skels_lines(path: str | Path) -> list[np.ndarray]:
    """Every clip of a ``.skels`` file as a (T, 50, 3) array (x, y, z)."""
    path = Path(path)
    try:
        text = read_bytes(path).decode("ascii")
    except UnicodeDecodeError as e:
        raise PoseReadError(f"{path}: not a .skels text file ({e})") from e
    out = []
    for i, line in enumerate(ln for ln in text.splitlines() if ln.strip()):
        try:
            values = np.array(line.split(), dtype=np.float32)
        except ValueError as e:
            raise PoseReadError(f"{path}#{i}: not a line of numbers ({e})") from e
        out.append(_skels_frames(values, f"{path}#{i}"))
    return out


def skels_sequence(xyz: np.ndarray, where: str, fps: float = 25.0) -> PoseSequence:
    """A :class:`PoseSequence` of one ``.skels`` clip. The joints are neck-centred (the neck is the origin)
    and scaled to about a frame's width; x, y are shifted by +0.5 so the neck sits at the frame centre, and
    the sequence is in normalised units (``meta["coordinates"] = "normalized"``, frame size 0)."""
    xy = xyz[..., :2] + np.float32(0.5)
    conf = (~np.isclose(xyz, 0).all(-1) | (np.arange(50) == 1)).astype(np.float32)  # the neck is 0 by design
    data = _clean(np.concatenate([xy, conf[..., None]], -1).astype(np.float32))
    return PoseSequence(data, PHOENIX_SKELS_50, fps, 0, 0, {"path": where, "coordinates": "normalized"})


def read_skels(path: str | Path, line: int | None = None, fps: float = 25.0) -> PoseSequence:
    """One clip of a ``.skels`` file: line ``line`` (0-based), or the only one."""
    path = Path(path)
    clips = read_skels_lines(path)
    if line is None:
        if len(clips) != 1:
            raise PoseReadError(f"{path}: holds {len(clips)} clips; name one as {path.name}#<line>")
        line = 0
    if not 0 <= line < len(clips):
        raise PoseReadError(f"{path}: no clip #{line} (the file holds {len(clips)})")
    return skels_sequence(clips[line], f"{path}#{line}", fps)


# --- numpy -------------------------------------------------------------------------------------------------
def _layout_for_k(k: int, path: Path, layout: str | Layout | None = None) -> Layout:
    if layout is not None:
        try:
            return get_layout(layout) if isinstance(layout, str) else layout
        except KeyError as e:
            raise PoseReadError(f"{path}: {e.args[0]}") from None
    same = [lay for lay in LAYOUTS.values() if lay.num_keypoints == k]
    if len(same) != 1:
        which = f" ({', '.join(lay.name for lay in same)})" if same else ""
        raise PoseReadError(f"{path}: cannot infer the keypoint layout from K={k}{which}; declare the layout")
    return same[0]


def read_numpy(
    path: str | Path, layout: str | Layout | None = None, fps: float = 25.0, width: int = 0, height: int = 0,
    channels: str | None = None,
) -> PoseSequence:
    """Read a (T, K, C) array from ``.npy`` or ``.npz`` (key ``pose``, ``keypoints`` or the only array;
    optional scalar keys ``fps``, ``width``, ``height``, ``layout``). Pickles are refused. C = 2: x, y;
    3: x, y, confidence (``channels="xyz"``: x, y, z); 4: x, y, z, confidence. Without a confidence channel
    every finite point counts as present (conf 1)."""
    path = Path(path)
    raw = read_bytes(path)
    if raw[:4] == b"PK\x03\x04":
        _check_npz(raw, path)
    else:
        _check_npy_header(io.BytesIO(raw), len(raw), path)
    try:
        loaded = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise PoseReadError(f"{path}: not a readable numpy file ({' '.join(str(e).split())})") from e
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            only = keys[0] if len(keys) == 1 else None
            key = next((k for k in ("pose", "keypoints", "data") if k in keys), only)
            if key is None:
                raise PoseReadError(f"{path}: no 'pose' array among {keys}")
            try:
                arr = loaded[key]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
                raise PoseReadError(f"{path}: unreadable array {key!r} ({' '.join(str(e).split())})") from e
            fps = float(loaded["fps"]) if "fps" in keys else fps
            width = int(loaded["width"]) if "width" in keys else width
            height = int(loaded["height"]) if "height" in keys else height
            if layout is None and "layout" in keys:
                layout = str(loaded["layout"])
    else:
        arr = loaded
    try:
        arr = np.asarray(arr, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise PoseReadError(f"{path}: pose array is not numeric ({e})") from e
    if arr.ndim != 3 or arr.shape[2] not in (2, 3, 4):
        raise PoseReadError(f"{path}: pose array must be (T, K, 2), (T, K, 3) or (T, K, 4), got {arr.shape}")
    if channels not in (None, "xy", "xyc", "xyz", "xyzc"):
        raise PoseReadError(f"{path}: channels must be xy, xyc, xyz or xyzc, got {channels!r}")
    c = arr.shape[2]
    if channels is not None and len(channels) != c:
        raise PoseReadError(f"{path}: channels {channels!r} but the array has {c} per point")
    if c == 4:
        arr = arr[..., [0, 1, 3]]
    elif c == 3 and channels == "xyz":
        arr = arr[..., :2]
    if arr.shape[2] == 2:
        arr = np.concatenate([arr, np.ones(arr.shape[:2] + (1,), np.float32)], axis=-1)
    data = _clean(arr.copy())
    lay = _layout_for_k(arr.shape[1], path, layout)
    try:
        return PoseSequence(data, lay, fps, width, height, {"path": str(path)})
    except (KeyError, ValueError) as e:
        raise PoseReadError(f"{path}: {e}") from e


def _check_npy_header(f, available: int, path: Path, what: str = "") -> None:
    """Refuse an ``.npy`` whose header declares more data than the bytes that follow it (or than
    :data:`MAX_POSE_BYTES`) before numpy allocates it."""
    try:
        version = np.lib.format.read_magic(f)
        fmt = np.lib.format
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = reader(f)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as e:
        raise PoseReadError(f"{path}{what}: not a readable numpy file ({' '.join(str(e).split())})") from e
    need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if need > min(available - f.tell(), MAX_POSE_BYTES):
        raise PoseReadError(f"{path}{what}: the header declares a {tuple(shape)} {dtype} array ({need} "
                            f"bytes), more than the file holds or a pose file may have")


def _check_npz(raw: bytes, path: Path) -> None:
    """Refuse an ``.npz`` whose members would unpack to more than :data:`MAX_POSE_BYTES` (a small zip can
    hold a huge array), and members whose headers declare more than they hold."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_POSE_BYTES:
                raise PoseReadError(f"{path}: unpacks to {total} bytes, more than the {MAX_POSE_BYTES} a "
                                    f"pose file may have (MSLU_MAX_POSE_BYTES)")
            for info in infos:
                with z.open(info) as member:
                    head = io.BytesIO(member.read(4096))
                _check_npy_header(head, info.file_size, path, f" ({info.filename})")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise PoseReadError(f"{path}: not a readable .npz archive ({' '.join(str(e).split())})") from e


def checked(seq: PoseSequence, path: Path) -> PoseSequence:
    """What every reader returns passes this: frames within limits, keypoints bounded, values finite or
    missing (conf 0), a usable fps and frame size (unknown ones become 0 / 25 fps)."""
    data = seq.data
    t, k = data.shape[:2]
    if t == 0:
        raise PoseReadError(f"{path}: no frames")
    if t > MAX_POSE_FRAMES or k > MAX_KEYPOINTS:
        raise PoseReadError(f"{path}: {t} frames x {k} keypoints, more than the {MAX_POSE_FRAMES} x "
                            f"{MAX_KEYPOINTS} a pose file may have (MSLU_MAX_POSE_FRAMES)")
    if not np.isfinite(data[..., 2]).all() or np.isinf(data).any():
        seq.data = _clean(np.array(data, dtype=np.float32))
    fps = float(seq.fps or 0)
    seq.fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else 25.0
    for side in ("width", "height"):
        v = getattr(seq, side)
        ok = isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 100_000
        setattr(seq, side, int(v) if ok else 0)
    return seq


# --- dispatch -----------------------------------------------------------------------------------------------
POSE_FILE_SUFFIXES = (".pose", ".json", ".npy", ".npz", ".skels")
_LINE = re.compile(r"^(?P<file>.+\.skels(?:\.gz)?)#(?P<line>\d+)$", re.IGNORECASE)


def read_pose(path: str | Path, **kwargs) -> PoseSequence:
    """Read any supported pose file (see :func:`_dispatch`), checked (:func:`checked`): a one-line
    :class:`PoseReadError` naming the file for anything malformed."""
    return checked(_dispatch(Path(path), **kwargs), Path(path))


def _dispatch(path: str | Path, **kwargs) -> PoseSequence:
    """Read any supported pose file (module docstring), dispatching on its suffix (``.gz`` skipped): ``.pose``
    (pose-format), ``.json`` (MMPose, keypoint frames or OpenPose, by content), ``.npy`` / ``.npz``,
    ``.skels`` (``file.skels#N`` for clip N), or a folder of OpenPose frames. Keyword arguments go to the
    reader (fps, width, height, layout, channels); for ``.pose`` they only fill in an fps or frame size the
    file lacks."""
    path = Path(path)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    m = _LINE.match(path.name)
    if m and not path.exists():
        base = path.with_name(m.group("file"))
        if not base.is_file():
            raise PoseReadError(f"{base}: no such file")
        return read_skels(base, int(m.group("line")), fps=float(kwargs.get("fps") or 25.0))
    if path.is_dir():
        return read_openpose(path, **_only(kwargs, "fps", "width", "height"))
    if not path.is_file():
        raise PoseReadError(f"{path}: no such file")
    suffix = pose_suffix(path)
    if suffix == ".pose":
        seq = read_pose_format(path)
        # the file's own fps / frame size win; keyword values only fill in what it lacks
        seq.fps = seq.fps or float(kwargs.get("fps") or 0.0) or 25.0
        seq.width = seq.width or int(kwargs.get("width") or 0)
        seq.height = seq.height or int(kwargs.get("height") or 0)
        return seq
    if suffix == ".json":
        return read_json(path, **_only(kwargs, "layout", "fps", "width", "height"))
    if suffix in (".npy", ".npz"):
        return read_numpy(path, **_only(kwargs, "layout", "fps", "width", "height", "channels"))
    if suffix == ".skels":
        return read_skels(path, fps=float(kwargs.get("fps") or 25.0))
    raise PoseReadError(f"{path}: unsupported pose file type {suffix!r} "
                        f"({', '.join(POSE_FILE_SUFFIXES)}, optionally .gz, or a folder of OpenPose frames)")


def _only(kwargs: dict, *keys: str) -> dict:
    return {k: kwargs[k] for k in keys if k in kwargs}
