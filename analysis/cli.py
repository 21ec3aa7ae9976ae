"""``consim report DIR [--lang zh|en] [--out FILE]`` (the parser lives in :mod:`sim.cli`)."""

from __future__ import annotations

import argparse
import os

from sim.errors import InputError


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report of the sweep in ``args.dir``; returns the exit status."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from analysis.report import build_report

    lang = getattr(args, "lang", "en") or "en"
    if lang not in ("en", "zh"):
        raise InputError(f"--lang {lang!r}: allowed: en or zh.")
    out = getattr(args, "out", None)
    if out and os.path.isdir(out):
        raise InputError(f"--out {out}: is a directory; allowed: a file path (e.g. {out}/report.{lang}.html).")
    extra = {}
    if getattr(args, "focus", None):
        from sim.indicators import BY_NAME

        if args.focus not in BY_NAME:
            raise InputError(f"--focus {args.focus!r}: unknown indicator; allowed: {', '.join(BY_NAME)}.")
        extra["focus"] = args.focus
    if getattr(args, "min_gain", None) is not None:
        extra["min_gain"] = float(args.min_gain)
    rep = build_report(args.dir, lang=lang, out=out, **extra)
    c = rep.counts
    state = "complete" if c.get("done") == c.get("total") else f"partial: {c.get('done')}/{c.get('total')} runs done"
    print(f"wrote {rep.path} ({state}; {len(rep.figures)} figures)")
    for note in rep.notes:
        print(f"note: {note}")
    return 0
