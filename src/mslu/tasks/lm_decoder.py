"""GF-SLT with a pre-trained language-model decoder (``model.head.kind: mbart`` or ``seq2seq``).

Beside the paper's randomly initialised 3-block decoder (:class:`mslu.tasks.slt.SLTModel`, ``kind:
transformer``, the default), the translation head can be a Hugging Face encoder-decoder LM (mBART, mT5, BART,
Marian, ...; ``head.lm``: a hub name in the local cache or a local directory, loaded with
``local_files_only=True``). The MLP projector maps psi_SE's features to the LM's width; the projected pose
features then take the place of the text encoder's input or output:

- ``head.lm_encoder: true`` (default): they are the LM encoder's ``inputs_embeds`` and the LM encoder's output
  feeds the decoder's cross-attention, as GFSLT-VLP (mBART) and Uni-Sign (mT5) do;
- ``head.lm_encoder: false``: they are the ``encoder_hidden_states`` of the decoder's cross-attention
  directly (layer-normalised like a text encoder's last hidden state); the LM's encoder layers are dropped
  (no memory, no weights in the saved model). The paper's layout (projector -> decoder), pre-trained decoder.

Targets use the LM's own tokenizer: decoder input ``[start, w1 .. wn]``, labels ``[w1 .. wn, eos]``, where
``start`` is the target-language code for mBART (``de_DE`` / ``zh_CN`` / ``en_XX`` from ``data.language``, or
``head.lang_code``; mBART-cc25's convention, as in GFSLT-VLP) and the config's ``decoder_start_token_id``
otherwise (``pad`` for T5). Decoding: the library's ``generate`` (beam search, ``head.beam_size`` beams,
``head.length_penalty``, at most ``head.decode_max_len`` new tokens) on the precomputed encoder outputs.

A fine-tuned model is self-contained: the LM's config is saved next to the weights (``<model>/lm/``), the
weights are in ``model.safetensors`` (tied embeddings stored once), and :func:`lm_from_config` rebuilds the
architecture without the original checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mslu.data.languages import TEXT_LANGUAGES
from mslu.tasks.base import TaskModel

LM_KINDS = ("mbart", "seq2seq")
HEAD_KINDS = ("transformer", *LM_KINDS)
FREEZE_MODES = ("none", "embeddings", "decoder", "all")
LM_GROUPS = ("head", "encoder")
DEFAULT_MBART = "facebook/mbart-large-cc25"
LM_DIR = "lm"  # the LM's config inside a fine-tuned model directory
# mBART-cc25 language codes by ISO 639-1 prefix (the corpus' TEXT_LANGUAGES plus the other cc25 languages)
MBART_CODES: dict[str, str] = {
    **{c.split("_")[0]: c for c in (
        "ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX", "gu_IN", "hi_IN", "it_IT",
        "ja_XX", "kk_KZ", "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU", "si_LK",
        "tr_TR", "vi_VN", "zh_CN")},
    **TEXT_LANGUAGES,
}


def _quiet(fn, *args, **kwargs):
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return fn(*args, **kwargs)
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def _not_found(name: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"model.head.lm: {name!r} is not a local Hugging Face model (a directory, or a hub name already in "
        "the local cache; nothing is downloaded): download it beforehand or give a local path")


def lm_config(name_or_path: str):
    """The LM's ``PretrainedConfig`` from local files; one-line errors when absent or not encoder-decoder."""
    from transformers import AutoConfig

    try:
        cfg = AutoConfig.from_pretrained(str(name_or_path), local_files_only=True)
    except (OSError, ValueError) as e:
        raise _not_found(str(name_or_path)) from e
    if not getattr(cfg, "is_encoder_decoder", False):
        raise ValueError(f"model.head.lm: {name_or_path!r} ({cfg.model_type}) is not an encoder-decoder "
                         "model; use mBART, mT5, BART, Marian or another seq2seq LM")
    return cfg


def load_lm(name_or_path: str) -> nn.Module:
    """The pre-trained seq2seq LM (float32) from local files only."""
    from transformers import AutoModelForSeq2SeqLM

    lm_config(name_or_path)  # the one-line errors
    try:
        return _quiet(AutoModelForSeq2SeqLM.from_pretrained, str(name_or_path), local_files_only=True,
                      dtype=torch.float32)
    except OSError as e:
        raise _not_found(str(name_or_path)) from e


def lm_from_config(directory: str | Path) -> nn.Module:
    """The LM's architecture from a saved config, randomly initialised (weights come from a state dict)."""
    from transformers import AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM.from_config(lm_config(str(directory)), dtype=torch.float32)


def language_code(language: str | None, lang_code: str | None = None) -> str:
    """The mBART target-language token: ``lang_code`` if given, else ``data.language`` mapped (``de`` ->
    ``de_DE``; a value already of the form ``xx_YY`` is kept)."""
    if lang_code:
        return lang_code
    if not language:
        raise ValueError("model.head.lang_code: no target language (set data.language, e.g. de, or "
                         "model.head.lang_code, e.g. de_DE)")
    if "_" in language:
        return language
    code = MBART_CODES.get(language.lower().split("-")[0])
    if code is None:
        raise ValueError(f"data.language: {language!r} has no mBART language code; set model.head.lang_code")
    return code


def _stack_layers(stack: nn.Module) -> str | None:
    for name in ("layers", "block", "layer"):
        if isinstance(getattr(stack, name, None), nn.ModuleList):
            return name
    return None


def _cross_attention_params(decoder: nn.Module) -> set[int]:
    """ids of the decoder's cross-attention parameters (BART family ``encoder_attn*``; T5
    ``*CrossAttention`` layers; ``crossattention`` modules elsewhere)."""
    out: set[int] = set()
    for name, mod in decoder.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if (leaf.startswith("encoder_attn") or leaf in ("EncDecAttention", "crossattention", "cross_attn")
                or "CrossAttention" in type(mod).__name__):
            out.update(id(p) for p in mod.parameters())
    return out


def freeze_lm(lm: nn.Module, mode: str) -> None:
    """``embeddings``: token / position embeddings and the output projection; ``decoder``: those plus every
    decoder weight except cross-attention (which must learn to read poses); ``all``: every LM weight (only the
    projector and psi_SE train); ``none``."""
    if mode not in FREEZE_MODES:
        raise ValueError(f"model.head.freeze_lm: {mode!r}; use {', '.join(FREEZE_MODES)}")
    if mode == "none":
        return
    frozen = {id(p) for p in lm.get_input_embeddings().parameters()}
    out_emb = lm.get_output_embeddings()
    if out_emb is not None:
        frozen |= {id(p) for p in out_emb.parameters()}
    for name, p in lm.named_parameters():
        if "embed_positions" in name or "layernorm_embedding" in name or "relative_attention_bias" in name:
            frozen.add(id(p))
    if mode == "decoder":
        cross = _cross_attention_params(lm.get_decoder())
        frozen |= {id(p) for p in lm.get_decoder().parameters() if id(p) not in cross}
    if mode == "all":
        frozen = {id(p) for p in lm.parameters()}
    for p in lm.parameters():
        if id(p) in frozen:
            p.requires_grad_(False)


class LMDecoderModel(TaskModel):
    """psi_SE + MLP projector + a seq2seq LM. ``forward(pose, frame_mask, tokens (B, L)) -> logits (B, L, V)``
    (teacher forcing); :meth:`generate_ids` decodes with the LM's beam search."""

    def __init__(
        self,
        encoder: nn.Module,
        lm: nn.Module,
        start_id: int,
        eos_id: int,
        pad_id: int,
        use_lm_encoder: bool = True,
        num_layers: int | None = None,
        freeze: str = "none",
        lm_group: str = "head",
    ):
        super().__init__()
        from transformers import GenerationConfig

        if lm_group not in LM_GROUPS:
            raise ValueError(f"model.head.lm_group: {lm_group!r}; use {', '.join(LM_GROUPS)}")
        if num_layers is not None and int(num_layers) < 1:
            raise ValueError(f"model.head.lm_layers: must be >= 1 or null, got {num_layers}")
        self.encoder = encoder
        cfg = lm.config
        width = int(getattr(cfg, "d_model", None) or cfg.hidden_size)
        self.projector = nn.Sequential(
            nn.Linear(encoder.output_dim, width), nn.GELU(), nn.Linear(width, width)
        )
        # without the LM encoder, cross-attention reads the projection, normalised like an encoder's output
        self.memory_norm = nn.Identity() if use_lm_encoder else nn.LayerNorm(width)
        self.lm = lm
        self.use_lm_encoder = bool(use_lm_encoder)
        lm_enc, lm_dec = lm.get_encoder(), lm.get_decoder()
        for stack, keep in ((lm_dec, num_layers), (lm_enc, num_layers if use_lm_encoder else 0)):
            attr = _stack_layers(stack)
            if attr is not None and keep is not None:
                setattr(stack, attr, getattr(stack, attr)[: int(keep)])
        if not use_lm_encoder:  # what is left of the LM encoder (its embeddings are shared) is unused
            keep_ids = {id(p) for p in lm_dec.parameters()}
            keep_ids |= {id(p) for p in lm.get_input_embeddings().parameters()}
            for p in lm_enc.parameters():
                if id(p) not in keep_ids:
                    p.requires_grad_(False)
        freeze_lm(lm, freeze)
        self.lm_group = lm_group
        self.start_id, self.eos_id, self.pad_id = int(start_id), int(eos_id), int(pad_id)
        # our settings only: no generation defaults of the checkpoint (e.g. forced tokens, n-gram blocking)
        lm.generation_config = GenerationConfig(
            decoder_start_token_id=self.start_id, eos_token_id=self.eos_id, pad_token_id=self.pad_id,
            bos_token_id=getattr(cfg, "bos_token_id", None),
        )
        self.register_state_dict_post_hook(_drop_tied)
        self.register_load_state_dict_pre_hook(_restore_tied)

    # ---- parameter groups ----
    def lm_parameters(self) -> list[nn.Parameter]:
        """Trainable LM weights (the projector is not part of them)."""
        return [p for p in self.lm.parameters() if p.requires_grad]

    def encoder_parameters(self) -> list[nn.Parameter]:
        extra = self.lm_parameters() if self.lm_group == "encoder" else []
        return [*super().encoder_parameters(), *extra]

    def head_parameters(self) -> list[nn.Parameter]:
        taken = {id(p) for p in self.encoder_parameters()}
        return [p for p in super().head_parameters() if id(p) not in taken]

    # ---- forward / decoding ----
    def memory(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """What the decoder's cross-attention reads (B, T, d_model), keys over ``frame_mask``."""
        x = self.projector(self.encoder(pose, frame_mask))
        if self.use_lm_encoder:
            return self.lm.get_encoder()(inputs_embeds=x, attention_mask=frame_mask.long()).last_hidden_state
        return self.memory_norm(x)

    def _encoder_outputs(self, pose: torch.Tensor, frame_mask: torch.Tensor):
        from transformers.modeling_outputs import BaseModelOutput

        return BaseModelOutput(last_hidden_state=self.memory(pose, frame_mask))

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        out = self.lm(
            encoder_outputs=self._encoder_outputs(pose, frame_mask),
            attention_mask=frame_mask.long(),
            decoder_input_ids=tokens,
            use_cache=False,
        )
        return out.logits

    @torch.no_grad()
    def generate_ids(
        self,
        pose: torch.Tensor,
        frame_mask: torch.Tensor,
        beam_size: int = 4,
        max_new_tokens: int = 64,
        length_penalty: float = 1.0,
    ) -> list[list[int]]:
        """Token ids per clip (start token, eos and padding removed)."""
        kwargs: dict[str, Any] = {"num_beams": int(beam_size), "max_new_tokens": int(max_new_tokens),
                                  "do_sample": False}
        if beam_size > 1:
            kwargs["length_penalty"] = float(length_penalty)
        enc = self._encoder_outputs(pose, frame_mask)
        out = self.lm.generate(encoder_outputs=enc, attention_mask=frame_mask.long(), **kwargs)
        rows = []
        for seq in out.tolist():
            seq = seq[1:] if seq and seq[0] == self.start_id else seq
            rows.append(seq[: seq.index(self.eos_id)] if self.eos_id in seq else seq)
        return rows


def _tied_aliases(module: nn.Module) -> dict[str, str]:
    """``{alias: first name}`` of parameters shared under several names (tied embeddings)."""
    first: dict[int, str] = {}
    alias: dict[str, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        if id(p) in first:
            alias[name] = first[id(p)]
        else:
            first[id(p)] = name
    return alias


def _drop_tied(module, state_dict, prefix, local_metadata) -> None:
    """State dicts hold a tied weight once (mBART-large: 3 fewer copies of a 1 GB embedding)."""
    for name in _tied_aliases(module):
        state_dict.pop(prefix + name, None)


def _restore_tied(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors) -> None:
    for name, target in _tied_aliases(module).items():
        if prefix + name not in state_dict and prefix + target in state_dict:
            state_dict[prefix + name] = state_dict[prefix + target]


def write_scratch_lm(
    directory: str | Path,
    texts: Iterable[str],
    language: str | None = None,
    d_model: int = 128,
    decoder_layers: int = 3,
    encoder_layers: int = 1,
    heads: int = 4,
    ffn_dim: int = 512,
    max_positions: int = 512,
    dropout: float = 0.1,
    seed: int = 0,
) -> Path:
    """A randomly initialised mBART (config, weights) with an mBART-style tokenizer trained on ``texts``,
    saved as a local HF model directory for ``head.lm``. Word level (whitespace and punctuation splits) or,
    for Chinese, character level; specials ``<s> <pad> </s> <unk>`` (ids 0-3, as mBART) and the mBART language
    codes. For tests and for checking the mechanics without the real checkpoint: it has no language
    pre-training."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import MBartConfig, MBartForConditionalGeneration, PreTrainedTokenizerFast

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    codes = sorted(set(MBART_CODES.values()))
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    if (language or "").lower().startswith("zh"):
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("", behavior="isolated")])
        tok.decoder = decoders.Fuse()
    else:
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=specials + codes)
    tok.train_from_iterator([t for t in texts if t], trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                                 unk_token="<unk>", additional_special_tokens=codes)
    hf.save_pretrained(str(d))
    torch.manual_seed(seed)
    cfg = MBartConfig(
        vocab_size=len(hf), d_model=d_model, encoder_layers=encoder_layers, decoder_layers=decoder_layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn_dim,
        decoder_ffn_dim=ffn_dim, max_position_embeddings=max_positions, dropout=dropout,
        pad_token_id=hf.pad_token_id, bos_token_id=hf.bos_token_id, eos_token_id=hf.eos_token_id,
        decoder_start_token_id=hf.eos_token_id, scale_embedding=True,
    )
    _quiet(MBartForConditionalGeneration(cfg).save_pretrained, str(d))
    return d
