"""Downstream tasks (paper Sec. IV-B): ISLR, CSLR, GF-SLT and SL-RT on top of the pre-trained psi_SE.

``TASKS`` maps a task name to its :class:`~mslu.tasks.base.Task` class; ``MAIN_METRICS`` gives each task's
model-selection metric and whether higher is better.
Fine-tuning: :func:`mslu.training.finetuner.run_finetune`.
"""

from mslu.tasks.base import Task, TaskModel
from mslu.tasks.cslr import CSLRModel, CSLRTask
from mslu.tasks.dataset import DownstreamDataset, sample_frame_indices, split_view, uniform_indices
from mslu.tasks.islr import ISLRModel, ISLRTask
from mslu.tasks.retrieval import RetrievalModel, RetrievalTask
from mslu.tasks.slt import SLTModel, SLTTask

TASKS: dict[str, type[Task]] = {t.name: t for t in (ISLRTask, CSLRTask, SLTTask, RetrievalTask)}
MAIN_METRICS: dict[str, tuple[str, bool]] = {n: (t.main_metric, t.higher_is_better) for n, t in TASKS.items()}


def get_task(name: str) -> type[Task]:
    """The task class called ``name`` (islr, cslr, slt, retrieval)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    return TASKS[name]


__all__ = [
    "MAIN_METRICS",
    "TASKS",
    "CSLRModel",
    "CSLRTask",
    "DownstreamDataset",
    "ISLRModel",
    "ISLRTask",
    "RetrievalModel",
    "RetrievalTask",
    "SLTModel",
    "SLTTask",
    "Task",
    "TaskModel",
    "get_task",
    "sample_frame_indices",
    "split_view",
    "uniform_indices",
]
