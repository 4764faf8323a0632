"""Share models the way the field does: Hugging Face Hub folders for the pre-trained encoder and for every
fine-tuned task model (ISLR, CSLR, SLT, retrieval).

* :func:`save_pretrained` (run / model / encoder folder -> self-contained folder: safetensors weights,
  configs, task assets, ``metrics.json``, ``training_config.yaml`` and a generated model card ``README.md``),
* :func:`from_pretrained` (folder or ``owner/name`` from the local HF cache -> ``(task, model)``),
  :func:`encoder_from_pretrained` (-> ``SignPoseEncoder``),
* :func:`push_to_hub` (``HfApi.upload_folder`` of a saved folder),
* :func:`model_card`, :func:`resolve`, :func:`inspect_source` for the pieces.

See ``docs/sharing.md``.
"""

from mslu.hub.card import model_card, reproduce_command
from mslu.hub.folder import HubError, Source, hub_cache_dir, inspect_source, resolve
from mslu.hub.load import encoder_from_pretrained, from_pretrained
from mslu.hub.push import push_to_hub, upload_files
from mslu.hub.save import save_pretrained

__all__ = [
    "HubError",
    "Source",
    "encoder_from_pretrained",
    "from_pretrained",
    "hub_cache_dir",
    "inspect_source",
    "model_card",
    "push_to_hub",
    "reproduce_command",
    "resolve",
    "save_pretrained",
    "upload_files",
]
