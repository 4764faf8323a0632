"""NMFs-CSL / SLR500 ship train / test only: a deterministic dev split is carved from the train signers."""

from __future__ import annotations

import pytest

from mslu.data.datasets import get_ingestor


def _release(tmp_path, media, signers, reps=10, classes=3):
    root = tmp_path / "release"
    root.mkdir()
    words = "".join(f"{c:06d}\tw{c}\n" for c in range(classes))
    (root / "dictionary.txt").write_text(words, encoding="utf-8")
    for c in range(classes):
        for s in signers:
            for r in range(reps):
                f = root / media / f"{c:06d}" / f"P{s:02d}_s{r}_00_0_color.mp4"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(b"")
    return root


@pytest.mark.parametrize("name, media, test", [("nmfs_csl", "video", 9), ("slr500", "color", 40)])
def test_default_dev_split_is_a_stable_tenth_of_train(tmp_path, name, media, test):
    root = _release(tmp_path, media, [1, 2, 3, 4, test])
    anns = list(get_ingestor(name, root).annotations())
    splits = {a.id: a.split for a in anns}
    dev = [i for i, sp in splits.items() if sp == "dev"]
    train = [i for i, sp in splits.items() if sp == "train"]
    assert {a.signer for a in anns if a.split == "test"} == {f"P{test:02d}"}
    assert 0.04 < len(dev) / (len(dev) + len(train)) < 0.2
    again = {a.id: a.split for a in get_ingestor(name, root).annotations()}
    assert again == splits  # a pure function of the clip id
    bench = get_ingestor(name, root).benchmarks()[name]
    assert sorted(bench) == ["dev", "test", "train"] and set(bench["dev"]) == {f"{name}/{i}" for i in dev}
    none = get_ingestor(name, root, dev_fraction=0)
    assert {a.split for a in none.annotations()} == {"train", "test"}


def test_dev_signers_make_a_signer_independent_dev_split(tmp_path):
    root = _release(tmp_path, "video", [1, 2, 8, 9, 10], reps=2)
    ing = get_ingestor("nmfs_csl", root, dev_signers=[8])
    by_split = {}
    for a in ing.annotations():
        by_split.setdefault(a.split, set()).add(a.signer)
    assert by_split == {"train": {"P01", "P02"}, "dev": {"P08"}, "test": {"P09", "P10"}}
    with pytest.raises(ValueError, match="both dev_signers and test_signers"):
        get_ingestor("nmfs_csl", root, dev_signers=[9])
    with pytest.raises(ValueError, match="dev_fraction"):
        get_ingestor("nmfs_csl", root, dev_fraction=1.5)
