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
    line: int = 0


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
    return result


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = str(node.value).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:  # .inf / .nan
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


def load_yaml(path: Path | str, display: str | None = None, text: str | None = None
              ) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; return (data, problems). A syntax error is a problem, not a traceback."""
    shown = display or str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, [Problem(shown, f"cannot read the file: {exc}", "check the path and encoding (UTF-8)")]
    loader = _Loader(text)
    loader.problems = []
    loader.path = shown
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark else shown
        what = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(where, f"YAML syntax error: {what}",
                              "fix the indentation or quoting at that line (values with ':' need quotes)")]
    finally:
        loader.dispose()
    return data, loader.problems
