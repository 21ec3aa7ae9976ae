"""Government departments: budgets, subsidy claims, credits and evaluation.

Design note
-----------
One Mesa agent (:class:`Government`) holds the departments' ledgers
(education, industry, human resources, finance). Money is conserved: every
yuan claimed is paid, pending, refused for lack of budget, or refused for
missing cross-department data; payments never exceed the year's budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ConsortiumModel


@dataclass
class Ledger:
    """Cumulative money flows, yuan."""

    claimed: float = 0.0
    approved: float = 0.0
    refused_budget: float = 0.0
    refused_coordination: float = 0.0
    paid: float = 0.0
    credits: float = 0.0
    special_requested: float = 0.0
    special_approved: float = 0.0
    special_spent: float = 0.0
    pending: list[tuple[int, int, float]] = field(default_factory=list)  # (due step, firm, amount)

    @property
    def pending_total(self) -> float:
        """Approved but not yet paid."""
        return float(sum(a for _, _, a in self.pending))


class Government(Agent):
    """City government departments (education, industry, HR, finance).

    Rule: each September finance approves the consortium's special-fund request
    at the approval ratio (about 30%, the study), adjusted by last year's
    performance evaluation (dynamic management), and sets the subsidy budget;
    education spends 60% of special funds on school equipment; the rest
    runs the consortium (not modelled further: the platform and operating body
    are policy levers of their own). Subsidy claims are checked (imperfect
    cross-department coordination refuses a share of valid claims), approved
    while the year's budget lasts and paid after a disbursement lag. HR and
    education run credentials; tax credits are granted to certified deep
    partners (产教融合型企业) against their surcharge liability.
    """

    kind = "government"

    def __init__(self, model: ConsortiumModel) -> None:
        super().__init__(model)
        self.ledger = Ledger()
        self.subsidy_budget_left = 0.0
        self.subsidy_budget_year = 0.0
        self.special_funds_year = 0.0
        self.evaluation_score = 0.5
        self.paid_this_step = 0.0
        self.paid_by_firm = np.zeros(model.firm_state.n)
        self.claims_paid_share = 1.0

    def start_year(self) -> None:
        """Approve special funds and open the subsidy budget."""
        p = self.model.p
        ratio = _clip01(p["policy.funding.approval_ratio"] * (0.8 + 0.4 * self.evaluation_score))
        request = p["policy.funding.request"]
        self.special_funds_year = request * ratio
        self.ledger.special_requested += request
        self.ledger.special_approved += self.special_funds_year
        self.ledger.special_spent += self.special_funds_year  # spent within the year on equipment and operation
        self.subsidy_budget_year = p["policy.subsidy.annual_budget"]
        self.subsidy_budget_left = self.subsidy_budget_year
        self._approved_year = 0.0
        self._claimed_year = 0.0

    def processing_share(self) -> float:
        """Share of valid claims that clear the cross-department checks."""
        return 0.6 + 0.4 * self.model.p["government.coordination"]

    def claim(self, firms: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        """Firms claim reimbursement; returns the amount approved per claim (paid later)."""
        amounts = np.maximum(np.asarray(amounts, dtype=float), 0.0)
        total = float(amounts.sum())
        if total <= 0:
            return np.zeros_like(amounts)
        self.ledger.claimed += total
        self._claimed_year += total
        processed = amounts * self.processing_share()
        self.ledger.refused_coordination += total - float(processed.sum())
        approved = np.zeros_like(processed)
        # claims are approved in random order until the budget is exhausted
        order = self.model.rng.permutation(len(processed))
        cum = np.cumsum(processed[order])
        fits = cum <= self.subsidy_budget_left + 1e-9
        approved[order[fits]] = processed[order[fits]]
        # the first claim that does not fit gets what is left
        if not fits.all():
            first = order[np.argmin(fits)]
            rest = self.subsidy_budget_left - float(approved.sum())
            approved[first] = max(0.0, min(processed[first], rest))
        got = float(approved.sum())
        self.subsidy_budget_left -= got
        self.ledger.approved += got
        self.ledger.refused_budget += float(processed.sum()) - got
        self._approved_year += got
        due = self.model.steps + self.model.p["government.disbursement_lag_months"]
        for f, a in zip(firms[approved > 0], approved[approved > 0], strict=True):
            self.ledger.pending.append((due, int(f), float(a)))
        if self._claimed_year > 0:
            self.claims_paid_share = self._approved_year / self._claimed_year
        return approved

    def grant_credits(self, firms: np.ndarray, amounts: np.ndarray) -> None:
        """Tax credits (a tax expenditure, outside the subsidy budget)."""
        amounts = np.maximum(amounts, 0.0)
        self.ledger.credits += float(amounts.sum())
        np.add.at(self.paid_by_firm, firms, amounts)
        self.paid_this_step += float(amounts.sum())

    def step(self) -> None:
        """Pay claims that fall due this month."""
        now = self.model.steps
        due = [c for c in self.ledger.pending if c[0] <= now]
        if due:
            self.ledger.pending = [c for c in self.ledger.pending if c[0] > now]
            for _, f, a in due:
                self.paid_by_firm[f] += a
                self.ledger.paid += a
                self.paid_this_step += a

    def evaluate(self, participation: float, active_share: float) -> None:
        """Yearly performance evaluation of the consortium (dynamic management)."""
        self.evaluation_score = _clip01(0.5 * participation + 0.5 * active_share)


def _clip01(x: float) -> float:
    """``float(np.clip(x, 0.0, 1.0))`` for a number, without numpy's per-call overhead (NaN and -0.0 stay)."""
    x = float(x)
    if x < 0.0:
        return 0.0
    return 1.0 if x > 1.0 else x
