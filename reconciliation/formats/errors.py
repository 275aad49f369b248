"""The one error every statement parser raises."""

from __future__ import annotations


class StatementError(ValueError):
    """A statement file that cannot be parsed completely; never a partial result.

    `problems` holds one human message per problem, each naming the file (CSV rows as
    `FILE:LINE: column: reason`); `str()` joins them one per line.
    """

    def __init__(self, problems: str | list[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
