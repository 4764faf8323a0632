"""COCO-WholeBody-133 backend through rtmlib / ONNX Runtime, with model files the user supplies.

Top-down: a person detector (YOLOX / RTMDet ``.onnx``) finds people, a whole-body model (RTMW or
DWPose / RTMPose-wholebody ``.onnx``) estimates 133 keypoints for every box, and
:func:`mslu.pose.io.select_signer` keeps the signer -- the same rule the MMPose JSON reader applies, so
extracted and imported poses agree: the person with the highest mean score over the 11 upper-body points,
ties to the larger box then the lower index; once a signer is chosen, later frames first restrict the choice
to boxes overlapping the previous signer's (IoU >= 0.3).

Nothing is downloaded: both model paths are required. RTMPose/SimCC confidences are not probabilities
(they can exceed 1); they are clipped to [0, 1]. Keypoints with confidence 0 get x, y NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mslu.extract.base import missing_points
from mslu.pose.io import select_signer
from mslu.pose.layouts import COCO_WHOLEBODY_133, Layout

Detector = Callable[[np.ndarray], np.ndarray]  # BGR image -> (N, 4) x1, y1, x2, y2
PoseModel = Callable[..., tuple[np.ndarray, np.ndarray]]  # (BGR image, bboxes=boxes) -> (N,K,2), (N,K)


class RTMLibWholeBody:
    """Detector + whole-body RTMPose-family model, one signer per frame.

    ``det_model`` / ``pose_model`` are ``.onnx`` paths loaded with ``rtmlib.YOLOX`` / ``rtmlib.RTMPose``;
    ``detector`` / ``estimator`` inject ready callables with the same call signatures instead (tests, other
    runtimes). Input sizes are (width, height) as rtmlib takes them; (288, 384) fits RTMW-l/x and DWPose-l.
    """

    def __init__(
        self,
        det_model: str | Path | None = None,
        pose_model: str | Path | None = None,
        det_input_size: tuple[int, int] = (640, 640),
        pose_input_size: tuple[int, int] = (288, 384),
        device: str = "cpu",
        *,
        detector: Detector | None = None,
        estimator: PoseModel | None = None,
        name: str = "rtmlib-wholebody",
    ) -> None:
        if detector is None or estimator is None:
            for label, path in (("detector", det_model), ("pose", pose_model)):
                if path is None:
                    raise ValueError(
                        f"the rtmlib backend needs a {label} model file (.onnx); nothing is downloaded"
                    )
                if not Path(path).is_file():
                    raise FileNotFoundError(f"{label} model file not found: {path}")
            try:
                from rtmlib import YOLOX, RTMPose
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise ImportError("the rtmlib backend needs `pip install rtmlib onnxruntime`") from e
            if detector is None:
                detector = YOLOX(str(det_model), model_input_size=det_input_size, backend="onnxruntime",
                                 device=device)
            if estimator is None:
                estimator = RTMPose(str(pose_model), model_input_size=pose_input_size, backend="onnxruntime",
                                    device=device)
        self._detector = detector
        self._estimator = estimator
        self.layout: Layout = COCO_WHOLEBODY_133
        self.name = name
        self._previous_box: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame's signer box (new video)."""
        self._previous_box = None

    def process(self, frame_rgb: np.ndarray, width: int, height: int) -> np.ndarray:
        bgr = np.ascontiguousarray(frame_rgb[..., ::-1])
        boxes = np.asarray(self._detector(bgr), dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return missing_points(self.layout.num_keypoints)
        k = self.layout.num_keypoints
        keypoints, scores = self._estimator(bgr, bboxes=list(boxes))
        keypoints = np.asarray(keypoints, dtype=np.float32).reshape(-1, k, 2)
        scores = np.asarray(scores, dtype=np.float32).reshape(-1, k)
        if len(keypoints) != len(boxes):
            raise RuntimeError(f"pose model returned {len(keypoints)} people for {len(boxes)} boxes")
        i = select_signer(list(keypoints), list(scores), list(boxes), self._previous_box)
        self._previous_box = boxes[i]
        keypoints, scores = keypoints[i], scores[i]
        conf = np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)
        out = np.concatenate([keypoints, conf[:, None]], axis=1).astype(np.float32)
        out[conf <= 0, :2] = np.nan
        return out

    def close(self) -> None:
        self._detector = self._estimator = None
