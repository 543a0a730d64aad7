"""The one exception type for bad user input.

Every layer raises :class:`InputError` for input a user can fix; the CLI turns it into a single line on
stderr and exit status 2, the web API into a 4xx response. Anything else escaping is a bug.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input a user can fix. ``field`` names the offending setting (dotted key), when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class Interrupted(BaseException):
    """A signal asked the command to stop (SIGINT, SIGTERM, SIGHUP). A BaseException, like
    KeyboardInterrupt, so that no ``except Exception`` swallows it and every ``finally`` runs: partial
    files are removed and worker processes stopped on the way out."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)
