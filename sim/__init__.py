"""consortium-sim: an agent-based model of city-level industry-education consortia (市域产教联合体).

Public API::

    from sim import Scenario, run
    sc = Scenario.load("baseline")
    res = run(sc, seed=7)
    res.summary, res.timeseries, res.model
"""

from sim.errors import InputError
from sim.indicators import INDICATORS
from sim.parameters import PARAMETERS
from sim.run import Result, run
from sim.scenario import Scenario, ScenarioError

__all__ = ["INDICATORS", "PARAMETERS", "InputError", "Result", "Scenario", "ScenarioError", "run"]
__version__ = "0.1.0"
