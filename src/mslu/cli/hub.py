"""``mslu hub``: share models through the Hugging Face Hub (``save`` a folder with a model card,
``push`` it)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "hub",
        help="save a shareable model folder (weights, configs, model card) and push it to the Hub",
        description="`save` writes a self-contained folder (safetensors weights, configs, task assets, "
        "metrics.json, training_config.yaml, README.md model card) for a fine-tuned run or a pre-trained "
        "encoder; `push` uploads it to a Hugging Face model repo. Load it with mslu.hub.from_pretrained.",
    )
    sub = p.add_subparsers(dest="hub_command", metavar="ACTION")
    s = sub.add_parser("save", help="write the shareable folder of a run or encoder")
    s.add_argument("--run", required=True, help="fine-tuning run, its model/ folder, or an encoder folder")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--corpus", default=None, help="training corpus for the card (default: the run config's)")
    s.add_argument("--name", default=None, help="card title (default: the output folder name)")
    s.add_argument("--license", default=None, help="license id for the card's front matter")
    s.add_argument("--repo-id", default=None, help="Hub repo the folder is meant for (usage example)")
    s.add_argument("--overwrite", action="store_true", help="replace a folder written by `mslu hub save`")
    s.set_defaults(func=_save)
    u = sub.add_parser("push", help="upload a saved folder to a Hugging Face model repo")
    u.add_argument("folder", help="folder written by `mslu hub save`")
    u.add_argument("--repo-id", required=True, help="owner/name")
    u.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the stored login)")
    u.add_argument("--private", action="store_true", help="create the repo as private")
    u.add_argument("--message", default=None, help="commit message")
    u.add_argument("--revision", default=None, help="branch to push to (default main)")
    u.set_defaults(func=_push)
    p.set_defaults(func=lambda args: p.print_help() or 1)


def _save(args: argparse.Namespace) -> int:
    from mslu.hub import save_pretrained
    from mslu.hub.push import upload_files

    out = save_pretrained(
        args.run,
        args.out,
        corpus=args.corpus,
        name=args.name,
        license=args.license,
        repo_id=args.repo_id,
        overwrite=args.overwrite,
    )
    files = upload_files(out)
    print(f"wrote {out}: {', '.join(files)}")
    print(f"push with: mslu hub push {out} --repo-id {args.repo_id or 'OWNER/NAME'}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from mslu.hub import push_to_hub

    url = push_to_hub(
        args.folder,
        args.repo_id,
        token=args.token,
        private=True if args.private else None,
        commit_message=args.message,
        revision=args.revision,
    )
    print(f"pushed {args.folder} to {args.repo_id}: {url}")
    return 0
