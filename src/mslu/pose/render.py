"""Draw pose sequences: skeleton frames as an image grid (PNG/JPG), GIF (imageio) or MP4 (OpenCV, mp4v).

SL79 sequences are drawn with the :mod:`mslu.pose.skeleton` edges, one colour per part; other layouts
(``raw=True``) are drawn as points coloured by group. Missing joints (confidence 0 or NaN) and edges
touching them are not drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mslu.pose.layouts import SL79, Layout
from mslu.pose.mapping import to_sl79
from mslu.pose.sequence import PoseSequence
from mslu.pose.skeleton import SL79_EDGES

# RGB colours per part
PART_COLOURS: dict[str, tuple[int, int, int]] = {
    "body": (230, 230, 230),
    "face": (80, 200, 255),
    "mouth": (255, 90, 90),
    "left_hand": (90, 230, 90),
    "right_hand": (255, 200, 40),
}
_OTHER = (200, 120, 255)
_GROUP_PALETTE = [(230, 230, 230), (80, 200, 255), (90, 230, 90), (255, 200, 40), (255, 90, 90), _OTHER]


def _point_colours(layout: Layout) -> np.ndarray:
    cols = np.tile(np.array(_OTHER, dtype=np.uint8), (layout.num_keypoints, 1))
    if layout.name == SL79.name:
        for part, col in PART_COLOURS.items():
            cols[list(SL79.groups[part])] = col
        return cols
    for g, (_name, idx) in enumerate(layout.groups.items()):
        cols[list(idx)] = _GROUP_PALETTE[g % len(_GROUP_PALETTE)]
    return cols


def _view(seq: PoseSequence, size: int, margin: float = 0.05) -> tuple[int, int, np.ndarray, float]:
    """Canvas (h, w), and offset/scale mapping pose x, y to canvas pixels."""
    valid = ~seq.missing()
    pts = seq.xy[valid]
    if seq.width > 0 and seq.height > 0:
        x0, y0, bw, bh = 0.0, 0.0, float(seq.width), float(seq.height)
    elif len(pts):
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        bw, bh = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        x0, y0, bw, bh = x0 - margin * bw, y0 - margin * bh, bw * (1 + 2 * margin), bh * (1 + 2 * margin)
    else:
        x0, y0, bw, bh = 0.0, 0.0, 1.0, 1.0
    scale = size / max(bw, bh)
    w, h = max(int(round(bw * scale)), 1), max(int(round(bh * scale)), 1)
    return h, w, np.array([x0, y0], dtype=np.float64), scale


MAX_SIZE = 4096  # longest side of a rendered frame, pixels


def iter_frames(
    seq: PoseSequence,
    size: int = 384,
    caption: str | None = None,
    edges: list[tuple[int, int]] | None = None,
    indices: np.ndarray | None = None,
):
    """Draw the frames ``indices`` (all by default) one at a time: uint8 RGB (H, W, 3) images with the
    longer side ``size`` pixels. Edges default to the SL79 skeleton for SL79 sequences, none otherwise."""
    import cv2

    if not 8 <= int(size) <= MAX_SIZE:
        raise ValueError(f"render size {size} is out of range: 8 to {MAX_SIZE} pixels")
    if edges is None:
        edges = SL79_EDGES if seq.layout.name == SL79.name else []
    h, w, offset, scale = _view(seq, size)
    cols = _point_colours(seq.layout)
    missing = seq.missing()
    radius = max(1, size // 160)
    for t in range(seq.num_frames) if indices is None else indices:
        img = np.zeros((h, w, 3), dtype=np.uint8)
        pix = np.nan_to_num((seq.xy[t].astype(np.float64) - offset) * scale).round().astype(np.int32)
        ok = ~missing[t]
        for i, j in edges:
            if ok[i] and ok[j]:
                col = cols[i] if (cols[i] == cols[j]).all() else np.array(PART_COLOURS["body"])
                cv2.line(img, tuple(map(int, pix[i])), tuple(map(int, pix[j])), tuple(map(int, col)), 1,
                         cv2.LINE_AA)
        for k in np.flatnonzero(ok):
            cv2.circle(img, tuple(map(int, pix[k])), radius, tuple(map(int, cols[k])), -1, cv2.LINE_AA)
        text = f"{t + 1}/{seq.num_frames}" + (f"  {caption}" if caption else "")
        cv2.putText(img, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        yield img


def render_frames(
    seq: PoseSequence,
    size: int = 384,
    caption: str | None = None,
    edges: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Every frame drawn (see :func:`iter_frames`) as one uint8 RGB (T, H, W, 3) array."""
    h, w = _view(seq, size)[:2]
    frames = np.zeros((seq.num_frames, h, w, 3), dtype=np.uint8)
    for t, img in enumerate(iter_frames(seq, size, caption, edges)):
        frames[t] = img
    return frames


def grid_image(frames: np.ndarray, n: int = 16, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """``n`` evenly spaced frames (all if fewer) tiled into one RGB image, ``cols`` columns."""
    t = len(frames)
    idx = np.unique(np.linspace(0, t - 1, min(n, t)).round().astype(int)) if t else np.array([], int)
    cols = cols or math.ceil(math.sqrt(len(idx))) or 1
    rows = max(math.ceil(len(idx) / cols), 1)
    h, w = frames.shape[1:3]
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 64, dtype=np.uint8)
    for k, i in enumerate(idx):
        r, c = divmod(k, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + h, x : x + w] = frames[i]
    return out


def save_frames(frames, path: str | Path, fps: float = 25.0, grid: int = 16) -> Path:
    """Write frames (an array or any iterable of RGB images) by suffix: ``.gif`` (imageio), ``.mp4``
    (OpenCV mp4v), ``.png``/``.jpg`` (a grid of ``grid`` frames). GIF and MP4 are written frame by frame."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        import imageio.v2 as imageio

        with imageio.get_writer(path, mode="I", duration=1000.0 / max(fps, 1e-3), loop=0) as writer:
            for f in frames:
                writer.append_data(f)
    elif suffix == ".mp4":
        writer = None
        try:
            for f in frames:
                if writer is None:
                    h, w = f.shape[:2]
                    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
                    if not writer.isOpened():
                        raise OSError(f"{path}: OpenCV cannot open an mp4v video writer")
                writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        finally:
            if writer is not None:
                writer.release()
    elif suffix in (".png", ".jpg", ".jpeg"):
        frames = np.asarray(frames if isinstance(frames, np.ndarray) else list(frames))
        if not cv2.imwrite(str(path), cv2.cvtColor(grid_image(frames, grid), cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: could not write image")
    else:
        raise ValueError(f"{path}: unsupported output type {suffix!r} (.gif, .mp4, .png, .jpg)")
    return path


def render(
    seq: PoseSequence, out: str | Path, raw: bool = False, grid: int = 16, size: int = 384,
    caption: str | None = None, fps: float | None = None,
) -> Path:
    """Render ``seq`` to ``out`` (.gif, .mp4 or a .png grid); mapped to SL79 unless ``raw``. Frames are drawn
    and written one at a time (a grid draws only its frames), so memory does not grow with the length."""
    if not raw:
        seq = to_sl79(seq)
    if Path(out).suffix.lower() in (".png", ".jpg", ".jpeg"):
        t = seq.num_frames
        idx = np.unique(np.linspace(0, t - 1, min(grid, t)).round().astype(int)) if t else np.array([], int)
        frames = list(iter_frames(seq, size=size, caption=caption, indices=idx))
        return save_frames(np.asarray(frames), out, grid=len(frames) or 1)
    frames = iter_frames(seq, size=size, caption=caption)
    return save_frames(frames, out, fps=fps or seq.fps or 25.0, grid=grid)
