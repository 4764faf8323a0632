"""Whole-body pose extraction from video: MediaPipe Holistic (default) or COCO-WholeBody-133 through rtmlib,
hand refinement, and a parallel, resumable, shardable batch pipeline (``mslu extract``).
See docs/extraction.md."""

from mslu.extract.hand_refine import load_hands, refine_hands
from mslu.extract.pipeline import (
    ExtractConfig,
    ExtractReport,
    collect_videos,
    extract_video,
    make_estimator,
    parse_shard,
    run_extraction,
    shard_items,
)
from mslu.extract.video import VideoError, VideoReader

__all__ = [
    "ExtractConfig",
    "ExtractReport",
    "VideoError",
    "VideoReader",
    "collect_videos",
    "extract_video",
    "load_hands",
    "make_estimator",
    "parse_shard",
    "refine_hands",
    "run_extraction",
    "shard_items",
]
