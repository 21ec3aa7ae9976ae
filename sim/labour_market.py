"""The local labour market: offers at graduation, quits, poaching and retention.

Design note
-----------
Graduates are arrays (:class:`sim.students.Graduates`), not agents. At
graduation each host offers jobs to its best trainees up to its vacancies; a
graduate accepts when the host's wage, plus attachment and the cost of moving,
beats the best alternative: an offer from a same-sector competitor (the
poaching channel, Stevens 1994) or leaving the city. Others are hired by
sector and skill into the remaining vacancies. Each month an employed
graduate may quit (leave the city's firms) or be hired away by a competitor.

Retention falls with the outside-wage gap, the number of competitors and the
credential's portability; it rises with wage compression, mobility costs, a
pay ladder tied to the credential and mentor attachment (Becker 1964;
Acemoglu & Pischke 1998, 1999, 2000; MyCOS turnover). Platform transparency
raises both the chance of an outside offer and the poaching hazard, separately
from placement matching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.economics import logistic

#: Utility of staying with the host, by engagement level: a mentor's attention
#: and firm-specific skills bind the graduate (assumption).
ATTACHMENT = np.array([0.0, 0.2, 0.8])
#: Offer rate to trainees, production- vs investment-motive hosts (Muehlemann & Wolter 2014).
OFFER_RATE = {True: 0.6, False: 0.9}
#: Sensitivity of acceptance to the relative wage gap (per unit of entry wage).
WAGE_SENSITIVITY = 10.0
#: Exposure months that turn a monthly poaching hazard into an offer at graduation.
OFFER_EXPOSURE_MONTHS = 6.0
#: Wage return to skill above the typical graduate's, before compression.
SKILL_WAGE_RETURN = 0.3
#: Months a graduate is tracked after graduation.
TRACK_MONTHS = 24


@dataclass(frozen=True, slots=True)
class MarketTerms:
    """Scenario-wide labour-market terms, resolved from the current parameters."""

    compression: float
    transparency: float
    poaching_intensity: float
    base_quit_hazard: float
    outside_wage_premium: float
    mobility_cost: float
    credential_mode: str
    portability: float
    ladder_premium: float
    credential_wage_premium: float


def poaching_pressure(terms: MarketTerms) -> float:
    """Monthly hazard one competitor adds for a typical trained graduate.

    Transparency makes graduates visible to every employer; wage compression
    removes the wage gain from moving (Acemoglu & Pischke 1999).
    """
    return terms.poaching_intensity * (0.25 + 0.75 * terms.transparency) * (1.0 - terms.compression)


def recognition(terms: MarketTerms) -> float:
    """How far outside employers value a credential (0 when there is none)."""
    return 0.0 if terms.credential_mode == "none" else terms.portability


def credential_premium(terms: MarketTerms, credential: np.ndarray | float) -> np.ndarray | float:
    """Share of the wage every outside employer adds for a credential, as far as it recognises it.

    Certification makes the certified skill visible to outside employers, who
    bid for it (Acemoglu & Pischke 2000): ``credential_wage_premium x recognition x credential``.
    """
    return terms.credential_wage_premium * recognition(terms) * credential


def outside_wage(terms: MarketTerms, market_wage: np.ndarray, skill: np.ndarray,
                 credential: np.ndarray) -> np.ndarray:
    """Wage an outside local employer offers: pays for general skill and recognised credentials."""
    skill_part = (1.0 - terms.compression) * SKILL_WAGE_RETURN * (skill - 1.0)
    cred_part = credential_premium(terms, credential)
    return market_wage * (1.0 + skill_part + cred_part)


def coastal_wage(terms: MarketTerms, market_wage: np.ndarray | float,
                 credential: np.ndarray | float = 0.0) -> np.ndarray | float:
    """Wage a graduate expects from leaving the city: the coastal premium, plus a recognised credential's."""
    return market_wage * (1.0 + terms.outside_wage_premium + credential_premium(terms, credential))


def host_premium(terms: MarketTerms, on_ladder: np.ndarray | float,
                 credential: np.ndarray | float = 0.0) -> np.ndarray:
    """Share of its compressed wage the trainer adds for a retained graduate.

    Its pay-ladder step, or, if larger, the outside employers' bid for the
    recognised credential, which the trainer must match to keep the graduate
    (Acemoglu & Pischke 2000: the certified part of skill is no longer
    compressed, and the trainer's rent on it goes to the worker).
    """
    return np.maximum(terms.ladder_premium * on_ladder, credential_premium(terms, credential))


def host_wage(terms: MarketTerms, wage: np.ndarray, on_ladder: np.ndarray,
              credential: np.ndarray | float = 0.0) -> np.ndarray:
    """Wage the trainer pays its retained graduate: compressed, plus :func:`host_premium`."""
    return wage * (1.0 + host_premium(terms, on_ladder, credential))


def monthly_hazards(terms: MarketTerms, competitors: np.ndarray, on_ladder: np.ndarray,
                    attachment_level: np.ndarray, credential: np.ndarray,
                    skill: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(quit hazard, poach hazard) per month for employed graduates.

    Quits and poaching both fall with a pay ladder (leaving gives up the
    ladder's pay step) and with mentor attachment; poaching falls further
    because a competitor matches the pay step only as far as it recognises the
    credential; poaching grows with competitors, skill and a portable credential.
    """
    stay = np.exp(-6.0 * terms.ladder_premium * on_ladder - 0.5 * ATTACHMENT[attachment_level])
    quit = terms.base_quit_hazard * stay
    pull = 1.0 + 1.5 * recognition(terms) * credential
    # a competitor matches the ladder's pay step only as far as it recognises the credential
    unmatched = np.exp(-6.0 * terms.ladder_premium * on_ladder * (1.0 - recognition(terms)))
    poach = competitors * poaching_pressure(terms) * pull * np.clip(skill, 0.3, 2.0) * stay * unmatched
    return np.clip(quit, 0.0, 0.9), np.clip(poach, 0.0, 0.9)


def hazard_factors(terms: MarketTerms) -> tuple[np.ndarray, np.ndarray]:
    """The two exp factors of :func:`monthly_hazards` as tables: ``(stay[ladder, level], unmatched[ladder])``.

    ``ladder`` is 0 or 1 (on_ladder), ``level`` the attachment level; each
    element is numpy's ``exp`` of the argument :func:`monthly_hazards` forms,
    so a table lookup gives the same bits as the elementwise call (used by the
    compiled turnover and firm-decision kernels).
    """
    ladder = np.array([0.0, 1.0])
    stay = np.exp(-6.0 * terms.ladder_premium * ladder[:, None] - 0.5 * ATTACHMENT[None, :])
    unmatched = np.exp(-6.0 * terms.ladder_premium * ladder * (1.0 - recognition(terms)))
    return stay, unmatched


def acceptance_probability(terms: MarketTerms, host_w: np.ndarray, alternative_w: np.ndarray,
                           market_wage: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Probability a graduate accepts the host's offer against the best alternative wage."""
    gap = (host_w - alternative_w) / market_wage + terms.mobility_cost
    return logistic(WAGE_SENSITIVITY * gap + ATTACHMENT[level])


def outside_offer_probability(terms: MarketTerms, competitors: np.ndarray,
                              credential: np.ndarray | float = 0.0) -> np.ndarray:
    """Chance a trainee has a local competitor's offer in hand at graduation."""
    _, poach = monthly_hazards(terms, competitors, np.zeros_like(competitors), np.zeros(np.shape(competitors), dtype=int),
                               np.broadcast_to(credential, np.shape(competitors)))
    return 1.0 - np.exp(-OFFER_EXPOSURE_MONTHS * poach)


def expected_retention(terms: MarketTerms, *, wage: np.ndarray, market_wage: np.ndarray,
                       competitors: np.ndarray, production_motive: np.ndarray, level: int,
                       on_ladder: np.ndarray, offer_capacity: np.ndarray, credential_share: float) -> np.ndarray:
    """A firm's model-consistent expectation that a trainee is still there a year after graduation.

    P(offer) x P(accept | alternatives) x P(no quit and no poach for 12 months),
    for a typical graduate (skill 1, credential with ``credential_share``).
    """
    n = len(wage)
    lvl = np.full(n, level)
    cred = np.full(n, credential_share)
    p_offer = np.minimum(1.0, offer_capacity) * np.where(production_motive, OFFER_RATE[True], OFFER_RATE[False])
    p_out = outside_offer_probability(terms, competitors, cred)
    hw = host_wage(terms, wage, on_ladder, cred)
    coastal = coastal_wage(terms, market_wage, cred)
    local = np.maximum(outside_wage(terms, market_wage, np.ones(n), cred), coastal)
    accept = (1 - p_out) * acceptance_probability(terms, hw, coastal, market_wage, lvl) \
        + p_out * acceptance_probability(terms, hw, local, market_wage, lvl)
    quit, poach = monthly_hazards(terms, competitors, on_ladder, lvl, cred)
    return p_offer * accept * (1.0 - quit - poach).clip(0, 1) ** 12
