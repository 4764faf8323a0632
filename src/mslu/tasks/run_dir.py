"""A fine-tuned run directory: save and load its model, write its predictions, evaluate it on a split.

Layout written by :class:`mslu.training.finetuner.FineTuner`: ``<run>/model/`` (``model.safetensors``,
``config.json`` with the run config and the encoder config, the task's vocabularies / tokenizer),
``metrics.json``, ``predictions.jsonl``, ``history.csv``, ``checkpoints/``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader

from mslu.data.corpus import Corpus
from mslu.models import SignPoseEncoder
from mslu.models.config import EncoderConfig, config_from_dict, to_plain
from mslu.tasks import get_task
from mslu.tasks.dataset import split_view


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"``: CUDA when available, else CPU; any other name as ``torch.device``."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def model_dir(directory: str | Path) -> Path:
    """The folder holding ``model.safetensors``: ``directory`` itself or ``directory/model``."""
    d = Path(directory)
    if not (d / "model.safetensors").is_file() and (d / "model" / "model.safetensors").is_file():
        d = d / "model"
    if not (d / "config.json").is_file() or not (d / "model.safetensors").is_file():
        raise FileNotFoundError(f"{directory}: no fine-tuned model (config.json + model.safetensors) found")
    return d


def save_model(task, model, cfg: dict[str, Any], directory: str | Path) -> Path:
    """Fine-tuned model: ``model.safetensors`` + ``config.json`` (run config, encoder config) + assets."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    seen: set[int] = set()
    for k, v in list(state.items()):  # tied weights share storage: safetensors needs distinct tensors
        if v.data_ptr() in seen:
            state[k] = v.clone()
        seen.add(v.data_ptr())
    save_file(state, str(directory / "model.safetensors"), metadata={"task": task.name})
    meta = {"task": task.name, "config": cfg, "encoder": to_plain(asdict(model.encoder.cfg))}
    (directory / "config.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str))
    task.save_assets(directory)
    return directory


def load_model(directory: str | Path, device: str | torch.device = "cpu"):
    """(task, model) of a fine-tuned model directory (``<run>/model`` or the run directory itself)."""
    d = model_dir(directory)
    meta = json.loads((d / "config.json").read_text())
    task = get_task(meta["task"])(meta["config"])
    task.load_assets(d)
    model = task.build_model(SignPoseEncoder(config_from_dict(EncoderConfig, meta["encoder"])))
    model.load_state_dict(load_file(str(d / "model.safetensors")), strict=True)
    return task, model.to(resolve_device(device))


def write_predictions(out: str | Path, split: str, preds: list[dict[str, Any]]) -> Path:
    """``predictions.jsonl`` (test) or ``predictions_<split>.jsonl`` in ``out``."""
    path = Path(out) / ("predictions.jsonl" if split == "test" else f"predictions_{split}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for p in preds:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    return path


def jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Metric dict with numbers as plain floats (numpy / torch scalars converted)."""
    return {
        k: (float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v) for k, v in d.items()
    }


def eval_loader(task, dataset) -> DataLoader:
    d = task.cfg["data"]
    batch = int(d.get("eval_batch_size") or d["batch_size"])
    return DataLoader(dataset, batch_size=batch, shuffle=False, collate_fn=task.collate,
                      num_workers=int(d.get("num_workers", 0)))


def evaluate_run(
    run_dir: str | Path, split: str = "test", corpus: Any = None, device: str = "auto"
) -> dict[str, Any]:
    """Evaluate the fine-tuned model of ``run_dir`` on ``split`` of its (or the given) corpus."""
    dev = resolve_device(device)
    task, model = load_model(run_dir, dev)
    d = task.cfg["data"]
    corpus = Corpus(d["corpus"]) if corpus is None else corpus
    view = split_view(corpus, d["splits"].get(split, split), d.get("benchmark"), d.get("split_dir"))
    metrics, preds = task.evaluate(model, eval_loader(task, task.dataset(view, train=False)), dev, split)
    return {"task": task.name, "split": split, "metrics": jsonable(metrics), "predictions": preds}
