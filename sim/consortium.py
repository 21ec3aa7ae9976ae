"""The consortium (市域产教联合体) as an institution.

Design note
-----------
The consortium is not a decision-maker but a set of rules that change what
the members face. It is a Mesa agent so that it can be inspected and drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ConsortiumModel


class Consortium(Agent):
    """The consortium's legal status, council, platform, IP rules and operating body.

    Rule: a registered entity (which can hold assets and sign contracts)
    lowers the transaction cost per match, pools equipment (lowering the fixed
    cost of deep engagement) and binds members to cost-sharing and IP
    agreements; a council only convenes, so firms "attend, not decide"
    (the study: 非法人化). Firm voice raises the obligation firms feel and the
    weight of their curriculum input. IP contracts make joint projects start
    and pay the firm. An operating body lowers transaction costs further. The
    platform's placement matching cuts search cost and widens the partners a
    school can reach; its graduate transparency is a separate lever acting in
    the labour market.
    """

    kind = "consortium"

    def __init__(self, model: ConsortiumModel) -> None:
        super().__init__(model)

    @property
    def p(self) -> dict:
        """The model's current parameters."""
        return self.model.p

    @property
    def is_entity(self) -> bool:
        """Whether the consortium is a registered entity (legal person)."""
        return self.p["policy.governance.legal_status"] == "registered_entity"

    def transaction_factor(self) -> float:
        """Transaction cost per match relative to a council without platform or operating body."""
        f = 1.0 - 0.6 * self.p["policy.platform.placement_matching"]
        if self.is_entity:
            f *= self.p["policy.governance.entity_transaction_factor"]
        if self.p["policy.governance.operating_body"]:
            f *= 0.8
        return f

    def deep_cost_factor(self) -> float:
        """Fixed cost of deep engagement relative to a council: pooled equipment, settled cost sharing."""
        f = 1.0
        if self.is_entity:
            f *= 0.7
        return f * (1.0 - 0.3 * self.p["policy.governance.firm_voice"])

    def obligation_factor(self) -> float:
        """How much members feel bound: firms that decide feel more bound; an entity binds by contract."""
        return (0.5 + self.p["policy.governance.firm_voice"]) * (1.3 if self.is_entity else 1.0)

    def ip_effectiveness(self) -> float:
        """0-1: how far IP ownership and returns are settled (contracts enforced better by an entity)."""
        if not self.p["policy.governance.ip_contracts"]:
            return 0.0
        return 1.0 if self.is_entity else 0.6

    def curriculum_voice(self) -> float:
        """Weight of deep partners' input in curriculum revisions."""
        return self.p["policy.governance.firm_voice"]

    def search_reach(self) -> float:
        """Chance a firm with unfilled slots reaches a school it has no tie with (platform widens it)."""
        reach = 0.25 + 0.75 * self.p["policy.platform.placement_matching"]
        if self.p["policy.governance.operating_body"]:
            reach = min(1.0, reach + 0.1)
        return reach

    def step(self) -> None:
        """The consortium has no behaviour of its own."""
