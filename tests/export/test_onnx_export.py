"""ONNX export: onnxruntime on batch sizes / lengths other than the traced ones equals PyTorch (fp32,
max abs error <= 1e-4); the report and the command line say so; bad runs are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

ort = pytest.importorskip("onnxruntime")

from mslu.cli import main  # noqa: E402
from mslu.export import DEFAULT_TOLERANCE, ExportError, export_onnx  # noqa: E402
from mslu.tasks.run_dir import load_model  # noqa: E402

TOL = 1e-4
SHAPES = [(2, 12), (4, 30)]  # (batch, frames); tracing used (2, 24)


def session(path):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def poses(b: int, t: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pose = torch.randn(b, t, 79, 3, generator=g) * 0.5
    mask = torch.ones(b, t, dtype=torch.bool)
    for i in range(1, b):
        mask[i, t - 3 * i :] = False  # different padding per item
    return pose * mask[..., None, None], mask


def err(a: np.ndarray, b: torch.Tensor) -> float:
    assert a.shape == tuple(b.shape)
    return float(np.abs(a - b.detach().numpy()).max())


def test_default_tolerance_is_the_stated_one():
    assert DEFAULT_TOLERANCE == TOL


def test_islr_matches_pytorch(runs, tmp_path):
    run, corpus = runs["islr"]
    rep = export_onnx(run, tmp_path / "islr")
    assert [g.name for g in rep.graphs] == ["islr"] and rep.max_abs_error <= TOL
    assert len(rep.graphs[0].checks) == 2
    report = json.loads((tmp_path / "islr" / "export.json").read_text())
    assert report["max_abs_error"] == rep.max_abs_error and report["tolerance"] == TOL
    task, model = load_model(run)
    assert report["labels"]["classes"] == task.classes
    sess = session(rep.files[0])
    model.eval()
    for b, t in SHAPES:
        pose, mask = poses(b, t)
        with torch.no_grad():
            ref = model(pose, mask)
        (logits,) = sess.run(None, {"pose": pose.numpy(), "frame_mask": mask.numpy()})
        assert err(logits, ref) <= TOL
    # a real test clip, prepared by the task exactly as task.predict does
    batch = task.single_batch(
        np.asarray(corpus.filter(split="test").pose(0), np.float32), torch.device("cpu")
    )
    with torch.no_grad():
        ref = model(batch["pose"], batch["frame_mask"])
    feed = {"pose": batch["pose"].numpy(), "frame_mask": batch["frame_mask"].numpy()}
    assert err(sess.run(None, feed)[0], ref) <= TOL


def test_retrieval_matches_pytorch(runs, tmp_path):
    run, _ = runs["retrieval"]
    rep = export_onnx(run, tmp_path / "rt" / "sign.onnx")
    assert [p.name for p in rep.files] == ["sign.onnx", "sign_text.onnx", "sign_similarity.onnx"]
    assert (tmp_path / "rt" / "sign.json").is_file() and rep.max_abs_error <= TOL
    assert any("text encoder" in x for x in rep.not_exported)
    _, model = load_model(run)
    model.eval()
    sign, text, sim = (session(p) for p in rep.files)
    text_dim = model.similarity.text_proj[0].in_features
    for k, (b, t) in enumerate(SHAPES):
        pose, mask = poses(b, t, k)
        feats = torch.randn(b + 1, t // 2 + 2, text_dim)
        tmask = torch.ones(b + 1, t // 2 + 2, dtype=torch.bool)
        tmask[0, -2:] = False
        with torch.no_grad():
            s_ref, sm_ref = model.embed_sign(pose, mask)
            t_ref, tm_ref = model.embed_text(feats, tmask)
            m_ref = model.similarity.similarity(s_ref, sm_ref, t_ref, tm_ref)
        s, sm = sign.run(None, {"pose": pose.numpy(), "frame_mask": mask.numpy()})
        te, tm = text.run(None, {"text_features": feats.numpy(), "text_mask": tmask.numpy()})
        assert err(s, s_ref) <= TOL and err(te, t_ref) <= TOL
        assert np.array_equal(sm, sm_ref.numpy()) and np.array_equal(tm, tm_ref.numpy())
        names = ["sign_embeddings", "sign_mask", "text_embeddings", "text_embedding_mask"]
        (m,) = sim.run(None, dict(zip(names, (s, sm, te, tm))))
        assert m.shape == (b, b + 1) and err(m, m_ref) <= TOL


@pytest.mark.parametrize("task, graph, missing", [("cslr", "cslr", "CTC"), ("slt", "slt_encoder", "decoder")])
def test_cslr_and_slt_encoder_side(runs, tmp_path, task, graph, missing):
    rep = export_onnx(runs[task][0], tmp_path / task)
    assert [g.name for g in rep.graphs] == [graph] and rep.max_abs_error <= TOL
    assert any(missing in x for x in rep.not_exported)
    if task == "cslr":
        _, model = load_model(runs[task][0])
        pose, mask = poses(3, 33)
        with torch.no_grad():
            lp, lens = model.eval()(pose, mask)
        got_lp, got_lens = session(rep.files[0]).run(None, {"pose": pose.numpy(), "frame_mask": mask.numpy()})
        assert err(got_lp, lp) <= TOL and np.array_equal(got_lens, lens.numpy())
        assert json.loads(Path(rep.report_file).read_text())["labels"]["vocabulary"][0] == "<blank>"


def test_encoder_and_encoder_only(runs, tmp_path):
    from mslu.models import SignPoseEncoder

    rep = export_onnx(runs["encoder"], tmp_path / "enc.onnx")
    assert rep.kind == "encoder" and rep.files == [tmp_path / "enc.onnx"] and rep.max_abs_error <= TOL
    enc = SignPoseEncoder.from_pretrained(runs["encoder"]).eval()
    pose, mask = poses(*SHAPES[1])
    with torch.no_grad():
        ref = enc(pose, mask)
    assert (
        err(session(rep.files[0]).run(None, {"pose": pose.numpy(), "frame_mask": mask.numpy()})[0], ref)
        <= TOL
    )
    rep = export_onnx(runs["islr"][0], tmp_path / "ft", encoder_only=True)
    assert [g.name for g in rep.graphs] == ["encoder"] and rep.graphs[0].outputs["features"][
        -1
    ] == enc.output_dim


def test_tolerance_is_enforced(runs, tmp_path):
    with pytest.raises(ExportError, match="onnxruntime differs from PyTorch by .* > tolerance 1e-12"):
        export_onnx(runs["islr"][0], tmp_path / "strict", tolerance=1e-12)


def test_cli_reports_the_error(runs, tmp_path, capsys):
    assert main(["export", "onnx", "--run", str(runs["islr"][0]), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'o' / 'islr.onnx'}: pose[batch,frames,79,3]" in out
    assert "verified with onnxruntime" in out and "(tolerance 0.0001, fp32;" in out
    assert "dynamo=False" in out


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "no such directory"),
        (lambda d: d.mkdir(), "no model found"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{oops")), "not valid JSON"),
        (
            lambda d: (
                d.mkdir(),
                (d / "config.json").write_text('{"task": "islr", "encoder": {}, "config": {}}'),
                (d / "model.safetensors").write_bytes(b"garbage"),
            ),
            "cannot load the model",
        ),
    ],
)
def test_bad_run_dir_is_one_line(tmp_path, capsys, make, message):
    d = tmp_path / "run"
    make(d)
    assert main(["export", "onnx", "--run", str(d)]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and cap.err.startswith(f"error: {d}") and message in cap.err
    assert "Traceback" not in cap.err + cap.out
