"""The economics of a trainee slot: costs, output, retention and public money.

Design note
-----------
Pure functions over numpy arrays (one element per firm or per graduate); no
state, no randomness. The firm's decision (:mod:`sim.firms`), the placement
accounting (:mod:`sim.placement`) and the labour market (:mod:`sim.labour_market`)
all call these, so the expected and the realised value of a slot come from the
same formulas. The structure follows the cost-benefit surveys of firm-based
training (Muehlemann & Wolter 2014; BIBB; Ran & Shi 2020):

    net value of a slot = - (trainee pay + mentor time + equipment + admin + transaction cost)
                          + productive output during the placement
                          + P(retained) x (external hiring cost saved + rent from the retained graduate)
                          + subsidy actually paid + tax credit (capped by surcharge liability) + reputation

Engagement levels: 0 none, 1 shallow (hosting placements), 2 deep (mentors,
shared equipment, co-designed curriculum, joint projects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEKS_PER_MONTH = 52.0 / 12.0
WORKDAYS_PER_MONTH = 21.75
#: Trainee productivity never exceeds this share of a skilled worker's.
MAX_RELATIVE_PRODUCTIVITY = 0.95
#: Extra productive output of a trained hire over an external entry hire, as a
#: share of a skilled worker's labour cost (the firm captures part of it as rent
#: under wage compression; Acemoglu & Pischke 1998), by engagement level.
TRAINING_PRODUCTIVITY_GAIN = np.array([0.0, 0.06, 0.15])
#: Extra firm-specific productivity (share of skilled labour cost) when training
#: is built around the firm's own credential and pay ladder: specific skill the
#: firm keeps in full (Becker 1964), unlike general skill under compression.
LADDER_SPECIFIC_GAIN = 0.10
#: Effort each engagement level stands for (share of the full package:
#: placements; mentoring and equipment; curriculum and projects).
EFFORT_BY_LEVEL = np.array([0.0, 1.0 / 3.0, 1.0])


@dataclass(frozen=True, slots=True)
class SlotTerms:
    """Scenario-wide terms of a placement, resolved from the current parameters."""

    months: int
    pay_floor: float
    task_share: float
    productivity_start: float
    productivity_gain: float
    mentor_days: tuple[float, float, float]  # by level 0/1/2
    trainees_per_mentor: float
    mentor_wage_ratio: float
    equipment_per_month: float
    admin_per_trainee: float
    transaction_per_match: float  # after platform, entity and operating-body effects
    skilled_wage_ratio: float
    nonwage_share: float
    hiring_cost_weeks: float
    wage_compression: float
    discount_rate: float


def relative_productivity(terms: SlotTerms, quality: np.ndarray | float = 1.0) -> np.ndarray:
    """Trainee relative productivity in placement months 1..M (rows: months).

    Rises linearly from ``productivity_start`` by ``productivity_gain`` a month,
    scaled by the trainee's preparation ``quality`` and capped at 0.95
    (Muehlemann & Wolter 2014: 0.47 / 0.63 / 0.81 in years 2-4, technical).
    """
    m = np.arange(terms.months, dtype=float)[:, None]
    q = np.atleast_1d(np.asarray(quality, dtype=float))[None, :]
    return np.minimum(MAX_RELATIVE_PRODUCTIVITY, (terms.productivity_start + terms.productivity_gain * m) * q)


def task_share(terms: SlotTerms, production_motive: np.ndarray, level: np.ndarray | int) -> np.ndarray:
    """Share of placement time on productive work.

    Production-motive firms put trainees on productive work more (+0.10),
    investment-motive firms less (-0.10); deep engagement takes time for
    instruction (-0.05). Muehlemann & Wolter 2014 report 0.57 -> 0.90.
    """
    s = terms.task_share + np.where(production_motive, 0.10, -0.10) - 0.05 * (np.asarray(level) == 2)
    return np.clip(s, 0.05, 0.98)


def skilled_labour_cost(terms: SlotTerms, entry_wage: np.ndarray) -> np.ndarray:
    """Monthly labour cost of a skilled worker: the value of a unit of trainee output."""
    return entry_wage * terms.skilled_wage_ratio * (1.0 + terms.nonwage_share)


def monthly_cost(terms: SlotTerms, entry_wage: np.ndarray, level: np.ndarray | int) -> np.ndarray:
    """Running cost of one trainee for one month: pay + mentor time + equipment.

    Mentor time: ``mentor_days`` a week of a senior technician (``mentor_wage_ratio``
    x the entry wage, plus non-wage cost) shared among ``trainees_per_mentor``.
    """
    level = np.asarray(level)
    days = np.asarray(terms.mentor_days)[level]
    mentor_daily = entry_wage * terms.mentor_wage_ratio * (1.0 + terms.nonwage_share) / WORKDAYS_PER_MONTH
    mentor = days * WEEKS_PER_MONTH * mentor_daily / terms.trainees_per_mentor
    pay = terms.pay_floor * entry_wage
    return pay + mentor + terms.equipment_per_month


def upfront_cost(terms: SlotTerms) -> float:
    """One-off cost per trainee: admin and the transaction cost of the match."""
    return terms.admin_per_trainee + terms.transaction_per_match


def monthly_output(terms: SlotTerms, entry_wage: np.ndarray, production_motive: np.ndarray,
                   level: np.ndarray | int, firm_productivity: np.ndarray,
                   quality: np.ndarray | float = 1.0) -> np.ndarray:
    """Value of one trainee's productive output in each placement month (months x firms)."""
    rp = relative_productivity(terms, quality)
    ts = task_share(terms, production_motive, level)
    return rp * (ts * skilled_labour_cost(terms, entry_wage) * firm_productivity)[None, :]


def placement_net_benefit(terms: SlotTerms, entry_wage: np.ndarray, production_motive: np.ndarray,
                          level: np.ndarray | int, firm_productivity: np.ndarray,
                          quality: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-trainee (output, gross cost) over the whole placement, before public money.

    Net benefit during training = output - cost; BIBB reports output covering
    about 2/3 of gross cost in Germany, Ran & Shi (2020) find more than 40% of
    Chinese hosts losing money (break-even month 4, payback month 8).
    """
    out = monthly_output(terms, entry_wage, production_motive, level, firm_productivity, quality).sum(axis=0)
    cost = monthly_cost(terms, entry_wage, level) * terms.months + upfront_cost(terms)
    return out, cost


def break_even_month(terms: SlotTerms, entry_wage: float, production_motive: bool, level: int,
                     firm_productivity: float = 1.0, horizon: int = 24) -> tuple[int | None, int | None]:
    """(first month with output >= running cost, first month cumulative net >= 0), 1-based.

    Computed over ``horizon`` months as if the placement continued, to compare
    with Ran & Shi (2020): break-even month 4, payback month 8.
    """
    t = SlotTerms(**{**{f: getattr(terms, f) for f in terms.__slots__}, "months": horizon})
    w = np.array([entry_wage])
    out = monthly_output(t, w, np.array([production_motive]), level, np.array([firm_productivity]))[:, 0]
    run = monthly_cost(t, w, level)[0]
    net = out - run
    cum = np.cumsum(net) - upfront_cost(t)
    be = int(np.argmax(net >= 0)) + 1 if (net >= 0).any() else None
    pb = int(np.argmax(cum >= 0)) + 1 if (cum >= 0).any() else None
    return be, pb


def hiring_cost(terms: SlotTerms, entry_wage: np.ndarray) -> np.ndarray:
    """External cost of hiring a skilled worker (BIBB 2012/13: 10-17 weeks of wages)."""
    return terms.hiring_cost_weeks / WEEKS_PER_MONTH * entry_wage * terms.skilled_wage_ratio


def expected_tenure_months(monthly_hazard: np.ndarray, horizon: int = 24) -> np.ndarray:
    """Expected months a retained graduate stays, within ``horizon``, at a constant hazard."""
    h = np.clip(monthly_hazard, 1e-9, 1.0)
    return (1.0 - (1.0 - h) ** horizon) / h


def retention_value(terms: SlotTerms, entry_wage: np.ndarray, level: np.ndarray | int,
                    monthly_hazard: np.ndarray, wage_premium: np.ndarray | float = 0.0,
                    on_ladder: np.ndarray | float = 0.0) -> np.ndarray:
    """Value to the trainer of one retained graduate: hiring cost saved + rent.

    Rent: the trained hire's extra general productivity (:data:`TRAINING_PRODUCTIVITY_GAIN`,
    share of skilled labour cost) that wage compression lets the firm keep
    (Acemoglu & Pischke 1998, 1999), plus, on a firm's own credential ladder,
    firm-specific productivity it keeps in full (:data:`LADDER_SPECIFIC_GAIN`; deep
    engagement only: specific skill needs mentors and a co-designed curriculum),
    minus ``wage_premium`` (share of the entry wage) it pays above its compressed
    wage: its pay-ladder step, or the outside bid for a recognised credential it
    must match (:func:`sim.labour_market.host_premium`; Acemoglu & Pischke 2000),
    over the expected tenure, discounted.
    """
    gain = TRAINING_PRODUCTIVITY_GAIN[np.asarray(level)]
    slc = skilled_labour_cost(terms, entry_wage)
    specific = LADDER_SPECIFIC_GAIN * np.asarray(on_ladder, dtype=float) * (np.asarray(level) == 2)
    rent_per_month = (terms.wage_compression * gain + specific) * slc - wage_premium * entry_wage
    tenure = expected_tenure_months(monthly_hazard)
    discount = 1.0 / (1.0 + terms.discount_rate) ** (tenure / 24.0)
    return hiring_cost(terms, entry_wage) + rent_per_month * tenure * discount


def tax_credit(offset: float, qualifying_investment: np.ndarray, liability: np.ndarray,
               refundable: bool) -> np.ndarray:
    """产教融合型企业 credit: ``offset`` x qualifying investment, capped by the surcharge liability.

    2019 policy: 30% of qualifying investment against education surcharges;
    the cap makes the credit worth little to small firms with small liabilities.
    """
    credit = offset * np.maximum(qualifying_investment, 0.0)
    return credit if refundable else np.minimum(credit, liability)


def logistic(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def survival(monthly_hazard: np.ndarray, months: int) -> np.ndarray:
    """Probability of staying ``months`` at a constant monthly hazard."""
    return (1.0 - np.clip(monthly_hazard, 0.0, 1.0)) ** months
