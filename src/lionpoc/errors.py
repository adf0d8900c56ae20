"""The one exception type the command line turns into a clear sentence and a non-zero exit."""


class LionpocError(Exception):
    """A problem the user can fix (bad input, missing data, no network); the message says how."""
