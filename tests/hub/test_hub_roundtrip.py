"""save_pretrained -> from_pretrained by path and by repo id (local HF cache): same weights, same
predictions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from mslu.hub import HubError, encoder_from_pretrained, from_pretrained, resolve, save_pretrained
from mslu.hub.push import upload_files
from mslu.tasks.run_dir import load_model

EXPECTED = {
    "islr": {"classes.json"},
    "cslr": {"gloss_vocab.json"},
    "slt": {"tokenizer.json", "tokenizer_meta.json", "language.txt"},
    "retrieval": {"texts.json"},
}
COMMON = {"README.md", "config.json", "model.safetensors", "metrics.json", "training_config.yaml"}
TASKS = ("islr", "cslr", "slt", "retrieval")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def populate_cache(cache, repo_id: str, folder) -> None:
    """The huggingface_hub cache layout of one downloaded snapshot: models--o--n/{refs/main, snapshots/C/}."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(folder, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)


def predictions(task, model, corpus) -> list:
    torch.manual_seed(0)
    view = corpus.filter(split="test")
    return [task.predict(model, np.asarray(view.pose(i), np.float32), torch.device("cpu")) for i in range(2)]


def same_state(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize("task", TASKS)
def test_folder_holds_exactly_the_model_files(saved, task):
    assert set(upload_files(saved[task])) == COMMON | EXPECTED[task]


def test_encoder_folder_files(saved):
    assert set(upload_files(saved["encoder"])) == {"README.md", "config.json", "model.safetensors"}


@pytest.mark.parametrize("task", TASKS)
def test_roundtrip_by_path_same_predictions(runs, saved, task):
    run, corpus = runs[task]
    t0, m0 = load_model(run)
    t1, m1 = from_pretrained(saved[task])
    assert t1.name == task
    same_state(m0, m1)
    assert predictions(t0, m0.eval(), corpus) == predictions(t1, m1, corpus)


@pytest.mark.parametrize("task", ["islr", "slt"])
def test_roundtrip_by_repo_id_from_the_local_cache(runs, saved, task, tmp_path, monkeypatch):
    cache = tmp_path / "hf_home" / "hub"  # HF_HOME/hub (the autouse fixture sets HF_HOME)
    populate_cache(cache, f"someone/tiny-{task}", saved[task])
    assert resolve(f"someone/tiny-{task}") == cache / f"models--someone--tiny-{task}" / "snapshots" / COMMIT
    run, corpus = runs[task]
    t0, m0 = load_model(run)
    t1, m1 = from_pretrained(f"someone/tiny-{task}")
    same_state(m0, m1)
    assert predictions(t0, m0.eval(), corpus) == predictions(t1, m1, corpus)


def test_repo_id_from_hf_hub_cache_and_explicit_cache_dir(saved, tmp_path, monkeypatch):
    cache = tmp_path / "elsewhere"
    populate_cache(cache, "someone/islr", saved["islr"])
    with pytest.raises(HubError, match="not in the local Hugging Face cache"):
        resolve("someone/islr")  # HF_HOME/hub is empty
    assert resolve("someone/islr", cache_dir=cache).name == COMMIT
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    task, _ = from_pretrained("someone/islr")
    assert task.name == "islr"


def test_missing_repo_is_one_line(tmp_path):
    with pytest.raises(HubError) as e:
        from_pretrained("nobody/nothing")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("nobody/nothing: not in the local Hugging Face cache")


def test_encoder_roundtrip(runs, saved):
    from mslu.models import SignPoseEncoder

    a = SignPoseEncoder.from_pretrained(runs["encoder"]).eval()
    b = encoder_from_pretrained(saved["encoder"])
    same_state(a, b)
    pose, mask = torch.randn(2, 12, 79, 3), torch.ones(2, 12, dtype=torch.bool)
    with torch.no_grad():
        assert torch.equal(a(pose, mask), b(pose, mask))
    fine_tuned = encoder_from_pretrained(saved["islr"])  # the fine-tuned psi_SE of a task folder
    assert fine_tuned.output_dim == a.output_dim
    with pytest.raises(HubError, match="encoder_from_pretrained"):
        from_pretrained(saved["encoder"])


def test_sources_run_model_dir_and_saved_folder_agree(runs, saved, tmp_path):
    run, _ = runs["cslr"]
    a = save_pretrained(run / "model", tmp_path / "from_model_dir")
    b = save_pretrained(saved["cslr"], tmp_path / "from_saved")
    assert upload_files(a) == upload_files(b) == upload_files(saved["cslr"])
    assert json.loads((a / "metrics.json").read_text()) == json.loads((run / "metrics.json").read_text())
    assert (a / "training_config.yaml").read_text() == (run / "config.yaml").read_text()


def test_overwrite_rules(runs, saved, tmp_path):
    run, _ = runs["islr"]
    out = save_pretrained(run, tmp_path / "x")
    with pytest.raises(HubError, match="not empty"):
        save_pretrained(run, out)
    save_pretrained(run, out, overwrite=True)
    other = tmp_path / "not_mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(HubError, match="refusing"):
        save_pretrained(run, other, overwrite=True)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(HubError, match="source folder itself"):
        save_pretrained(run, run)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "no such directory"),
        (lambda d: d.mkdir(), "no model found"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{not json")), "config.json: not valid JSON"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text('{"task": "islr", "encoder": {}}')), "missing"),
    ],
)
def test_bad_sources_are_one_line(tmp_path, make, message):
    d = tmp_path / "bad"
    make(d)
    with pytest.raises(HubError) as e:
        save_pretrained(d, tmp_path / "out")
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()
