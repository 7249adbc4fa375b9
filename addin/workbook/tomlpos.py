"""Where each key of a TOML text is: tomlkit's parser, remembering offsets, gives every key, table and table row
its line, as TOML reads them. Imported only when a message must be located (``dealfile.KeyLines``)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from tomlkit.container import Container, OutOfOrderTableProxy
from tomlkit.exceptions import TOMLKitError

__all__ = ["TOMLKitError", "key_lines"]
from tomlkit.items import AoT, Array, InlineTable, Item, Table
from tomlkit.parser import Parser


class _PositionParser(Parser):
    """tomlkit's parser, remembering where each value, table and key-value starts (``id(item) -> offset``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.starts: dict[int, int] = {}
        self._keep: list[Item] = []

    def _note(self, item: Any, start: int, override: bool) -> None:
        if override or id(item) not in self.starts:
            self.starts[id(item)] = start
            self._keep.append(item)

    def _parse_value(self) -> Item:
        start = self._idx
        item = super()._parse_value()
        self._note(item, start, False)
        return item

    def _parse_key_value(self, parse_comment: bool = False) -> Any:
        start = self._idx
        key, item = super()._parse_key_value(parse_comment)
        self._note(item, start, True)
        return key, item

    def _parse_table(self, parent_name: Any = None, parent: Any = None) -> Any:
        start = self._idx
        key, item = super()._parse_table(parent_name, parent)
        self._note(item, start, False)
        node = item  # [scenarios."X"] comes back as a super table "scenarios" holding X: the header is X's line too
        while isinstance(node, Table) and node.is_super_table():
            tables = [v for _, v in node.value.body if isinstance(v, Table)]
            if not tables:
                break
            node = tables[-1]
            self._note(node, start, False)
        if isinstance(item, AoT) and item.body:
            self._note(item.body[0], start, False)
        return key, item


def key_lines(text: str) -> dict[str, int]:
    """Line numbers of every key, table and table row (``fleet[2]``, 1-based) in a TOML text.

    Positions come from tomlkit's parser (linear in the text), so dotted and quoted keys, inline-table
    rows and text inside multi-line strings are located as TOML reads them, never by pattern.
    """
    parser = _PositionParser(text)
    doc = parser.parse()
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    out: dict[str, int] = {}

    def line(item: Any) -> int | None:
        start = parser.starts.get(id(item))
        if start is None:
            return None
        # skip leading whitespace/newlines the parser had not consumed yet
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        return bisect_right(newlines, start - 1) + 1

    def walk(prefix: str, value: Any) -> None:
        n = line(value)
        if n is not None and prefix:
            out.setdefault(prefix, n)
        if isinstance(value, (Container, Table, InlineTable, OutOfOrderTableProxy)):
            for k in value:
                child = f"{prefix}.{k}" if prefix else str(k)
                walk(child, value.item(k) if hasattr(value, "item") else value[k])
                if prefix and prefix not in out and child in out:
                    out[prefix] = out[child]  # a table named only by its children's dotted keys or headers
        elif isinstance(value, (AoT, Array)):
            rows = value.body if isinstance(value, AoT) else list(value)
            first = None
            for i, row in enumerate(rows, start=1):
                walk(f"{prefix}[{i}]", row)
                first = first or out.get(f"{prefix}[{i}]")
            if prefix and prefix not in out and first:
                out[prefix] = first

    walk("", doc)
    return out
