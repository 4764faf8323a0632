"""The demo app through a test client (no browser, no server): the page, a real upload, bad files,
the limits, the Host check, and that nothing stays on disk or lands in the run directories."""

from __future__ import annotations

import base64
import io
import os

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from mslu.pose.io import read_pose
from mslu.pose.layouts import SL79
from mslu.pose.sequence import PoseSequence
from mslu.serve import Engine, Limits, build_app, host_name, is_loopback, upload_name


def _post(client, data: bytes, name: str, **params):
    return client.post("/api/analyse", params={"filename": name, **params}, content=data,
                       headers={"Content-Type": "application/octet-stream"})  # fmt: skip


def _tree(*dirs) -> dict:
    """Every file under ``dirs`` with its size and mtime (to show nothing was written)."""
    out = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                st = os.stat(os.path.join(root, f))
                out[os.path.join(root, f)] = (st.st_size, st.st_mtime_ns)
    return out


def _client(engine, tmp, **limits):
    small = Engine(engine.runs, engine.searcher, Limits(**limits), engine.device, engine.videos)
    return TestClient(build_app(engine=small, tmp_dir=tmp), base_url="http://127.0.0.1")


def _assert_error(r, status: int, *words: str):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and "Traceback" not in body["error"]
    for w in words:
        assert w in body["error"], body["error"]
    return body["error"]


def test_the_page_its_assets_and_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="file"' in r.text and "/static/app.js" in r.text and "Drop a video or a pose file" in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    js, css = client.get("/static/app.js"), client.get("/static/app.css")
    assert js.status_code == css.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript") and "innerHTML" not in js.text
    assert client.head("/").status_code == 200
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404


def test_info_lists_the_runs_index_and_limits(client, serve_runs):
    info = client.get("/api/info").json()
    assert [(r["name"], r["task"]) for r in info["runs"]] == [
        (serve_runs[t].name, t) for t in ("islr", "slt", "retrieval")
    ]
    assert info["index"]["clips"] == 6
    assert info["limits"]["max_upload_bytes"] == 50 * 2**20 and info["limits"]["max_frames"] == 1500
    assert ".pose" in info["accepted"] and ".mp4" in info["accepted"]


@pytest.mark.shared
def test_real_pose_upload_shows_skeleton_and_every_prediction(client, shared_poses, serve_runs, serve_index,
                                                              upload_tmp):  # fmt: skip
    path = shared_poses / "mmpose-wholebody" / "SOUP.pose"
    before = _tree(*serve_runs.values(), serve_index)
    r = _post(client, path.read_bytes(), "SOUP.pose")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["ok"] is True and out["search"]["clips"] == 6
    assert out["file"] == {"name": "SOUP.pose", "source": "pose", "layout": "coco_wholebody_133",
                           "frames": 41, "fps": pytest.approx(29.97, abs=0.01), "width": 320, "height": 240,
                           "frames_with_pose": 41}  # fmt: skip
    assert out["file"]["frames"] == read_pose(path).num_frames
    gif = base64.b64decode(out["skeleton"]["data"])
    assert out["skeleton"]["mime"] == "image/gif" and gif[:6] in (b"GIF89a", b"GIF87a")
    islr, slt, rt = out["runs"]
    assert [c["task"] for c in out["runs"]] == ["islr", "slt", "retrieval"]
    top5 = islr["result"]["top5"]
    assert len(top5) == 5 and all(0 <= c["prob"] <= 1 for c in top5)
    assert [c["prob"] for c in top5] == sorted((c["prob"] for c in top5), reverse=True)
    assert isinstance(slt["result"]["translation"], str) and slt["result"]["translation"].strip()
    assert len(rt["result"]["nearest_texts"]) == 5
    hits = out["search"]["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5] and all(h["id"].startswith("clip") for h in hits)
    assert list(upload_tmp.iterdir()) == []  # the upload and the GIF are gone
    assert _tree(*serve_runs.values(), serve_index) == before  # nothing written into the runs or the index


def test_synthetic_pose_upload_and_an_index_clip_finds_itself(client, synthetic_clips, upload_tmp):
    _, paths = synthetic_clips
    r = _post(client, paths[3].read_bytes(), "clip03.pose")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["file"]["layout"] == "sl79" and out["file"]["width"] == 640
    assert out["search"]["hits"][0]["id"] == "clip03.pose"
    assert list(upload_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("broken.pose", b"\x00\x01 not a pose file" * 50, ["broken.pose", "not a readable pose-format"]),
        ("broken.npy", b"\x93NUMPY garbage", ["broken.npy", "not a readable numpy file"]),
        ("broken.npz", b"PK\x03\x04 not a zip", ["broken.npz", "not a readable .npz archive"]),
        ("broken.json", b"{ not json", ["broken.json"]),
        ("broken.mp4", b"\x00\x00\x00\x18ftypmp42 not really a video", ["broken.mp4", "video"]),
    ],
)
def test_a_corrupt_file_is_a_clear_message(client, upload_tmp, name, data, words):
    msg = _assert_error(_post(client, data, name), 400, *words)
    assert str(upload_tmp) not in msg and "upload." not in msg  # the temporary path is never shown
    assert list(upload_tmp.iterdir()) == []


def test_unsupported_empty_and_nameless_uploads(client):
    _assert_error(_post(client, b"hello", "notes.txt"), 415, "notes.txt", "unsupported file type '.txt'")
    _assert_error(_post(client, b"hello", ""), 415, "upload", "(none)")
    _assert_error(_post(client, b"", "clip.pose"), 400, "clip.pose: the file is empty")


def test_oversized_uploads_are_refused_declared_or_streamed(engine, synthetic_clips, tmp_path):
    data = synthetic_clips[1][0].read_bytes()
    assert len(data) > 20_000
    with _client(engine, tmp_path, max_upload_mb=0.01) as c:
        _assert_error(_post(c, data, "big.pose"), 413, "big.pose", "upload limit (0.01 MB)")

        def chunks():  # no Content-Length: the limit holds while the body streams in
            for i in range(0, len(data), 4096):
                yield data[i : i + 4096]

        r = c.post("/api/analyse", params={"filename": "big.pose"}, content=chunks())
        _assert_error(r, 413, "upload limit")
    assert list(tmp_path.iterdir()) == []


def test_too_many_frames(engine, synthetic_clips, tmp_path):
    data = synthetic_clips[1][0].read_bytes()
    with _client(engine, tmp_path, max_frames=10) as c:
        _assert_error(_post(c, data, "long.pose"), 413, "long.pose", "frames; this server takes at most 10")


def test_an_npz_that_unpacks_too_large_is_refused(engine, tmp_path):
    buf = io.BytesIO()
    np.savez_compressed(buf, pose=np.zeros((2000, 79, 3), np.float32), width=640, height=480)
    assert len(buf.getvalue()) < 100_000
    with _client(engine, tmp_path / "u", max_unpacked_mb=1) as c:
        _assert_error(_post(c, buf.getvalue(), "bomb.npz"), 413, "bomb.npz", "unpacks to 2 MB")


def test_a_file_without_frame_size_asks_for_it(client, synthetic_clips):
    pose = read_pose(synthetic_clips[1][0])
    buf = io.BytesIO()
    np.save(buf, np.nan_to_num(pose.data))
    r = _post(client, buf.getvalue(), "clip.npy")
    _assert_error(r, 400, "clip.npy", "does not record its frame size")
    r = _post(client, buf.getvalue(), "clip.npy", width=640, height=480)
    assert r.status_code == 200 and r.json()["file"]["width"] == 640
    _assert_error(_post(client, buf.getvalue(), "clip.npy", width=0), 422, "bad request", "width")


def test_a_pose_without_any_joint(client, tmp_path, write_pose_file):
    p = tmp_path / "empty.pose"
    write_pose_file(np.zeros((12, 79, 3), np.float32), p)
    _assert_error(_post(client, p.read_bytes(), "empty.pose"), 400, "no joint was detected")


def test_video_frame_limit_is_checked_before_extraction(engine, tmp_path):
    video = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
    for i in range(20):
        w.write(np.full((48, 64, 3), i * 10, np.uint8))
    w.release()
    calls = []
    pose = np.random.default_rng(0).uniform(0.2, 0.8, (20, 79, 3)).astype(np.float32)
    pose[..., 2] = 1.0

    def fake_extractor(path):  # stands in for MediaPipe: a pose in the video's pixels
        calls.append(path)
        return PoseSequence(pose * np.array([64, 48, 1], np.float32), SL79, 25.0, 64, 48)

    small = Engine(engine.runs, engine.searcher, Limits(max_frames=10), engine.device, fake_extractor)
    with TestClient(build_app(engine=small, tmp_dir=tmp_path), base_url="http://127.0.0.1") as c:
        _assert_error(_post(c, video.read_bytes(), "clip.mp4"), 413, "the video has 20 frames")
        assert calls == []
    ok = Engine(engine.runs, engine.searcher, Limits(), engine.device, fake_extractor)
    with TestClient(build_app(engine=ok, tmp_dir=tmp_path), base_url="http://127.0.0.1") as c:
        r = _post(c, video.read_bytes(), "clip.mp4")
        assert r.status_code == 200, r.text
        assert r.json()["file"]["source"] == "video" and len(calls) == 1


def test_a_failing_model_is_reported_in_its_card(engine, synthetic_clips, tmp_path, monkeypatch):
    task = engine.runs[1].task
    def broken(*args, **kwargs):
        raise ValueError("decoder exploded")

    monkeypatch.setattr(task, "predict", broken)
    with _client(engine, tmp_path) as c:
        out = _post(c, synthetic_clips[1][0].read_bytes(), "clip.pose").json()
    assert out["ok"] and out["runs"][1]["error"] == "decoder exploded"
    assert "top5" in out["runs"][0]["result"]


def test_a_bug_is_a_500_without_traceback(engine, synthetic_clips, tmp_path, monkeypatch):
    small = Engine(engine.runs, engine.searcher, Limits(), engine.device)
    monkeypatch.setattr(small, "render", lambda *a: {}["missing"])
    app = build_app(engine=small, tmp_dir=tmp_path)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        r = _post(c, synthetic_clips[1][0].read_bytes(), "clip.pose")
    _assert_error(r, 500, "internal error")
    assert "missing" not in r.text and list(tmp_path.iterdir()) == []


def test_the_host_header_is_checked(client, engine):
    assert client.get("/healthz").json() == {"ok": True}
    for host in ("localhost:7860", "[::1]:7860", "127.0.0.1"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200
    r = client.get("/", headers={"Host": "attacker.example:7860"})
    _assert_error(r, 400, "unexpected Host header")
    with TestClient(build_app(engine=engine, allowed_hosts=None), base_url="http://demo.lan") as c:
        assert c.get("/healthz").status_code == 200


def test_names_and_hosts():
    assert upload_name("../../etc/passwd.pose") == "passwd.pose"
    assert upload_name("C:\\Users\\me\\clip.pose") == "clip.pose"
    assert upload_name("a\nb.pose") == "ab.pose" and upload_name("") == "upload"
    assert host_name("[::1]:7860") == "[::1]" and host_name("Localhost:80") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost"))
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_limits_are_checked():
    with pytest.raises(ValueError, match="--max-upload-mb"):
        Limits(max_upload_mb=0)
    with pytest.raises(ValueError, match="--max-frames"):
        Limits(max_frames=0)
    assert Limits(max_upload_mb=1).max_upload_bytes == 2**20


@pytest.mark.slow
@pytest.mark.shared
def test_a_real_video_goes_through_mediapipe(client, shared_poses):
    pytest.importorskip("mediapipe")
    r = _post(client, (shared_poses / "videos" / "SOUP.mp4").read_bytes(), "SOUP.mp4")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["file"]["source"] == "video" and out["file"]["frames"] == 41 and out["file"]["width"] == 320
    assert len(out["runs"][0]["result"]["top5"]) == 5
