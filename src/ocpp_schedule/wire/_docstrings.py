"""Models built on first use, safely, and field descriptions from attribute docstrings at a
fraction of pydantic's import cost.

pydantic's ``use_attribute_docstrings`` finds a model's source on Python < 3.13 by
walking the frames with :func:`inspect.getmodule` (a scan of ``sys.modules`` per
frame) and :func:`inspect.getblock` (tokenizes the class): about 100 ms of the
package's import for some twenty models (issue 15 item 7). :class:`DocumentedModel`
gives the same descriptions from one cached read of the file and one small
:func:`ast.parse` per class. Its models are built on first use (``defer_build``), so
the descriptions set here reach ``model_json_schema()`` like pydantic's own.

A model built on first use (``defer_build``) is built when first validated, perhaps by
several threads at once, and pydantic's ``model_rebuild`` is not thread-safe (pydantic
2.13: a thread that enters it while another finishes deletes the new validator, and a
third then validates with the parent class's: "Extra inputs are not permitted").
:class:`DeferredModel` builds under one lock, so a first use from many threads builds once
and every thread validates with the model's own validator.
"""

import ast
import inspect
import linecache
import re
import sys
import textwrap
import threading
from types import FrameType
from typing import Any

from pydantic import BaseModel, ConfigDict


class _DocstringVisitor(ast.NodeVisitor):
    """pydantic's rule, to the letter: a string expression right after an annotated
    assignment documents that assignment's name."""

    def __init__(self) -> None:
        super().__init__()
        self.target: str | None = None
        self.attrs: dict[str, str] = {}
        self.previous_node_type: type[ast.AST] | None = None

    def visit(self, node: ast.AST) -> Any:
        result = super().visit(node)
        self.previous_node_type = type(node)
        return result

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.target = node.target.id

    def visit_Expr(self, node: ast.Expr) -> None:
        if (
            isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and self.previous_node_type is ast.AnnAssign
        ):
            if self.target:
                self.attrs[self.target] = inspect.cleandoc(node.value.value)
            self.target = None


def _defining_frame(cls: type) -> FrameType | None:
    """The frame that runs the ``class`` statement: the nearest one in the class's module."""
    module = sys.modules.get(cls.__module__)
    namespace = getattr(module, "__dict__", None)
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals is not namespace:
        frame = frame.f_back  # type: ignore[assignment]
    return frame


def _class_lines(lines: list[str], start: int, name: str) -> list[str] | None:
    """The lines of ``class name`` from the statement at or just after line ``start``
    (0-based): the lines indented deeper than it, blank lines included."""
    header = re.compile(rf"\s*class\s+{re.escape(name)}\b")
    first = next(
        (i for i in range(max(start, 0), min(start + 20, len(lines))) if header.match(lines[i])),
        None,
    )
    if first is None:
        return None
    indent = len(lines[first]) - len(lines[first].lstrip())
    end = first + 1
    while end < len(lines):
        text = lines[end]
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        end += 1
    return lines[first:end]


def _parse_class(block: list[str]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent("".join(block)))
    except SyntaxError:
        return None


def attribute_docstrings(cls: type, frame: FrameType | None) -> dict[str, str]:
    """Attribute name -> its docstring in ``cls``'s own body (``{}`` without source)."""
    if frame is None:
        return {}
    lines = linecache.getlines(frame.f_code.co_filename, frame.f_globals)
    block = _class_lines(lines, frame.f_lineno - 1, cls.__name__)
    tree = _parse_class(block) if block else None
    if tree is None:  # a string dedented inside the class: tokenize, the slow exact way
        try:
            tree = _parse_class(inspect.getsourcelines(cls)[0])
        except (OSError, TypeError):
            return {}
    if tree is None:
        return {}
    visitor = _DocstringVisitor()
    visitor.visit(tree)
    return visitor.attrs


_BUILD_LOCK = threading.RLock()
"""Held while any :class:`DeferredModel` builds (re-entrant: a build may build another)."""


class DeferredModel(BaseModel):
    """A pydantic model built on first use (``defer_build``), under a lock (thread-safe)."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        """pydantic's ``model_rebuild``, one build at a time: every first use goes through here
        (pydantic's placeholders call it), and one that waited finds the model complete."""
        depth = _parent_namespace_depth + 1 if _parent_namespace_depth else 0  # + this frame
        with _BUILD_LOCK:
            return super().model_rebuild(
                force=force,
                raise_errors=raise_errors,
                _parent_namespace_depth=depth,
                _types_namespace=_types_namespace,
            )


class DocumentedModel(DeferredModel):
    """A :class:`DeferredModel` whose fields without a ``description`` take their attribute
    docstring as one (what ``use_attribute_docstrings`` does)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        docs = attribute_docstrings(cls, _defining_frame(cls))
        for name, field in cls.__pydantic_fields__.items():
            if field.description is None and name in docs:
                field.description = docs[name]
        if cls.__pydantic_complete__:  # built already (defer_build=False): rebuild once
            cls.model_rebuild(force=True)
