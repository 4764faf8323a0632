"""NMFs-CSL (1,067 Chinese words with non-manual features; ISLR).

Layout assumed (see :mod:`mslu.data.datasets.class_folder`): ``<root>/video/<class:06d>/P<signer>_<...>.mp4``
and a class list ``<root>/dictionary.txt`` (``<class:06d>\\t<word>``). The release splits its 10 signers 8 /
2 (25,608 / 6,402 clips); the test signers are assumed to be 9 and 10 -- set ``test_signers`` to match the
split list of your copy.
"""

from __future__ import annotations

from mslu.data.datasets.class_folder import ClassFolderIngestor


class NMFsCSL(ClassFolderIngestor):
    name = "nmfs_csl"
    default_media_dir = "video"
    default_test_signers = (9, 10)
