"""Reading a show file: YAML with `include:`, every value kept with the file:line:column it was written at.

The show checker (installation/show_check.py) reports errors where they live, also inside included files, so the
file is read into `Node`s (a value plus `where`) rather than bare dicts. Two kinds of include:

- top level `include: [parts/look.yaml, ...]`: each file is a mapping of top-level keys; the including file's own
  keys win, and `defaults` mappings are merged key by key (nested mappings too);
- a scene list item `- include: parts/opening.yaml`: the file's scenes (a list, or a mapping with `scenes:`) are
  inserted there.

Paths are relative to the file that names them. An include cycle is refused at the include that closes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.errors import UsageError
from training.yaml_load import Positioned, load_yaml_positions

MAX_INCLUDE_DEPTH = 16


@dataclass
class Node:
    """A value read from a show file and where it was written. Mappings hold `dict[str, Node]`, lists
    `list[Node]`; `where` is `FILE:LINE:COLUMN` of the key (for a mapping entry) or of the item (for a list item)."""

    value: Any
    where: str

    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value without positions."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


@dataclass
class ShowSource:
    """The show file's merged tree, the files it read, and the problems found while reading (checked on later)."""

    root: Node
    path: Path
    text: str
    files: list[Path] = field(default_factory=list)
    named: list[Path] = field(default_factory=list)  # every file named, read or not (what `show --watch` polls)
    problems: list[str] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)  # absolute path -> text of every file read, show file first

    def included(self) -> tuple[tuple[str, str], ...]:
        """(path relative to the show file's folder, text) of every included file read, in reading order: with the
        show file's own text, enough to write the show out again elsewhere (export's sidecar records it)."""
        own = Path(os.path.abspath(self.path))
        base = own.parent
        return tuple((Path(os.path.relpath(path, base)).as_posix(), text)
                     for path, text in self.texts.items() if path != own)


def _to_node(doc: Positioned, data: Any, keys: tuple) -> Node:
    where = doc.where(*keys)
    if isinstance(data, dict):
        return Node({k: _to_node(doc, v, (*keys, k)) for k, v in data.items()}, where)
    if isinstance(data, list):
        return Node([_to_node(doc, v, (*keys, i)) for i, v in enumerate(data)], where)
    return Node(data, where)


def merge_under(base: Node, over: Node) -> Node:
    """`over` with `base` filling what it leaves out (mappings merged key by key; anything else: `over` wins)."""
    if not (base.is_map() and over.is_map()):
        return over
    merged = dict(base.value)
    for key, node in over.value.items():
        merged[key] = merge_under(merged[key], node) if key in merged else node
    return Node(merged, over.where)


class _Reader:
    def __init__(self, source: ShowSource) -> None:
        self.source = source

    def load(self, path: Path, chain: tuple[Path, ...], where: str | None, scenes: bool = False) -> Node | None:
        """One file as a Node, its own includes resolved (`scenes`: it is a scene include); None (with a problem
        recorded) when it cannot be read or closes a cycle."""
        resolved = path.resolve()
        self.source.named.append(path)
        if resolved in chain:
            loop = " -> ".join(p.name for p in (*chain[chain.index(resolved):], resolved))
            self.source.problems.append(f"{where}: include cycle {loop}; remove one of these includes")
            return None
        if len(chain) > MAX_INCLUDE_DEPTH:
            self.source.problems.append(f"{where}: includes nested more than {MAX_INCLUDE_DEPTH} deep; flatten them")
            return None
        if where is not None and not path.is_file():
            self.source.problems.append(f"{where}: the included file {path} does not exist; fix the path (it is "
                                        "relative to the file that includes it)")
            return None
        try:
            doc = load_yaml_positions(path, error=UsageError, hint="fix the show file")
        except UsageError as err:
            if where is None:
                raise
            self.source.problems.append(f"{err} (included at {where})")
            return None
        self.source.files.append(path)
        key = Path(os.path.abspath(path))
        if key not in self.source.texts:
            try:  # the parser keeps no text; export's provenance wants the file as it was read
                self.source.texts[key] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                self.source.problems.append(f"{where or doc.where()}: {path} changed while it was read ({err}); "
                                            "check again")
        node = _to_node(doc, doc.data, ())
        if scenes and node.is_list():
            return self.expand_scenes(node, path, (*chain, resolved))
        return self.expand(node, path, (*chain, resolved))

    def include_list(self, node: Node) -> list[Node]:
        if isinstance(node.value, str):
            return [node]
        if node.is_list() and all(isinstance(item.value, str) for item in node.value):
            return node.value
        self.source.problems.append(f"{node.where}: include must be a file name or a list of file names, such as "
                                    "`include: [parts/look.yaml]`")
        return []

    def expand(self, node: Node, path: Path, chain: tuple[Path, ...]) -> Node:
        """Resolve this file's top-level and scene-list includes."""
        if not node.is_map():
            return node
        own = dict(node.value)
        merged = Node({}, node.where)
        for item in self.include_list(own.pop("include")) if "include" in own else []:
            part = self.load(path.parent / item.value, chain, item.where)
            if part is None:
                continue
            if not part.is_map():
                self.source.problems.append(f"{part.where}: an included top-level part must be a mapping of show "
                                            f"keys (included at {item.where})")
                continue
            merged = merge_under(merged, part)
        result = merge_under(merged, Node(own, node.where))
        if "scenes" in own and own["scenes"].is_list():
            result.value["scenes"] = self.expand_scenes(own["scenes"], path, chain)
        return result

    def expand_scenes(self, scenes: Node, path: Path, chain: tuple[Path, ...]) -> Node:
        out: list[Node] = []
        for item in scenes.value:
            if not (item.is_map() and "include" in item.value):
                out.append(item)
                continue
            if len(item.value) > 1:
                others = ", ".join(k for k in item.value if k != "include")
                self.source.problems.append(f"{item.where}: a scene include stands alone; move {others} into the "
                                            "included file or into a scene of its own")
            for name in self.include_list(item.value["include"]):
                part = self.load(path.parent / name.value, chain, name.where, scenes=True)
                if part is None:
                    continue
                if part.is_map() and "scenes" in part.value:
                    part = part.value["scenes"]
                if not part.is_list():
                    self.source.problems.append(f"{part.where}: a scene include must hold a list of scenes (or "
                                                f"`scenes:` with one), included at {name.where}")
                    continue
                out.extend(part.value)
        return Node(out, scenes.where)


def read_show_source(path: str | Path) -> ShowSource:
    """The show file with its includes resolved; unreadable includes and cycles are recorded in `problems`.

    The show file itself not being there, or not being YAML, is a UsageError at once."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist; give a show file (examples are in shows/)")
    source = ShowSource(Node({}, f"{path}:1:1"), path, path.read_text(encoding="utf-8", errors="replace"))
    root = _Reader(source).load(path, (), None)
    if root is not None:
        source.root = root
    return source
