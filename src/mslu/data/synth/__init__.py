"""Built-in synthetic sign language corpus (``mslu synth``).

Three synthetic sign languages (``syn-en``, ``syn-de``, ``syn-zh``) over one shared concept space, with
texts in English, German and Chinese; isolated clips with template sentences, continuous sentences
with gloss sequences and grammar-made translations, and unpaired clips, rendered as SL79 poses.
"""

from mslu.data.synth.generator import (
    BENCHMARK_KINDS,
    SYNTH_LANGUAGES,
    SynthConfig,
    SynthLanguage,
    benchmark_sample_id,
    build_benchmark,
    build_language,
    generate_samples,
    get_signer,
    make_benchmark_sample,
    make_benchmark_samples,
    make_sample,
    make_samples,
    sample_id,
    sign_timeline,
    signer_pool,
)
from mslu.data.synth.kinematics import animate, animate_body, mirror_body
from mslu.data.synth.signers import Signer

__all__ = [
    "animate",
    "animate_body",
    "BENCHMARK_KINDS",
    "SYNTH_LANGUAGES",
    "Signer",
    "SynthConfig",
    "SynthLanguage",
    "build_benchmark",
    "build_language",
    "generate_samples",
    "benchmark_sample_id",
    "get_signer",
    "make_benchmark_sample",
    "make_benchmark_samples",
    "make_sample",
    "make_samples",
    "mirror_body",
    "sample_id",
    "sign_timeline",
    "signer_pool",
]
