"""faqbot: a Japanese FAQ and support chatbot for subscription contracts and renewals."""

from .config import Settings
from .core import Answer, Bot, Suggestion, load_bot
from .errors import BotError, ConfigError, InputError, RuleError

__all__ = ["Answer", "Bot", "BotError", "ConfigError", "InputError", "RuleError", "Settings", "Suggestion", "load_bot"]
