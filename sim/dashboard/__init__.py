"""The classroom dashboard: a browser app on Mesa and Solara (``consim dashboard``).

Modules: :mod:`~sim.dashboard.app` (the page), :mod:`~sim.dashboard.serve`
(the command), :mod:`~sim.dashboard.runs` (a run and its same-seed reference),
:mod:`~sim.dashboard.views` (network and charts) and :mod:`~sim.dashboard.i18n`
(English and Chinese). Only ``serve`` is imported by the command line; the
page is imported by Solara's server.
"""
