"""push_to_hub is a thin HfApi.upload_folder call (recorded here, never sent), and the `mslu hub` commands
report problems in one line."""

from __future__ import annotations

import huggingface_hub
import pytest

from mslu.cli import main
from mslu.hub import HubError, push_to_hub, upload_files


class FakeApi:
    calls: list = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, **kw):
        FakeApi.calls.append(("create_repo", repo_id, kw))

    def upload_folder(self, **kw):
        FakeApi.calls.append(("upload_folder", kw))

        class Info:
            commit_url = f"https://huggingface.co/{kw['repo_id']}/commit/abc"

        return Info()


def test_push_uploads_exactly_the_saved_files(saved, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    FakeApi.calls = []
    folder = saved["islr"]
    (folder / ".scratch").write_text("not uploaded")  # hidden files stay local
    try:
        url = push_to_hub(folder, "someone/tiny-islr", token="hf_fake", private=True)
    finally:
        (folder / ".scratch").unlink()
    assert url == "https://huggingface.co/someone/tiny-islr/commit/abc"
    (c0, repo, kw0), (c1, kw) = FakeApi.calls
    assert (c0, repo, kw0["private"], kw0["exist_ok"]) == ("create_repo", "someone/tiny-islr", True, True)
    assert c1 == "upload_folder" and kw["repo_id"] == "someone/tiny-islr" and kw["repo_type"] == "model"
    assert kw["folder_path"] == str(folder)
    expected = ["README.md", "classes.json", "config.json", "metrics.json", "model.safetensors"]
    assert sorted(kw["allow_patterns"]) == sorted(upload_files(folder)) == [*expected, "training_config.yaml"]


def test_push_problems_are_one_line(saved, tmp_path, monkeypatch):
    with pytest.raises(HubError, match="HF_HUB_OFFLINE"):
        push_to_hub(saved["islr"], "someone/x", token="hf_fake")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_to_hub(saved["islr"], "someone/x")
    with pytest.raises(HubError, match="not a Hub repo id"):
        push_to_hub(saved["islr"], "not a repo", token="hf_fake")
    with pytest.raises(HubError, match="README.md: missing"):
        push_to_hub(tmp_path, "someone/x", token="hf_fake")

    class Down(FakeApi):
        def create_repo(self, repo_id, **kw):
            raise ConnectionError("Failed to resolve 'huggingface.co'\nsecond line")

    monkeypatch.setattr(huggingface_hub, "HfApi", Down)
    with pytest.raises(HubError) as e:
        push_to_hub(saved["islr"], "someone/x", token="hf_fake")
    assert str(e.value) == "someone/x: push failed (ConnectionError: Failed to resolve 'huggingface.co')"


def test_cli_save_then_push_without_token(runs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "shared"
    assert main(["hub", "save", "--run", str(runs["retrieval"][0]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: README.md" in printed and "texts.json" in printed
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    assert main(["hub", "push", str(out), "--repo-id", "someone/tiny-retrieval"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: someone/tiny-retrieval: no Hugging Face token")


@pytest.mark.parametrize("args", [["--run", "/nonexistent/run"], ["--run", "."]])
def test_cli_save_bad_run_is_one_line(args, tmp_path, capsys):
    assert main(["hub", "save", *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
