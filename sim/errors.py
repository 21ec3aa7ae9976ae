"""Exception types shared by the command line and the packages.

An :class:`InputError` (and its subclass :class:`sim.scenario.ScenarioError`)
means the user's input is wrong: the command line prints its message, which
names the file, the key and what is allowed, and exits with status 2, without a
traceback. Any other exception is an internal failure (exit status 1).
"""


class InputError(ValueError):
    """Bad user input (file, key, value or command-line usage); exit status 2."""
