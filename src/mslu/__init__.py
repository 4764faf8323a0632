"""mslu: multimodal sign language pre-training and understanding on whole-body pose."""

__version__ = "0.1.0"
