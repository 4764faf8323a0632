"""The built wheel works on its own: installed in a fresh virtualenv (dependencies borrowed from the test
environment, mslu only from the wheel), ``mslu demo --help`` runs and shipped configs are found by name."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _run(cmd, cwd, env=None):
    # no PYTHONPATH: a source tree on it (with its egg-info) would pass for an installed mslu
    res = subprocess.run(cmd, cwd=cwd, env=env or CLEAN_ENV, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{cmd}: {res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp),
          str(ROOT)], cwd=tmp)
    (wheel,) = tmp.glob("mslu-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([str(py), "-c", purelib], tmp).strip())
    # third-party dependencies from this environment; its editable mslu (a .pth there) is not read
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)], tmp)
    return wheel, env_dir, CLEAN_ENV, tmp


def test_wheel_ships_the_configs(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"mslu/configs/islr/wlasl100.yaml", "mslu/configs/_base_/islr_paper.yaml",
            "mslu/configs/pretrain/synthetic_small.yaml", "mslu/configs/corpus/sl1.5m.yaml"} <= names


def test_installed_wheel_runs_the_cli_and_finds_configs(installed):
    _, env_dir, env, tmp = installed
    out = _run([str(env_dir / "bin" / "mslu"), "demo", "--help"], cwd=tmp, env=env)
    assert "usage: mslu demo" in out
    code = ("import mslu, sys; from mslu.training.run_config import finetune_config; "
            "c = finetune_config('islr/wlasl100'); "
            "print(mslu.__file__); print(c['data']['benchmark'], c['optim']['lr'])")
    lines = _run([str(env_dir / "bin" / "python"), "-c", code], cwd=tmp, env=env).split()
    assert lines[0].startswith(str(env_dir)) and lines[1:] == ["wlasl100", "0.001"]
