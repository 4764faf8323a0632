"""``mslu configs``: list the shipped configs, or print one resolved (bases and Table III defaults merged)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "configs",
        help="list shipped configs, or show one resolved",
        description="Without NAME: the shipped configs (use a name as --config, e.g. islr/wlasl100). "
        "With NAME (a shipped name or a YAML path): the config as a run would use it, with its `base:` "
        "files and the task's Table III defaults merged.",
    )
    p.add_argument("name", nargs="?", help="shipped config name or YAML path")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import yaml

    from mslu.configs import available_configs, find_config, read_config_file
    from mslu.training.run_config import finetune_config, load_config

    if not args.name:
        print("\n".join(available_configs()))
        return 0
    raw = read_config_file(find_config(args.name))
    cfg = finetune_config(args.name) if "task" in raw else load_config(args.name)
    print(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), end="")
    return 0
