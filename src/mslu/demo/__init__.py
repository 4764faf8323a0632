"""The main job (``mslu demo``): synthetic corpus -> pre-training -> every task from the pre-trained encoder
and from scratch -> a report laid out like the paper's tables."""

from mslu.demo.run import DemoConfig, run_demo

__all__ = ["DemoConfig", "run_demo"]
