"""Invariants every run must keep: people, money and slots conserved, caps respected.

Design note
-----------
:func:`violations` inspects a :class:`sim.model.ConsortiumModel` at any step and
returns a list of broken invariants (empty when all hold). Tests call it after
steps of generated scenarios; it never changes the model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.indicators import INDICATORS

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ConsortiumModel

TOL = 1e-6


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= max(TOL, rel * max(abs(a), abs(b)))


def violations(model: ConsortiumModel) -> list[str]:
    """Every broken invariant, as a readable sentence."""
    out: list[str] = []
    fs, e, g = model.firm_state, model.enrolment, model.graduates
    # students
    if e.entered != e.in_school + e.graduated:
        out.append(f"students: entered {e.entered} != in school {e.in_school} + graduated {e.graduated}")
    if len(g) + g.dropped != e.graduated:
        out.append(f"graduates: tracked {len(g)} + dropped {g.dropped} != graduated {e.graduated}")
    if (e.counts < 0).any():
        out.append("students: negative enrolment count")
    if model.final_year is not None and len(model.final_year) != int(e.counts[:, :, -1].sum()):
        out.append("students: final-year arrays disagree with enrolment counts")
    # slots and placements
    r = model._last_round
    if r.slots_filled > r.slots_offered:
        out.append(f"slots: filled {r.slots_filled} > offered {r.slots_offered}")
    if r.students_placed > r.students_needing:
        out.append(f"placements: placed {r.students_placed} > needing {r.students_needing}")
    if r.slots_filled != r.students_placed:
        out.append("placements: slots filled != students placed")
    if (fs.hosted > fs.slots).any():
        out.append("slots: a firm hosts more trainees than its slots")
    cap = np.floor(np.minimum(model.p["firms.slot_cap_workforce"] * fs.employees,
                              model.p["firms.slot_cap_post"] * model.p["firms.skilled_post_share"] * fs.employees))
    if (fs.slots > cap).any():
        out.append("slots: internship cap exceeded")
    if ((fs.hosted > 0) & (fs.engagement == 0)).any():
        out.append("placements: a non-engaged firm hosts trainees")
    # money
    led = model.government.ledger
    if not _close(led.claimed, led.approved + led.refused_budget + led.refused_coordination):
        out.append(f"money: claimed {led.claimed:.2f} != approved + refused ({led.approved + led.refused_budget + led.refused_coordination:.2f})")
    if not _close(led.approved, led.paid + led.pending_total):
        out.append(f"money: approved {led.approved:.2f} != paid {led.paid:.2f} + pending {led.pending_total:.2f}")
    if not _close(float(model.government.paid_by_firm.sum()), led.paid + led.credits):
        out.append("money: firms received != subsidies paid + credits")
    if model.government.subsidy_budget_left < -TOL:
        out.append(f"money: subsidy budget overspent by {-model.government.subsidy_budget_left:.2f}")
    if min(led.paid, led.credits, led.pending_total, led.refused_budget, led.refused_coordination) < -TOL:
        out.append("money: a negative ledger entry")
    # graduates' employers exist
    if len(g) and ((g.employer < -1) | (g.employer >= fs.n)).any():
        out.append("graduates: employer index out of range")
    # indicators within their declared ranges, no NaN
    for ind in INDICATORS:
        v = float(getattr(model, ind.name))
        if math.isnan(v) or math.isinf(v):
            out.append(f"indicator {ind.name} is {v}")
        elif (ind.low is not None and v < ind.low - TOL) or (ind.high is not None and v > ind.high + TOL):
            out.append(f"indicator {ind.name} = {v} outside [{ind.low}, {ind.high}]")
    # engagement levels and shares
    if ((fs.engagement < 0) | (fs.engagement > 2)).any():
        out.append("firms: engagement level outside 0-2")
    ss = model.school_state
    if ss.n and (not np.allclose(ss.shares.sum(axis=1), 1.0) or (ss.shares < -TOL).any()):
        out.append("schools: programme shares do not sum to 1")
    if ((ss.effort < 0) | (ss.effort > 1) | (ss.equipment < 0) | (ss.equipment > 1)).any():
        out.append("schools: effort or equipment outside [0, 1]")
    if (ss.lag < -TOL).any():
        out.append("schools: negative curriculum lag")
    return out
