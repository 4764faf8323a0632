"""Language tables (ISO 639-3 sign languages, mBART-50 text languages) and keypoint coverage / warnings."""

from __future__ import annotations

import numpy as np
import pytest

from mslu.data.languages import SIGN_LANGUAGES, TEXT_LANGUAGES, check_sign_language, check_text_language
from mslu.data.schema import Sample, SampleError, validate_sample
from mslu.data.stats import COVERAGE_PARTS, coverage_warnings, pose_coverage
from mslu.pose.layouts import SL79

MBART50 = ["ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX", "gu_IN", "hi_IN", "it_IT",
           "ja_XX", "kk_KZ", "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU", "si_LK",
           "tr_TR", "vi_VN", "zh_CN", "af_ZA", "az_AZ", "bn_IN", "fa_IR", "he_IL", "hr_HR", "id_ID", "ka_GE",
           "km_KH", "mk_MK", "ml_IN", "mn_MN", "mr_IN", "pl_PL", "ps_AF", "pt_XX", "sv_SE", "sw_KE", "ta_IN",
           "te_IN", "th_TH", "tl_XX", "uk_UA", "ur_PK", "xh_ZA", "gl_ES", "sl_SI"]  # fmt: skip


def test_every_mbart50_language_is_a_text_language():
    assert sorted(TEXT_LANGUAGES.values()) == sorted(MBART50)
    assert all(token.split("_")[0] == iso for iso, token in TEXT_LANGUAGES.items())


def test_sign_languages_are_iso_639_3_with_known_text_languages():
    for code, (name, text) in SIGN_LANGUAGES.items():
        assert code.startswith("syn-") or (len(code) == 3 and code.isalpha() and code.islower()), code
        assert name and (text is None or text in TEXT_LANGUAGES), code
    assert SIGN_LANGUAGES["bzs"][1] == "pt" and SIGN_LANGUAGES["ins"][1] == "hi"


def test_checks_and_errors():
    assert check_sign_language("BZS") == "bzs" and check_text_language("pt_XX") == "pt"
    assert check_text_language("hi") == "hi"
    with pytest.raises(ValueError, match="t.csv: unknown sign language 'xyz'.*SIGN_LANGUAGES"):
        check_sign_language("xyz", "t.csv")
    with pytest.raises(ValueError, match="unknown text language 'qq'.*TEXT_LANGUAGES"):
        check_text_language("qq")


def test_new_languages_pass_sample_validation():
    pose = np.zeros((2, 79, 3), np.float32)
    validate_sample(Sample("a", pose, "libras", "bzs", "Esta palavra é Água.", "pt"))
    validate_sample(Sample("b", pose, "isl", "ins", "यह शब्द पानी है।", "hi"))
    with pytest.raises(SampleError, match="unknown sign language"):
        validate_sample(Sample("c", pose, "x", "zzz", "t", "en"))


def _pose(parts: dict[str, float], frames: int = 10) -> np.ndarray:
    pose = np.zeros((frames, 79, 3), np.float32)
    for part, frac in parts.items():
        idx = np.asarray(SL79.groups[part])
        pose[: int(round(frames * frac)), idx, 2] = 1.0
    return pose


def test_pose_coverage_per_part():
    cov = pose_coverage(_pose({"body": 1.0, "left_hand": 0.5}))
    assert cov == {"body": 1.0, "face": 0.0, "mouth": 0.0, "left_hand": 0.5, "right_hand": 0.0}
    assert tuple(cov) == COVERAGE_PARTS


def test_coverage_warnings():
    trained = {"layouts": {"mediapipe_holistic_world": 10},
               "coverage": {"body": 1.0, "face": 1.0, "mouth": 1.0, "left_hand": 0.4, "right_hand": 0.5}}
    same = pose_coverage(_pose({"body": 1, "face": 1, "mouth": 1, "left_hand": 0.4, "right_hand": 0.5}))
    assert coverage_warnings(trained, "mediapipe_holistic_world", same) == []
    no_hands = pose_coverage(_pose({"body": 1, "face": 1, "mouth": 1}))
    w = coverage_warnings(trained, "mediapipe_pose_33", no_hands)
    assert len(w) == 3 and "never seen in training" in w[0]
    assert "left hand keypoints the input lacks" in w[1] and "right hand" in w[2]
    pose_only = {"layouts": {"mediapipe_pose_33": 5},
                 "coverage": {"body": 1.0, "face": 0.01, "mouth": 0.25, "left_hand": 0.19,
                              "right_hand": 0.19}}
    w = coverage_warnings(pose_only, "mediapipe_holistic", same)
    assert any("face keypoints (100% present) that the training data lacked" in x for x in w)


def test_corpus_stats_writes_the_coverage(tmp_path, capsys):
    import json

    from mslu.cli import main
    from mslu.data.corpus import write_corpus

    pose = _pose({"body": 1.0, "right_hand": 0.5})
    samples = [Sample(f"s/{i}", pose, "src", "bzs", "Esta palavra é a.", "pt", estimator="mediapipe_pose_33")
               for i in range(3)]
    write_corpus(tmp_path / "c", samples)
    assert main(["corpus", "stats", str(tmp_path / "c"), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "| src | mediapipe_pose_33 | 3 | 100.0 | 0.0 | 0.0 | 0.0 | 50.0 |" in out
    data = json.loads((tmp_path / "o" / "stats.json").read_text())
    assert data["coverage"]["src"]["right_hand"] == 0.5 and data["total"] == 3
    assert "Keypoint coverage" in (tmp_path / "o" / "stats.md").read_text()
    assert main(["corpus", "stats", str(tmp_path / "c"), "--coverage-samples", "-1"]) == 0
    assert "Keypoint coverage" not in capsys.readouterr().out
