"""``posekit batch INPUTS... --out DIR --task track|predict|analyze``: many sources, resumable.

One work item per video (track, analyze) or per folder of images (predict); INPUTS are files,
folders (searched recursively), globs, or manifests (.txt: one source per line; .csv: a 'source'
column plus option columns such as max_frames). Each item's outputs land whole in DIR/<stem>-<hash>/;
DIR/ledger.sqlite records every item, so running the same command again skips what is done,
retries what failed and redoes what a crash interrupted. The task's own flags (those of
posekit track or posekit predict; analyze: track's plus --exercise, --angles, --classifier)
apply to every item. --status DIR prints what the ledger holds.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from posekit.batch.driver import LEDGER_NAME, BatchOptions, BatchReport, ProgressState, resolve_layout, run_batch
from posekit.batch.inputs import collect_items
from posekit.batch.items import TASKS, TaskName
from posekit.batch.ledger import Ledger
from posekit.batch.options import option_actions, typed_options
from posekit.errors import PosekitError, UsageError

_OPTION_PREFIX = "item_option_"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("batch", help="run track, predict or analyze over many sources, resumably")
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="video files, folders, globs or manifests")
    parser.add_argument("--out", type=Path, help="output folder (holds the ledger)")
    parser.add_argument("--task", choices=TASKS, default="track", help="what to do per item (default: %(default)s)")
    parser.add_argument("--status", type=Path, metavar="DIR", help="print the ledger of DIR and exit")
    group = parser.add_argument_group("workers")
    group.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    group.add_argument(
        "--threads", type=int, default=None, help="CPU threads per model in each worker (default: cores / workers)"
    )
    group.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run on Ray: alone, a Ray started here; with ADDRESS (host:port), that cluster (outputs and "
        "inputs must be at the same paths on every node)",
    )
    group.add_argument(
        "--retries", type=int, default=2, help="extra attempts for an item that failed (default: %(default)s)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    _add_item_flags(parser)


def _add_item_flags(parser: argparse.ArgumentParser) -> None:
    """Every task's own flags, given once; left unset, each task keeps its own default."""
    group = parser.add_argument_group("task options", "as for posekit track / posekit predict (see their --help)")
    seen = {"--out", "--quiet", "--threads", "--help"}
    for task in TASKS:
        for flag, action in option_actions(task).items():
            if flag in seen:
                continue
            seen.add(flag)
            name = flag[2:].replace("-", "_")
            help_text = (action.help or "").replace("%(default)s", "the task's")
            if action.nargs == 0:
                group.add_argument(
                    flag, dest=_OPTION_PREFIX + name, action="store_true", default=argparse.SUPPRESS, help=help_text
                )
            else:
                metavar = action.metavar if isinstance(action.metavar, str) else name.upper()
                group.add_argument(
                    flag, dest=_OPTION_PREFIX + name, default=argparse.SUPPRESS, metavar=metavar, help=help_text
                )


def _given_item_options(args: argparse.Namespace) -> dict[str, Any]:
    return {key[len(_OPTION_PREFIX) :]: value for key, value in vars(args).items() if key.startswith(_OPTION_PREFIX)}


def run(args: argparse.Namespace) -> int:
    if args.status is not None:
        return print_status(args.status)
    if args.out is None or not args.inputs:
        print("posekit: batch needs INPUTS and --out DIR (or --status DIR)", file=sys.stderr)
        return 2
    task: TaskName = args.task
    try:
        options = typed_options(task, _given_item_options(args))
    except UsageError as exc:
        print(f"posekit: batch --task {task}: {exc}", file=sys.stderr)
        return 2
    collected = collect_items(args.inputs, task, options, exclude=args.out)
    for error in collected.errors:
        print(f"posekit: skipped {error}", file=sys.stderr)
    if not collected.items:
        print("posekit: batch: nothing to do", file=sys.stderr)
        return 1
    batch_options = BatchOptions(workers=args.workers, threads=args.threads, retries=args.retries, ray=args.ray)
    workers, threads = resolve_layout(batch_options)
    where = f"ray {args.ray}" if args.ray else f"{workers} processes x {threads} threads"
    if not args.quiet:
        print(f"posekit: batch: {len(collected.items)} items, {task}, on {where}", file=sys.stderr)
    display = BatchProgressLine(enabled=not args.quiet)
    try:
        report = run_batch(collected.items, args.out, batch_options, on_change=display.update)
    except PosekitError as exc:
        display.close()
        print(f"posekit: batch: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:  # e.g. a full disk under the ledger itself
        display.close()
        print(f"posekit: batch: cannot write {args.out}: {exc}; finished items are kept, run again", file=sys.stderr)
        return 2
    display.close()
    _print_report(report, args.out)
    return 1 if report.failed or collected.errors else 0


def _print_report(report: BatchReport, out_dir: Path) -> None:
    for item in report.option_changes:
        print(
            f"posekit: {item.source}: done before with other options; kept (use another --out to redo)", file=sys.stderr
        )
    rate = report.frames / max(report.seconds, 1e-9)
    print(
        f"posekit: batch: {report.total} items: {report.done} done now, {report.skipped} done before, "
        f"{len(report.failed)} failed; {report.frames} frames in {report.seconds:.1f}s ({rate:.1f} frames/s) "
        f"-> {out_dir}",
        file=sys.stderr,
    )
    for item, error in report.failed:
        print(f"posekit: failed: {item.source}: {error}", file=sys.stderr)


def print_status(out_dir: Path, stream: TextIO | None = None) -> int:
    """The ledger of ``out_dir``: counts per state, where items ran, failed and unfinished items."""
    stream = stream or sys.stdout
    path = out_dir / LEDGER_NAME
    if not path.is_file():
        print(f"posekit: {out_dir}: no batch ledger here ({LEDGER_NAME})", file=sys.stderr)
        return 2
    ledger = Ledger(path)
    entries = ledger.entries()
    counts = ledger.summary()
    frames = sum(e.result.frames for e in entries if e.result is not None and e.state == "done")
    people = sum(e.result.people for e in entries if e.result is not None and e.state == "done")
    states = ", ".join(f"{counts[state]} {state}" for state in ("done", "failed", "running", "pending"))
    print(f"{out_dir}: {len(entries)} items: {states}; {frames} frames, {people} people", file=stream)
    places = Counter(_place(e.worker) for e in entries if e.state == "done")
    if places:
        print("done on: " + ", ".join(f"{place} ({n})" for place, n in sorted(places.items())), file=stream)
    for entry in entries:
        if entry.state == "failed":
            print(f"failed: {entry.item.source}: {entry.error} (attempts: {entry.attempts})", file=stream)
        elif entry.state in ("running", "pending"):
            progress = f", {entry.frames_done}/{entry.frames_total or '?'} frames" if entry.state == "running" else ""
            print(f"{entry.state}: {entry.item.source}{progress}", file=stream)
    return 0


def _place(worker: str) -> str:
    """``ray:<node id>:<pid>`` -> ``ray node <node id[:12]>``; ``w1@host:pid`` -> ``host``."""
    if worker.startswith("ray:"):
        return f"ray node {worker.split(':')[1][:12]}"
    return worker.split("@", 1)[-1].rsplit(":", 1)[0] or "?"


class BatchProgressLine:
    """Items and frames done, frames per second and an estimate of the time left, on stderr."""

    def __init__(self, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._interactive = self.stream.isatty()
        self._last_draw = 0.0
        self._first_frames: int | None = None
        self._drawn = False

    def update(self, state: ProgressState) -> None:
        if not self.enabled:
            return
        if self._first_frames is None:
            self._first_frames = state.frames_done
        now = time.perf_counter()
        if now - self._last_draw < (0.1 if self._interactive else 5.0):
            return
        self._last_draw = now
        rate = (state.frames_done - self._first_frames) / max(state.elapsed_s, 1e-9)
        total = state.frames_total
        eta = f"eta {max(0, total - state.frames_done) / rate:.0f}s" if total and rate > 0 else "eta ?"
        width = 20
        filled = int(width * state.items_done / max(state.items_total, 1))
        text = (
            f"batch [{'#' * filled}{'.' * (width - filled)}] {state.items_done}/{state.items_total} items"
            + (f" ({state.items_failed} failed)" if state.items_failed else "")
            + f", {state.frames_done}/{'~' + str(total) if total else '?'} frames, {rate:.1f} frames/s, {eta}"
        )
        if self._interactive:
            self.stream.write("\r" + text[:120].ljust(120))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._interactive and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
