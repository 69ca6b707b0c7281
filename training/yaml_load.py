"""The one way likeness reads YAML (gate rules, registries, shows): strict, bounded, and able to say where.

PyYAML on its own keeps the last of two equal keys without a word, recurses once per nesting level (a file nested
20,000 deep raises RecursionError) and reports errors over several lines. Here:

- a duplicate key is refused, naming both lines;
- nesting deeper than `MAX_DEPTH` is refused before it can exhaust the stack;
- bad YAML is one line `FILE:LINE:COLUMN: ...` (1-based, as editors count);
- `load_yaml_positions` also returns where every entry starts, so checkers can point at the line of a bad value.

Errors are raised as the caller's class (`UsageError` for a file the user names on the command line, `DataError`
for one likeness wrote and reads back).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from training.errors import LikenessError, UsageError

MAX_DEPTH = 64  # far deeper than any config likeness reads; far shallower than Python's recursion limit
MERGE_TAG = "tag:yaml.org,2002:merge"

KeyPath = tuple[Any, ...]  # ("persons", "ana", "fid_max"), ("windows", 3)


class _Refused(yaml.MarkedYAMLError):
    """A rule of ours broken at a place in the file (raised inside PyYAML, turned into one line below)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that counts nesting while composing and refuses duplicate keys while constructing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        nests = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        self._depth += nests
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(problem=f"nested more than {MAX_DEPTH} levels deep",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= nests

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            _refuse_duplicates(self, node)
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicates(loader: yaml.SafeLoader, node: MappingNode) -> None:
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in first_line:
            raise _Refused(problem=f"the key {key!r} appears twice (lines {first_line[key]} and {line}); keep one",
                           problem_mark=key_node.start_mark)
        first_line[key] = line


@dataclass
class Positioned:
    """Parsed YAML with the (line, column) where each entry starts: a mapping entry at its key, a list item at the
    item. Both 1-based; the document itself is the empty path."""

    path: Path
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(repr=False)

    def where(self, *keys: Any) -> str:
        """`FILE:LINE:COLUMN` of the entry at `keys`, or of its nearest enclosing entry that has a position."""
        keys_t = tuple(keys)
        while keys_t and keys_t not in self.positions:
            keys_t = keys_t[:-1]
        line, column = self.positions.get(keys_t, (1, 1))
        return f"{self.path}:{line}:{column}"


def _positions(loader: yaml.SafeLoader, root: Node | None) -> dict[KeyPath, tuple[int, int]]:
    """Walk the composed node tree once; an aliased node is visited only at its first path (no alias blow-up)."""
    if root is None:
        return {(): (1, 1)}
    out: dict[KeyPath, tuple[int, int]] = {}
    seen: set[int] = set()
    stack: list[tuple[KeyPath, Node, Any]] = [((), root, root.start_mark)]
    while stack:
        keys, node, mark = stack.pop()
        out.setdefault(keys, (mark.line + 1, mark.column + 1))
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in reversed(node.value):  # reversed: popped in document order
                if isinstance(key_node, ScalarNode) and key_node.tag != MERGE_TAG:
                    stack.append(((*keys, loader.construct_object(key_node)), value_node, key_node.start_mark))
        elif isinstance(node, SequenceNode):
            for i in reversed(range(len(node.value))):
                stack.append(((*keys, i), node.value[i], node.value[i].start_mark))
    return out


def _one_line(path: Path, err: yaml.YAMLError, text: str) -> str:
    """`FILE:LINE:COLUMN: what` from any PyYAML error."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(err, yaml.reader.ReaderError):
        before = text[:err.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    else:
        line, column = 1, 1
    if isinstance(err, yaml.reader.ReaderError):
        code = err.character if isinstance(err.character, int) else ord(err.character)
        what = f"the character U+{code:04X} is not allowed in YAML"
    else:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        context = getattr(err, "context", None)
        what = f"{context}: {problem}" if context and not isinstance(err, _Refused) else problem
    if not isinstance(err, _Refused):
        what = f"not valid YAML: {what}"
    return f"{path}:{line}:{column}: {' '.join(str(what).split())}"


def load_yaml_positions(path: str | os.PathLike, *, error: type[LikenessError] = UsageError,
                        hint: str = "fix the file") -> Positioned:
    """Parse one YAML document from `path`; any problem is one `error` line `FILE:LINE:COLUMN: what; hint`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise error(f"{path}: cannot be read ({err.strerror}); {hint}") from None
    loader = None
    try:
        loader = _StrictLoader(text)  # checks the characters at once
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
        positions = _positions(loader, root)
    except yaml.YAMLError as err:
        raise error(f"{_one_line(path, err, text)}; {hint}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return Positioned(path, data, positions)


def load_yaml(path: str | os.PathLike, *, error: type[LikenessError] = UsageError, hint: str = "fix the file") -> Any:
    """Just the data of `load_yaml_positions`."""
    return load_yaml_positions(path, error=error, hint=hint).data
