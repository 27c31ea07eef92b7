"""One exception tree for the core; entry points translate it."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Base of every error the core raises on purpose."""


class StoreUnavailable(BotError):
    """The shared store (Redis) did not answer; the request that needed it cannot be served now."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a knowledge or rule file."""

    path: str
    line: int | None
    key: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ConfigError(BotError):
    """Knowledge or rules failed validation; carries every problem found."""

    def __init__(self, problems: list[Problem], what: str = "the knowledge files") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {what}"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class RuleError(BotError):
    """A rule could not be evaluated (a bug in a rule that validation let through)."""


class InputError(BotError):
    """A request's input is unusable; the message is safe to show to the user."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)
