"""The ``consim`` command line.

Design note
-----------
One parser declares every subcommand of the public contract; the work is done
by the package that owns it (``sim`` runs one model, ``experiments`` runs
sweeps and validation, ``analysis`` writes reports, ``sim.dashboard`` serves
the classroom app). Each handler takes the parsed arguments and returns an
exit status. Input errors (:class:`sim.errors.InputError`) print one paragraph
and exit 2; anything else is an internal failure, exit 1 (set
``CONSIM_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage errors exit 2 already
        self.print_usage(sys.stderr)
        self.exit(2, f"consim: error: {message}\n")


def _fmt_value(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3f}"


def print_summary(summary: dict[str, float], lang: str = "en") -> None:
    """Print the indicator table of one run."""
    from sim.indicators import BY_NAME, NAMES

    width = max(len(n) for n in NAMES)
    for name in NAMES:
        ind = BY_NAME[name]
        label = ind.meaning_zh if lang == "zh" else ind.unit
        print(f"{name:<{width}}  {_fmt_value(summary[name]):>14}  {label}")


# ---------------------------------------------------------------- handlers
def cmd_run(args: argparse.Namespace) -> int:
    """``consim run``: one model run, printed and optionally written."""
    from sim.run import run, write_result
    from sim.scenario import Scenario, parse_override

    sc = Scenario.load(args.scenario)
    overrides = dict(parse_override(s) for s in args.set or [])
    if overrides:
        sc = sc.with_overrides(overrides, source="--set")
    if args.years is not None:
        sc = sc.with_overrides({"years": args.years}, source="--years")
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_out_dir(out, force=args.force)
    res = run(sc, seed=args.seed)
    title = sc.meta.get("title_zh" if args.lang == "zh" else "title") or sc.source
    print(f"# {title} | seed {args.seed} | {sc.get('years')} years | {res.seconds:.2f} s")
    print_summary(res.summary, lang=args.lang)
    if out is not None:
        write_result(res, out)
        print(f"# wrote {out}/summary.json, timeseries.parquet, scenario.toml")
    return 0


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory; allowed: a new or empty directory.")
    existing = [n for n in ("summary.json", "timeseries.parquet", "scenario.toml") if (out / n).exists()]
    if existing and not force:
        raise InputError(
            f"--out {out}: already holds {', '.join(existing)}; refusing to overwrite. "
            "Allowed: a new or empty directory, or add --force."
        )
    try:  # before the run, so that an unusable --out costs no simulation time
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {out}: cannot create this directory ({e.strerror}); allowed: a writable directory path.") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: not writable; allowed: a writable directory path.")


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``consim scenarios``: list presets with their one-line descriptions."""
    from sim.scenario import Scenario, preset_names

    zh = args.lang == "zh"
    for name in preset_names():
        sc = Scenario.load(name)
        title = sc.meta.get("title_zh" if zh else "title", "")
        desc = sc.meta.get("description_zh" if zh else "description", "")
        first = desc.strip().splitlines()[0] if desc.strip() else ""
        print(f"{name:<22} {title}")
        if first:
            print(textwrap.indent(textwrap.fill(first, 76), " " * 23))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """``consim explain [KEY]``: what a scenario key means."""
    from sim.parameters import BY_KEY, PARAMETERS
    from sim.scenario import ScenarioError, _did_you_mean

    if not args.key:
        for p in PARAMETERS:
            print(f"{p.key:<52} {p.kind:<9} {p.unit}")
        return 0
    matches = [p for p in PARAMETERS if p.key == args.key] or [
        p for p in PARAMETERS if p.key.startswith(args.key.rstrip(".") + ".")
    ]
    if not matches:
        raise ScenarioError(f"explain: unknown key '{args.key}'.{_did_you_mean(args.key, BY_KEY)} `consim explain` lists the keys.")
    if args.json:
        print(json.dumps([_param_json(p) for p in matches], ensure_ascii=False, indent=2))
        return 0
    for p in matches:
        print(p.key)
        print(f"  meaning : {p.meaning}" + (f" ({p.meaning_zh})" if p.meaning_zh else ""))
        print(f"  type    : {p.kind}" + (f" [{', '.join(p.choices)}]" if p.choices else ""))
        print(f"  unit    : {p.unit or '-'}")
        print(f"  default : {p.default!r}")
        print(f"  allowed : {p.allowed()}")
        if p.explore is not None:
            print(f"  explore : {p.explore[0]:g} to {p.explore[1]:g}")
        print(f"  source  : {p.source}")
    return 0


def _param_json(p: Any) -> dict[str, Any]:
    return {"key": p.key, "type": p.kind, "unit": p.unit, "default": p.default, "allowed": p.allowed(),
            "meaning": p.meaning, "source": p.source, "choices": list(p.choices), "low": p.low, "high": p.high}


def _delegate(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        import importlib

        try:
            mod = importlib.import_module(module)
            fn = getattr(mod, func)
        except (ImportError, AttributeError) as e:
            print(f"consim: '{args.command}' is not available in this installation ({e}).", file=sys.stderr)
            return 1
        return int(fn(args) or 0)

    return handler


def build_parser() -> argparse.ArgumentParser:
    """The full ``consim`` argument parser."""
    p = _Parser(prog="consim", description="consortium-sim: agent-based model of city-level industry-education consortia (市域产教联合体)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run one scenario and print its indicators")
    r.add_argument("scenario", help="preset name (see `consim scenarios`) or path to a .toml file")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a scenario key (repeatable)")
    r.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    r.add_argument("--years", type=int, help="override the number of simulated years")
    r.add_argument("--out", help="write summary.json, timeseries.parquet and scenario.toml here")
    r.add_argument("--force", action="store_true", help="overwrite an earlier run's files in --out")
    r.add_argument("--lang", choices=("en", "zh"), default="en")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("sweep", help="run a sweep file's design (resumable)")
    s.add_argument("sweep_file")
    s.add_argument("--out", help="result directory (default: results/<sweep name>)")
    s.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    s.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask scheduler (tcp://host:port)")
    s.add_argument("--executor", choices=("local", "inprocess", "dask"), help="how to run (default local processes; dask when --scheduler)")
    s.add_argument("--resume", action="store_true", help="continue a sweep in an existing directory")
    s.add_argument("--shard", metavar="I/N", help="run only shard I of N (Slurm job arrays); with --write-sbatch, N alone sets the number of shards")
    s.add_argument("--write-sbatch", metavar="FILE", help="write a Slurm job-array script for this sweep and exit")
    s.add_argument("--retries", type=int, help="retries for a failed run (default from the sweep file, else 1)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_delegate("experiments.cli", "sweep_command"))

    st = sub.add_parser("status", help="how many runs of a sweep are done / failed / pending")
    st.add_argument("dir")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_delegate("experiments.cli", "status_command"))

    rp = sub.add_parser("report", help="HTML report from a finished or partial sweep")
    rp.add_argument("dir")
    rp.add_argument("--lang", choices=("zh", "en"), default="en")
    rp.add_argument("--out", help="output file (default DIR/report.<lang>.html)")
    rp.add_argument("--focus", help="indicator the headline, PRIM and sensitivity focus on (default sme_participation_rate)")
    rp.add_argument("--min-gain", type=float, dest="min_gain",
                    help="a lever 'fails' where it raises the focus indicator by less than this (default 0.05)")
    rp.set_defaults(func=_delegate("analysis.cli", "report_command"))

    d = sub.add_parser("dashboard", help="classroom dashboard in the browser (offline)")
    d.add_argument("scenario", nargs="?", help="preset name or .toml file to start on (default: baseline)")
    d.add_argument("--port", type=int, default=8765)
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--lang", choices=("zh", "en"), help="interface language (default: from the locale)")
    d.set_defaults(func=_delegate("sim.dashboard.serve", "dashboard_command"))

    v = sub.add_parser("validate", help="run the validation suite and print fact by fact")
    v.add_argument("--fast", action="store_true", help="the quick subset CI runs")
    v.add_argument("--only", action="append", help="run only these facts (by id)")
    v.add_argument("--figures", metavar="DIR", help="also write the figures here")
    v.add_argument("--replications", type=int, help="replications per point")
    v.set_defaults(func=_delegate("experiments.validation", "validate_command"))

    sc = sub.add_parser("scenarios", help="list preset scenarios")
    sc.add_argument("--lang", choices=("en", "zh"), default="en")
    sc.set_defaults(func=cmd_scenarios)

    e = sub.add_parser("explain", help="what a scenario key means, its unit, default and range")
    e.add_argument("key", nargs="?", help="a dotted key or a prefix (policy.subsidy); none lists all")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_explain)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``consim``."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"consim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("consim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - the last line of defence of a CLI
        if os.environ.get("CONSIM_DEBUG"):
            raise
        print(f"consim: internal error: {type(e).__name__}: {e} (set CONSIM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
