"""A work item's options, read with the very parsers of ``posekit track`` and ``posekit predict``.

An item's options are ``{flag name: value}`` (see :class:`~posekit.batch.items.WorkItem`). They are
turned back into command-line words and parsed by the command's own parser, so a batch item
accepts exactly the flags, defaults, types and choices of the command it stands for, and a bad
value gets the same message (raised as :class:`~posekit.errors.UsageError`, never an exit).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from posekit.batch.items import TaskName, normalise_option_name
from posekit.errors import UsageError

# Flags that belong to the batch, not to an item.
_NOT_ITEM_OPTIONS = {"out", "quiet", "help", "threads"}  # threads: per worker (TaskRunner)
_TRUE_WORDS = {"1", "true", "yes", "on", "y"}
_FALSE_WORDS = {"0", "false", "no", "off", "n", ""}


class _RaisingParser(argparse.ArgumentParser):
    """An argparse parser whose errors raise instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def task_parser(task: TaskName) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The root parser and the command's parser behind ``task`` (``analyze``: ``track``'s plus
    analysis flags)."""
    from posekit.cli import predict, track  # here, not at import: posekit.cli imports posekit.batch

    root = _RaisingParser(prog="posekit", add_help=False)
    subparsers = root.add_subparsers(dest="command", required=True)
    (predict if task == "predict" else track).add_parser(subparsers)
    parser: argparse.ArgumentParser = subparsers.choices["predict" if task == "predict" else "track"]
    if task == "analyze":
        group = parser.add_argument_group("analysis")
        group.add_argument("--exercise", default=None, help="exercise to count (default: the analysis decides)")
        group.add_argument("--angles", default=None, help="comma-separated joint angles (default: all)")
        group.add_argument("--classifier", type=Path, default=None, help="exercise classifier file")
    return root, parser


def option_actions(task: TaskName) -> dict[str, argparse.Action]:
    """``{"--max-frames": action, ...}``: every option string the task accepts as an item option."""
    _, parser = task_parser(task)
    return {
        string: action
        for action in parser._actions
        for string in action.option_strings
        if string.startswith("--") and normalise_option_name(string) not in _NOT_ITEM_OPTIONS
    }


def options_to_argv(task: TaskName, options: dict[str, Any]) -> list[str]:
    """``{"max_frames": 50, "render": True}`` -> ``["--max-frames", "50", "--render"]``."""
    actions = option_actions(task)
    argv: list[str] = []
    for key, value in options.items():
        name = normalise_option_name(key)
        flag = "--" + name.replace("_", "-")
        action = actions.get(flag)
        if action is None or name in _NOT_ITEM_OPTIONS:
            raise UsageError(f"{task} has no option {flag}")
        if action.nargs == 0:
            if _as_bool(value, flag):
                argv.append(flag)
        elif value is not None:
            argv.extend([flag, ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)])
    return argv


def _as_bool(value: Any, flag: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise UsageError(f"{flag} is a switch: give true or false, not {value!r}")


def parse_item_options(task: TaskName, source: str, options: dict[str, Any]) -> argparse.Namespace:
    """The namespace ``posekit track SOURCE --out . <options>`` (or predict's) would give."""
    return _parse(task, source, options_to_argv(task, options))


def _parse(task: TaskName, source: str, flags: list[str]) -> argparse.Namespace:
    root, _ = task_parser(task)
    return root.parse_args(["predict" if task == "predict" else "track", source, "--out", ".", *flags])


def typed_options(task: TaskName, given: dict[str, Any]) -> dict[str, Any]:
    """Checks options given as words (``{"max_frames": "50"}``) with the task's parser and returns
    them as typed JSON values (``{"max_frames": 50}``); only the given ones, so the task keeps its
    own defaults for the rest. Raises :class:`UsageError` for an unknown flag or a bad value."""
    parsed = parse_item_options(task, "SOURCE", given)
    actions = option_actions(task)
    options: dict[str, Any] = {}
    for key, value in given.items():
        name = normalise_option_name(key)
        action = actions["--" + name.replace("_", "-")]
        if action.nargs == 0:
            if _as_bool(value, name):
                options[name] = True
        else:
            typed = getattr(parsed, action.dest)
            options[name] = str(typed) if isinstance(typed, Path) else typed
    return options
