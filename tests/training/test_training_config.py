import pytest

from mslu.training.run_config import build_model_config, load_config


def test_yaml_and_dotted_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  preset: tiny\n  loss:\n    window: 2\noptim:\n  lr: 3.0e-4\n")
    cfg = load_config(f, ["optim.lr=5e-4", "data.batch_size=8", "optim.betas=[0.8, 0.9]", "run.out=x"])
    assert cfg["optim"]["lr"] == 5e-4 and cfg["data"]["batch_size"] == 8
    assert cfg["optim"]["betas"] == [0.8, 0.9] and cfg["run"]["out"] == "x"
    assert cfg["optim"]["weight_decay"] == 0.1 and cfg["data"]["max_frames"] == 256  # paper defaults kept
    model_cfg = build_model_config(cfg["model"])
    assert model_cfg.loss.window == 2 and model_cfg.encoder.num_blocks == 1  # tiny preset + override


def test_bad_config_is_named(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("optimiser:\n  lr: 1\n")
    with pytest.raises(ValueError, match="bad.yaml.*optimiser"):
        load_config(f)
    with pytest.raises(ValueError, match="key.path=value"):
        load_config(None, ["optim.lr"])
    with pytest.raises(ValueError, match="no_such_field"):
        build_model_config({"preset": "tiny", "no_such_field": 1})
