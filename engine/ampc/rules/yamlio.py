"""YAML reading that keeps line numbers, refuses duplicate keys, reads numbers as exact decimals; file:line problems."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ampc.errors import Problem


class Located(dict):
    """A YAML mapping that remembers the line of the mapping and of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A YAML sequence that remembers its line and the line of each item (1-based)."""

    line: int = 0
    item_lines: tuple[int, ...] = ()

    def line_of_item(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(node: Any, key: Any = None) -> int:
    """The line of a node, or of one of its keys (0 when the node was not read from YAML)."""
    if isinstance(node, Located):
        return node.line_of(key) if key is not None else node.line
    return getattr(node, "line", 0) or 0


class Checker:
    """Collects problems for one file; every check names file:line, the key and the fix."""

    def __init__(self, path: str, problems: list[Problem] | None = None):
        self.path = path
        self.problems: list[Problem] = [] if problems is None else problems

    def at(self, node: Any, key: Any = None) -> str:
        line = line_of(node, key)
        return f"{self.path}:{line}" if line else self.path

    def add(self, node: Any, key: Any, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.at(node, key), message, fix, "" if key is None else str(key)))


class _Loader(yaml.SafeLoader):
    problems: list[Problem]
    path: str


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    merged: set = set()  # keys that came from a `<<:` merge; a key written here overrides them
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, Decimal)) and key is not None:
            key = str(key)
        if id(key_node) not in own:
            if key in result:
                continue  # an earlier merge already gave it; merges do not override each other here
            merged.add(key)
        elif key in merged:
            merged.discard(key)
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = line
            continue
        if key in result:
            loader.problems.append(Problem(
                f"{loader.path}:{line}", f"duplicate key '{key}' (first at line {result.key_lines[key]})",
                "remove one of the two; YAML keeps only the last, which would hide the first", str(key)))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = tuple(child.start_mark.line + 1 for child in node.value)
    return result


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = str(node.value).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:  # .inf / .nan
        return text


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """An integer; one longer than Python converts from text (4,300 digits) as an exact decimal,
    for the range checks to refuse with the fact's bound rather than a crash."""
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        text = str(node.value).replace("_", "")
        try:
            return Decimal(text)
        except ArithmeticError:
            return text


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date as a date; an impossible one (2023-02-30) stays text, for the checks to report."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(path: Path | str, display: str | None = None, text: str | None = None
              ) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; return (data, problems). A syntax error is a problem, not a traceback;
    so is a byte that is not UTF-8 or a character YAML refuses (binary garbage), each at its line."""
    shown = display or str(path)
    if text is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            return None, [Problem(shown, f"cannot read the file: {exc.strerror or exc}", "check the path")]
        try:
            # as read_text would give it: newlines made \n (PyYAML counts \r\n, \r and \n alike)
            text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError as exc:
            return None, [_not_utf8(shown, raw, exc)]
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses control characters (NUL, ...) here, before parsing
        loader.problems = []
        loader.path = shown
        data = loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        return None, [_unreadable_character(shown, text, exc)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark else shown
        what = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(where, f"YAML syntax error: {what}",
                              "fix the indentation or quoting at that line (values with ':' need quotes)")]
    finally:
        if loader is not None:
            loader.dispose()
    return data, loader.problems


_BINARY_FIX = ("remove the stray bytes at that line (binary data pasted or appended?), or save the file as "
               "UTF-8 text")


def _not_utf8(shown: str, raw: bytes, exc: UnicodeDecodeError) -> Problem:
    """Bytes that are not UTF-8, at the line they are on: the newlines in the bytes before them."""
    start = exc.start
    line = raw.count(b"\n", 0, start) + 1
    column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
    return Problem(f"{shown}:{line}", f"the file is not UTF-8 text: byte 0x{raw[start]:02x} at column {column} "
                   f"({exc.reason})", _BINARY_FIX)


def _unreadable_character(shown: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow in a file (a NUL, another control character), at its line."""
    position = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else 0
    name = "NUL" if code == 0 else "a control character"
    return Problem(f"{shown}:{line}", f"the file holds {name} (U+{code:04X}) at column {column}, which YAML "
                   "does not allow in text", _BINARY_FIX)
