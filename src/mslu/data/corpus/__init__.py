"""On-disk pose-text corpus: a sharded, memory-mapped Apache Arrow IPC (Feather v2) format.

Layout of a corpus directory ``ROOT``::

    ROOT/manifest.json          committed shards (file, samples, frames, bytes) -- the source of truth
    ROOT/shard-00000.arrow      Arrow IPC file, one record batch, uncompressed (memory-mappable)
    ROOT/shard-00001.arrow
    ...

Each shard has one row per :class:`~mslu.data.schema.Sample`: the metadata columns of :data:`SCHEMA`
(``extra`` as a JSON string, ``gloss`` as ``list<string>``), ``num_frames`` (int32) and ``pose``, a
``large_list<halffloat>`` holding the sample's (T, 79, 3) float16 keypoints flattened (x / width,
y / height, confidence). Uncompressed IPC was chosen over Parquet: a shard is opened with
``pa.memory_map`` and the pose of any sample is a zero-copy numpy view (O(1) random access, no row-group
decode); float16 costs 474 bytes per frame, and general-purpose compression gains little on it.

Atomicity and resume (one writer per corpus, enforced by an ``flock`` on ``ROOT/.lock``): a shard is
written to ``shard-XXXXX.arrow.tmp``, fsynced, ``os.replace``d to its final name, then ``manifest.json``
is rewritten the same way. A shard exists for readers only once the manifest lists it. Re-opening a root
with :class:`CorpusWriter` deletes stray temp files and shard files the manifest does not list (their
samples were never committed), loads the ids already committed and skips them as duplicates, so an
interrupted build, run again, ends with every sample exactly once. When the ``with`` block exits on an
exception the samples added so far (all validated) are committed before the exception propagates; a killed
process loses only the uncommitted buffer.

Reading: :class:`Corpus` gives ``len``, random access ``corpus[i]``, ``corpus.pose(i)``, streaming
``iter(corpus)``, ``corpus.lengths`` (from the small ``num_frames`` column: pose pages are never touched),
``corpus.metadata`` (all columns but pose) and views (``subset`` / ``filter``) with the same API. Poses
come back as read-only float16 views of the mapped file; ``np.asarray(pose, np.float32)`` copies.
Validation on read: shard sizes and row counts are checked against the manifest when a shard is opened,
and every decoded pose is checked for the right number of values and for NaN/inf, raising
:class:`CorpusError` that names the shard file and the sample. :func:`validate_corpus` reports all problems.
"""

from mslu.data.corpus.format import MANIFEST, SCHEMA, CorpusError
from mslu.data.corpus.reader import Corpus, CorpusView
from mslu.data.corpus.validate import validate_corpus
from mslu.data.corpus.writer import CorpusWriter, WriteReport, problem_kind, write_corpus

__all__ = [
    "MANIFEST",
    "SCHEMA",
    "Corpus",
    "CorpusError",
    "CorpusView",
    "CorpusWriter",
    "WriteReport",
    "problem_kind",
    "validate_corpus",
    "write_corpus",
]
