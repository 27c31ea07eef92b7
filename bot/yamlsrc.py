"""YAML reading that remembers where every value came from, for error messages."""

from __future__ import annotations

import difflib
import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem

Loc = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed YAML file: its data and the line of every key path."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of the deepest known prefix of `loc` (1-based)."""
        key = tuple(loc)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], twice: list[tuple[Loc, int, int]]) -> None:
    """Record the line of every key path, and every key written twice in one mapping (its path, its line
    and the line of its first use)."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*loc, key_node.value)
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    twice.append((child, line, seen[key_node.value]))
                seen.setdefault(key_node.value, line)
                lines[child] = line
                _walk(value_node, child, lines, twice)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines, twice)


class _NoSuchDay(yaml.constructor.ConstructorError):
    """An unquoted date the calendar does not have (2025-02-30), which PyYAML reports as a bare ValueError."""


class _Loader(yaml.SafeLoader):
    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            raise _NoSuchDay(None, None, f"{node.value} is not a day of the calendar",
                             node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def knowledge_files(directory: Path, *patterns: str) -> list[Path]:
    """The files of `directory` that match `patterns` (each sorted), without an editor's leftovers.

    A name starting with a dot is an editor's lock or backup, never knowledge: Emacs locks virusbuster.yaml with a
    dangling symbolic link `.#virusbuster.yaml`, LibreOffice and others copy it to `.~adobe-vip.yaml`; a name ending
    in `~` is a backup too. Loaded, a backup defined every entry twice and a lock file stopped the loader.
    """
    return [path for pattern in patterns for path in sorted(directory.glob(pattern))
            if not path.name.startswith(".") and not path.name.endswith("~")]


def read_file(path: Path, display: str | None = None) -> tuple[bytes | None, list[Problem]]:
    """The bytes of one file, or the Problem that stops them being read, never an exception.

    Not a regular file: a directory named x.yaml, a symbolic link to nothing (Emacs's lock `.#x.yaml` points at
    user@host.pid) or to itself; the OS error for the rest (no permission, no such file).
    """
    name = display or str(path)
    moved = "move it out of the folder, or rename it so it does not end in .yaml"
    try:
        found = os.stat(path)  # follows a link
        if stat.S_ISREG(found.st_mode):
            return path.read_bytes(), []
    except OSError as exc:
        if path.is_symlink() and exc.errno in (errno.ENOENT, errno.ELOOP):
            what = "that loops" if exc.errno == errno.ELOOP else "to a file that does not exist"
            return None, [Problem(name, None, "", f"not a regular file: a symbolic link {what} "
                                  f"('{_link_target(path)}')", moved)]
        return None, [Problem(name, None, "", f"cannot read the file: {exc.strerror or exc}")]
    what = "a directory" if stat.S_ISDIR(found.st_mode) else "a device, pipe or socket"
    return None, [Problem(name, None, "", f"not a regular file: {what}", moved)]


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # gone since
        return "?"


def decode(raw: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text, or a Problem naming the line and column of the first byte that is not UTF-8 (a file saved as
    Shift_JIS: the decoder's own message gave only its offset, 「position 66329」)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[raw.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8")) + 1  # UTF-8 up to there
        return None, [Problem(name, line, "", f"cannot read the file: byte 0x{raw[exc.start]:02X} at column "
                              f"{column} is not UTF-8", "save the file as UTF-8 (not Shift_JIS)")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []  # line ends as text mode reads them


def read_yaml(path: Path, display: str | None = None) -> tuple[Source | None, list[Problem]]:
    """Read and parse one file; see `parse_yaml`."""
    name = display or str(path)
    raw, problems = read_file(path, name)
    return (None, problems) if raw is None else parse_yaml(raw, name)


def parse_yaml(raw: bytes, name: str) -> tuple[Source | None, list[Problem]]:
    """Parse one file's bytes; text that is not UTF-8, a syntax error or an impossible date becomes a Problem with
    its line, never an exception."""
    text, problems = decode(raw, name)
    if text is None:
        return None, problems
    try:
        loader = _Loader(text)  # the reader checks every character here: a control character stops it
    except yaml.reader.ReaderError as exc:
        at, code = text.count("\n", 0, exc.position) + 1, f"{exc.character:04X}"
        return None, [Problem(name, at, "", f"invalid YAML: the control character U+{code} is not allowed",
                              f'remove it, or write it as "\\u{code}" inside double quotes')]
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        hint = ("write a day the calendar has" if isinstance(exc, _NoSuchDay) else "check indentation and quoting")
        return None, [Problem(name, line, "", f"invalid YAML: {what}", hint)]
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    twice: list[tuple[Loc, int, int]] = []
    if node is not None:
        _walk(node, (), lines, twice)
    if twice:
        return None, [Problem(name, line, dotted(loc), f"duplicate key: '{loc[-1]}' is also on line {first}",
                              "keep one: YAML would silently keep the last") for loc, line, first in twice]
    return Source(name, data, lines), []


def dotted(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(src: Source, model: type[BaseModel], loc: Loc = ()) -> tuple[Any, list[Problem]]:
    """Validate `src.data` (or the part at `loc`) with a pydantic model; every error becomes a Problem."""
    data: Any = src.data
    for part in loc:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = (*loc, *err["loc"])
            hint = None
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                parent = _model_at(model, err["loc"][:-1])
                if parent is not None:
                    valid = list(parent.model_fields)
                    close = difflib.get_close_matches(str(err["loc"][-1]), valid, n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "valid keys: " + ", ".join(valid)
                message = "unknown key"
            elif err["type"] == "missing":
                message = "required key is missing"
            elif err["type"] == "list_type":  # say: '2025年6月30日まで' was checked letter by letter
                message = "expected a list"
                hint = "write a list, even of one item: [like this]"
            problems.append(Problem(src.path, src.line(where), dotted(where), message, hint))
        return None, problems


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The nested model class that sits at `loc` inside `model`, if any."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = info.annotation
        args = getattr(current, "__args__", None)
        if args:
            current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def close_match(name: str, valid: Iterable[str]) -> str | None:
    """A hint naming the nearest valid name, for typos."""
    found = difflib.get_close_matches(name, list(valid), n=1)
    return f"did you mean '{found[0]}'?" if found else None
