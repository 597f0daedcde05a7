"""A tiny PEG engine with Raabro's semantics (ordered choice, greedy repetition, no
backtracking into a successful element, joined sequences that give back a dangling
separator, whole input consumed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Node:
    name: str | None
    start: int
    end: int
    children: list[_Node]
    source: str

    @property
    def string(self) -> str:
        return self.source[self.start : self.end]

    def subgather(self, name: str | None = None) -> list[_Node]:
        """The topmost descendants named ``name`` (any name when None)."""
        found: list[_Node] = []
        for child in self.children:
            child._gather(name, found)
        return found

    def _gather(self, name: str | None, found: list[_Node]) -> None:
        if (name is None and self.name is not None) or (name is not None and self.name == name):
            found.append(self)
        else:
            for child in self.children:
                child._gather(name, found)

    def sublookup(self, name: str | None = None) -> _Node | None:
        """The first descendant named ``name`` (any name when None), depth first."""
        for child in self.children:
            if (name is None and child.name is not None) or (
                name is not None and child.name == name
            ):
                return child
            found = child.sublookup(name)
            if found is not None:
                return found
        return None


_Parser = Callable[[str, int], _Node | None]
_Item = _Parser | tuple[_Parser, str]


def _rex(name: str | None, pattern: str, flags: int = 0) -> _Parser:
    compiled = re.compile(pattern, flags | re.ASCII)

    def parse(source: str, pos: int) -> _Node | None:
        m = compiled.match(source[pos:])  # Ruby matches the rest of the string
        return None if m is None else _Node(name, pos, pos + m.end(), [], source)

    return parse


def _str(name: str | None, literal: str) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        if source.startswith(literal, pos):
            return _Node(name, pos, pos + len(literal), [], source)
        return None

    return parse


def _repeat(parser: _Parser, quantifier: str, source: str, pos: int) -> list[_Node] | None:
    low, high = {"?": (0, 1), "*": (0, 0), "+": (1, 0)}[quantifier]
    nodes: list[_Node] = []
    while True:
        node = parser(source, pos)
        if node is None:
            break
        nodes.append(node)
        if node.end == pos or len(nodes) == high:
            break
        pos = node.end
    return nodes if len(nodes) >= low else None


def _seq(name: str | None, *items: _Item) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        children: list[_Node] = []
        cur = pos
        for item in items:
            if isinstance(item, tuple):
                nodes = _repeat(item[0], item[1], source, cur)
                if nodes is None:
                    return None
                children.extend(nodes)
                cur = nodes[-1].end if nodes else cur
            else:
                node = item(source, cur)
                if node is None:
                    return None
                children.append(node)
                cur = node.end
        return _Node(name, pos, cur, children, source)

    return parse


def _alt(name: str | None, *parsers: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        for parser in parsers:
            node = parser(source, pos)
            if node is not None:
                return _Node(name, pos, node.end, [node], source)
        return None

    return parse


def _jseq(name: str | None, element: _Parser, separator: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        children: list[_Node] = []
        cur, on_element, empties = pos, False, 0
        while True:
            on_element = not on_element
            node = (element if on_element else separator)(source, cur)
            empties = empties + 1 if node is not None and node.end == node.start else 0
            if node is None or empties > 1:
                if on_element and children:
                    cur = children.pop().start  # give the dangling separator back
                break
            children.append(node)
            cur = node.end
        if not children:
            return None
        return _Node(name, pos, cur, children, source)

    return parse


def _ren(name: str, parser: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        node = parser(source, pos)
        if node is not None:
            node.name = name
        return node

    return parse


def _parse_all(parser: _Parser, source: str) -> _Node | None:
    node = parser(source, 0)
    return node if node is not None and node.end == len(source) else None


_I = re.IGNORECASE
_RUBY_BLANK = " \t\n\v\f\r\x00"
