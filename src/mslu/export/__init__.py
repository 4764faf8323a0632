"""Export models for inference outside PyTorch: ONNX graphs of the encoder and the task models, verified
against PyTorch with onnxruntime (:func:`export_onnx`, ``mslu export onnx``; see ``docs/sharing.md``)."""

from mslu.export.onnx_export import (
    DEFAULT_TOLERANCE,
    EXPORTER,
    OPSET,
    ExportError,
    ExportReport,
    GraphReport,
    export_onnx,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "EXPORTER",
    "OPSET",
    "ExportError",
    "ExportReport",
    "GraphReport",
    "export_onnx",
]
