"""SLR500 (the isolated CSL-500 dataset of USTC; 500 Chinese words, 50 signers; ISLR).

Layout assumed (see :mod:`mslu.data.datasets.class_folder`): ``<root>/color/<class:06d>/P<signer>_<...>
.avi`` and ``<root>/dictionary.txt`` (``<class:06d>\\t<word>``). Split: signers 1-36 train, 37-50 test (the
usual signer-independent protocol, 90,000 / 35,000 clips); change with ``test_signers``.
"""

from __future__ import annotations

from mslu.data.datasets.class_folder import ClassFolderIngestor


class SLR500(ClassFolderIngestor):
    name = "slr500"
    default_media_dir = "color"
    default_test_signers = tuple(range(37, 51))
