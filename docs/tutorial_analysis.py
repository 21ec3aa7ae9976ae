"""Tutorial: from a sweep file to a published report.

Run it with ``python docs/tutorial_analysis.py [WORKDIR]`` (default: a temporary
folder). It takes about a minute on a laptop: the sweep is deliberately tiny
(a small city, three simulated years, two replications). The test suite runs it
(``tests/test_analysis_tutorial.py``). Every step below is what you would type
in a notebook; the comments are the tutorial's text.
"""

# %% [markdown]
# # 1. Write a sweep file
#
# A sweep file names a base scenario, the levers to compare (`[vary]`, a grid),
# the uncertain parameters to explore (`[design]`, here a Latin hypercube), the
# replications and one master seed. Replication *r* uses the same seed at every
# design point (common random numbers), so each policy run has a *paired*
# reference run: same city, same luck, only the lever differs.

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

SWEEP = '''
name = "tutorial"
description = "An SME subsidy under uncertain competition and fixed costs (tutorial size)."
base = "baseline"
replications = 2
seed = 2026
years = 3
keep = ["firm_participation_rate", "sme_participation_rate", "subsidy_spent"]

[set]
"population.smes" = 60
"population.anchor_firms" = 4
"policy.subsidy.target" = "sme"

[vary]
"policy.subsidy.cost_share" = [0.0, 0.3]

[design]
method = "lhs"
samples = 10
[design.ranges]
"labour_market.competitors_per_sector" = [0.0, 20.0]
"firms.shallow_fixed_cost" = [0.0, 40000.0]
'''


def consim(*args: str) -> None:
    """Run a ``consim`` command with this Python (what you would type in a shell)."""
    subprocess.run([sys.executable, "-m", "sim.cli", *args], check=True)


def main(workdir: Path) -> Path:
    """Write the sweep, run it, analyse it and write the reports; returns the English report."""
    workdir.mkdir(parents=True, exist_ok=True)
    sweep_file = workdir / "tutorial.toml"
    sweep_file.write_text(SWEEP, encoding="utf-8")
    out = workdir / "results"

    # %% [markdown]
    # # 2. Run it
    #
    # `consim sweep` writes every finished run to `out/` as it goes; a killed
    # sweep continues with `--resume`. 2 lever values x 10 uncertain points x
    # 2 replications = 40 runs.
    consim("sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--no-progress")

    # %% [markdown]
    # # 3. Read the stored results (the model is not run again)
    import experiments
    from analysis.design import sweep_design
    from analysis.discovery import discover
    from analysis.headline import headline_numbers, headline_table, to_markdown
    from analysis.sensitivity import sensitivity
    from analysis.stats import effects, paired_runs

    res = experiments.load(out)
    design = sweep_design(res)
    print("levers:", design.levers, "| uncertain:", design.uncertainties, "| reference:", design.reference)

    # %% [markdown]
    # # 4. Which lever, how much, for whom, at what cost, how sure
    #
    # Paired differences (policy minus reference, same seed) with 95% CIs, the
    # extra public money per additional participating firm, and the deadweight
    # (money paid to firms that would have taken part anyway; approximated from
    # aggregate indicators).
    numbers = headline_numbers(res.summary, design, seed=2026)
    print(to_markdown(headline_table(numbers, design)))
    pairs = paired_runs(res.summary, design, ["sme_participation_rate"])
    eff = effects(pairs, design, ["sme_participation_rate"])
    assert (pairs["seed"] == pairs["ref_seed"]).all()
    print(eff[["indicator", "diff", "ci_low", "ci_high", "pairs"]])

    # %% [markdown]
    # # 5. Which uncertain parameters matter? (global sensitivity, with a dummy)
    #
    # RBD-FAST on the reference cell of the grid. The dummy (a random column)
    # marks the noise floor; with 10 points the verdict says the sample is too
    # small, which is the honest answer: use a few hundred points for a paper.
    sa = sensitivity(res, "sme_participation_rate", "rbd_fast", where=design.reference)
    print(sa.table[["parameter", "value", "conf", "above_floor"]])
    print("sample large enough?", sa.enough, [text for text, ok in sa.checks if not ok])

    # %% [markdown]
    # # 6. When does the subsidy fail? (scenario discovery with PRIM)
    #
    # "Failure" here: the subsidy raises SME participation by less than 5
    # percentage points over the paired reference at an uncertain point.
    disc = discover(res, design, "sme_participation_rate", min_gain=0.05)
    print(disc.description, f"-> {disc.failures} of {len(disc.failed)} points fail")
    for box in disc.boxes:
        print(f"  box: coverage {box.coverage:.0%}, density {box.density:.0%}")
        print(box.limits)

    # %% [markdown]
    # # 7. The report, in English and Chinese
    #
    # A single HTML file, figures embedded, readable offline.
    consim("report", str(out))
    consim("report", str(out), "--lang", "zh")
    report = out / "report.en.html"
    assert report.exists() and (out / "report.zh.html").exists()
    print("open", report)
    return report


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="consim-tutorial-"))
    main(target)
