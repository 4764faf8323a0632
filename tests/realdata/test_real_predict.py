"""``mslu predict`` on real inputs of every kind, with warnings when an input's layout or keypoint coverage
differs from the training data's (a tiny ISLR model trained on the real Libras-25 corpus)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mslu.cli import main


@pytest.fixture(scope="module")
def libras_run(libras_ingest, tmp_path_factory):
    import torch

    from mslu.training.finetuner import run_finetune

    corpus, _ = libras_ingest
    out = tmp_path_factory.mktemp("libras_run")
    cfg = {"task": "islr", "model": {"preset": "tiny"},
           "data": {"corpus": str(corpus), "benchmark": "libras25", "batch_size": 16},
           "optim": {"epochs": 1, "max_steps": 2}, "run": {"progress": False, "device": "cpu"}}
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_finetune(cfg, out, scratch=True)
    finally:
        torch.set_num_threads(before)
    return out


def _predict(capsys, run, *args) -> tuple[int, list[dict], str]:
    code = main(["predict", "--run", str(run), "--device", "cpu", *map(str, args)])
    cap = capsys.readouterr()
    return code, [json.loads(x) for x in cap.out.strip().splitlines()], cap.err


def test_libras_json_gz_needs_and_takes_a_frame_size(libras_run, libras_dir, capsys):
    clip = libras_dir / "json_frames" / "Escola_TS_1.json.gz"
    code, lines, _ = _predict(capsys, libras_run, clip)
    assert code == 1 and "unknown frame size" in lines[0]["error"]
    code, lines, err = _predict(capsys, libras_run, clip, "--width", 720, "--height", 1080)
    assert code == 0 and lines[0]["layout"] == "mediapipe_pose_33" and len(lines[0]["top5"]) == 5
    assert "warnings" not in lines[0] and "warning" not in err  # same layout and coverage as in training


def test_other_layouts_and_formats_are_predicted_with_warnings(libras_run, realdata, shared_poses, tmp_path,
                                                              capsys):
    from mslu.pose.io import read_pose

    holistic = realdata / "signbridge-asl" / "chair-black-tall" / "capture.pose"
    skels = realdata / "phoenix14t-skels15" / "dev.skels"
    hands = read_pose(shared_poses / "mediapipe" / "colin-SAD.pose")
    idx = np.r_[hands.layout.index("left_hand"), hands.layout.index("right_hand")]
    np.save(tmp_path / "hands.npy", hands.data[:, idx])
    code, lines, err = _predict(capsys, libras_run, holistic, f"{skels}#2", tmp_path / "hands.npy",
                                "--width", 1280, "--height", 720)
    assert code == 0 and [x["layout"] for x in lines] == ["mediapipe_holistic_world", "phoenix_skels_50",
                                                          "hands_42"]
    hol, sk, hd = (x["warnings"] for x in lines)
    assert any("never seen in training (trained on: mediapipe_pose_33)" in w for w in hol)
    assert any("face keypoints" in w and "training data lacked" in w for w in hol)
    assert "phoenix_skels_50" in sk[0] and any("mouth keypoints the input lacks" in w for w in sk)
    assert any("left hand keypoints (100% present) that the training data lacked (19%)" in w for w in sk)
    assert any("body keypoints the input lacks" in w for w in hd)
    assert err.count("warning:") == len(hol) + len(sk) + len(hd)


def test_saved_input_profile_wins(libras_run, libras_dir, capsys):
    profile = {"samples": 1, "layouts": {"coco_wholebody_133": 1},
               "coverage": {"body": 1.0, "face": 1.0, "mouth": 1.0, "left_hand": 1.0, "right_hand": 1.0}}
    path = libras_run / "model" / "input_profile.json"
    path.write_text(json.dumps(profile))
    try:
        code, lines, _ = _predict(capsys, libras_run, libras_dir / "json_frames" / "Escola_TS_1.json.gz",
                                  "--width", 720, "--height", 1080)
    finally:
        path.unlink()
    w = lines[0]["warnings"]
    assert code == 0 and "trained on: coco_wholebody_133" in w[0]
    assert any("face keypoints the input lacks" in x for x in w)


def test_missing_training_corpus_is_a_warning_not_an_error(libras_run, libras_dir, tmp_path, capsys):
    import shutil

    run = tmp_path / "moved"
    shutil.copytree(libras_run / "model", run / "model")
    cfg = json.loads((run / "model" / "config.json").read_text())
    cfg["config"]["data"]["corpus"] = str(tmp_path / "gone")
    (run / "model" / "config.json").write_text(json.dumps(cfg))
    code, lines, err = _predict(capsys, run, libras_dir / "json_frames" / "Escola_TS_1.json.gz",
                                "--width", 720, "--height", 1080)
    assert code == 0 and "top5" in lines[0] and "input coverage not checked" in err
