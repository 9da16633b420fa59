"""Calls between ATen kernels read from C++ sources: a scanner of kernel bodies in a PyTorch
source tree (`aten/src/ATen/native/*.cpp`) and the shipped edge file made by that scanner.

The wheel has no kernel bodies, so an edge below a composite operator is only ever shown when
it was read here, with its file:line and the commit it came from.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from docgen.core.errors import SourceError
from docgen.core.jsonio import schema_of
from docgen.core.records import Location
from docgen.walk.cxx_types import (
    NOT_TENSOR_METHODS,
    closing_index,
    kind_of,
    kinds_fit,
    split_args,
)
from docgen.walk.records import UpstreamEdge

DATA_PACKAGE = "docgen.data"
EDGES_FILE = "upstream_edges.json"
EDGES_SCHEMA = 1  # the edge file's format (docgen/data/upstream_edges.json)

log = logging.getLogger(__name__)
NATIVE_DIR = "aten/src/ATen/native"
AUTOGRAD_DIR = "torch/csrc/autograd/"
FUNCTIONS_MANUAL = AUTOGRAD_DIR + "FunctionsManual.cpp"
AUTOGRAD_PREFIX = "autograd::"

_TEMPLATE_ARGS = r"(?:\s*<[^<>();{}]*>)?"
_CALL = re.compile(r"\bat::(?:_ops::)?(\w+)(?:::(?:call|redispatch))?" + _TEMPLATE_ARGS
                   + r"\s*\(")
# `at::native::k(` and, inside namespace at::native, `native::k(`: a direct C++ call of a
# kernel function, which passes no dispatcher (the profiler shows no aten:: entry for it).
_NATIVE = re.compile(r"(?<![\w:])(?:at::)?native::(\w+)\s*\(")
# `x.t()`, `noise.bernoulli_(p)`: a Tensor method; the walk keeps the names that are
# operators with a method variant in the torch version read.
_METHOD = re.compile(r"(?:\.|->)\s*([a-z_][a-z0-9_]*)\s*\(")
METHOD_PREFIX = "method:"
# `weight.sizes().slice(2)`, `input_sizes.slice(0, n)`: ArrayRef methods, not Tensor ones.
_SIZES_RECEIVER = re.compile(r"(?:sizes|strides|shape)\s*(?:\(\s*\))?\s*$")
# `_adaptive_avg_pool2d(input, size)` inside namespace at::native: found by argument-dependent
# lookup; the walk keeps the names that are operators of the torch version read.
_UNQUALIFIED = re.compile(r"(?<![\w.:>~])([a-z_][a-z0-9_]*)(\s*<[^<>();{}]*>)?\s*\(")
# `#define ALIAS_SPECIALIZATION(ALIAS_NAME, IS_FEATURE, IS_ALPHA) \`: a macro whose body
# defines a function named by a parameter; each invocation at namespace level defines one.
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)\(([^)]*)\)", re.M)
_TEMPLATE_HEAD = re.compile(r"\s*template\s*<([^{};]*?)>\s*(?!>)")
_IMPL_FUNC = re.compile(r"\s*TORCH_IMPL_FUNC\s*\(\s*(\w+)\s*\)\s*\(")
_INVOCATION = re.compile(r"\s*[A-Z][A-Z0-9_]*\s*\([^()]*\)\s*")
_LITERAL = re.compile(r"true|false|-?\d+")
# Checks and warnings: their arguments build messages, not the kernel's work.
_CHECK_MACRO = re.compile(r"\b(?:TORCH_CHECK\w*|TORCH_INTERNAL_ASSERT\w*|TORCH_WARN\w*|"
                          r"TORCH_SYM_CHECK|AT_ASSERT\w*)\s*\(")
# `return ConvBackend::Cudnn;`: where a backend enum value is chosen.
_ENUM_RETURN = re.compile(r"\breturn\s+(\w+::\w+)\s*;")
_EQ_LABEL = re.compile(r"(?<![\w:])\w+ == (\w+::\w+)\b(?!::| \[chosen)")
_CASE = re.compile(r"\bcase\s+(\w+(?:::\w+)*)\s*:|\bdefault\s*:")
CALL_PREFIX = "call:"
_NAME = re.compile(r"(~?\w+)\s*(?:<[^<>()]*>)?\s*$")
_NOT_OPERATORS = {"native", "_ops", "cuda", "detail", "globalContext"}
_KEYWORDS = {"static_cast", "static_assert", "reinterpret_cast", "const_cast",
             "dynamic_cast", "alignof", "noexcept", "throw", "new", "delete", "using",
             "typename", "template", "auto"}
_CONTROL = {"if", "for", "while", "switch", "catch", "return", "sizeof", "decltype",
            "constexpr"}


@dataclass
class EdgeSet:
    """Edges by caller kernel name; `origin` says where they were read."""

    origin: str = "none"
    edges: dict[str, list[UpstreamEdge]] = field(default_factory=dict)
    # {name: its callers with a signature, `name(...)`}, made on first use (and again when
    # callers were added since): one scan of the callers, not one per lookup
    _overloads: tuple[int, dict[str, list[str]]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def add(self, edge: UpstreamEdge) -> None:
        self.edges.setdefault(edge.caller, []).append(edge)

    def _overloads_of(self, kernel: str) -> list[str]:
        if self._overloads is None or self._overloads[0] != len(self.edges):
            index: dict[str, list[str]] = {}
            for key in self.edges:
                if "(" in key:
                    index.setdefault(key.split("(", 1)[0], []).append(key)
            self._overloads = (len(self.edges), index)
        return self._overloads[1].get(kernel, [])

    def calls_of(self, kernel: str, signature: str = "") -> list[UpstreamEdge]:
        """The calls in the body of `kernel`; where a file defines several C++ overloads
        of that name (`lstm(Tensor, Tensor[], ...)` and `lstm(Tensor, Tensor, ...)`), the
        one whose parameter kinds are `signature`, else all of them."""
        out = list(self.edges.get(kernel, ()))
        if not out and "(" not in kernel:
            variants = self._overloads_of(kernel)
            chosen = [k for k in variants if k == f"{kernel}({signature})"] or [
                k for k in variants if signature and kinds_fit(
                    signature, k[len(kernel) + 1:-1],
                    exact=any(part.strip() == "?" for part in signature.split(",")))] \
                or variants
            out = [e for k in chosen for e in self.edges[k]]
        if not out and kernel.endswith("_symint"):
            out = list(self.edges.get(kernel.removesuffix("_symint"), ()))
        if not out and "<" in kernel:
            out = list(self.edges.get(kernel.split("<", 1)[0], ()))  # the template itself
        return out

    def __len__(self) -> int:
        return sum(len(v) for v in self.edges.values())


def blank_comments_and_strings(text: str) -> str:
    """`text` with comments, string and char literals replaced by spaces; newlines kept, so
    offsets and line numbers stay those of the file."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "//":
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif two == "/*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text[i] in "\"'":
            j = i + 1
            while j < n and text[j] != text[i] and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return _blank_checks(_blank_directives("".join(out)))


def _blank_checks(text: str) -> str:
    """The argument lists of TORCH_CHECK-like macros blanked (newlines kept)."""
    out = list(text)
    for match in _CHECK_MACRO.finditer(text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth and out[i] != "\n":
                out[i] = " "
            i += 1
    return "".join(out)


def _blank_directives(text: str) -> str:
    """Preprocessor lines (and their `\\` continuations) blanked: macro bodies are not code
    the scanner can attribute to a function."""
    lines = text.split("\n")
    continued = False
    for i, line in enumerate(lines):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            lines[i] = " " * len(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class FunctionBody:
    name: str
    start: int  # offset of `{`
    end: int  # offset of the matching `}`


def function_bodies(clean: str) -> list[FunctionBody]:
    """Top-level function definitions (inside namespaces, outside classes and other bodies)."""
    out: list[FunctionBody] = []
    depth_kinds: list[str] = []
    last = 0
    for i, ch in enumerate(clean):
        if ch in ";":
            last = i + 1
        elif ch == "{":
            header = clean[last:i]
            kind = _block_kind(header, depth_kinds)
            if kind == "function":
                out.append(FunctionBody(_function_name(header), i, -1))
            depth_kinds.append(kind)
            last = i + 1
        elif ch == "}":
            if depth_kinds:
                kind = depth_kinds.pop()
                if kind == "function" and out and out[-1].end < 0:
                    out[-1] = FunctionBody(out[-1].name, out[-1].start, i)
            last = i + 1
    return [f for f in out if f.end > 0 and f.name]


def _block_kind(header: str, stack: list[str]) -> str:
    if any(k != "namespace" for k in stack):
        return "inner"
    text = " ".join(header.split())
    if re.match(r"^(?:inline\s+)?namespace\b", text) or text.startswith('extern "C"'):
        return "namespace"
    if re.search(r"\b(class|struct|union|enum)\b[^()]*$", text):
        return "type"
    if "(" in text and not text.startswith("#"):
        return "function"
    return "other"


def _function_name(header: str) -> str:
    """The name before the parameter list: `Tensor conv2d_symint(...) {` -> conv2d_symint."""
    text = [line for line in header.split("\n") if not line.strip().startswith("#")]
    structured = _IMPL_FUNC.match(" ".join(text))
    if structured:
        return structured.group(1)  # `TORCH_IMPL_FUNC(cat_out_cpu) (...)`: that kernel
    # `ALIAS_SPECIALIZATION(_dropout, false, false)` standing before the function on its own
    # line: a macro invocation, not part of this definition.
    while len(text) > 1 and (_INVOCATION.fullmatch(text[0]) or not text[0].strip()):
        text = text[1:]
    joined = " ".join(text)
    depth, cut = 0, -1
    for i in range(len(joined) - 1, -1, -1):
        if joined[i] == ")":
            depth += 1
        elif joined[i] == "(":
            depth -= 1
            if depth == 0:
                cut = i
                # keep the outermost parameter list: `f(...) -> decltype(...)` is rare here
    if cut < 0:
        return ""
    match = _NAME.search(joined[:cut])
    name = match.group(1) if match else ""
    name = name.rsplit("::", 1)[-1]
    return "" if name in _CONTROL else name


def condition_at(clean: str, body: FunctionBody, at: int) -> str:
    """The condition under which the statement at offset `at` of `body` runs (as the edges
    read there get it)."""
    return _condition(clean, body, at)


def _condition(clean: str, body: FunctionBody, at: int) -> str:
    """The conditions governing the statement at offset `at`: its `case` labels or its own
    `if (...)`, then the `case` labels and `if`/`else` headers of the enclosing blocks,
    innermost first."""
    start = _statement_start(clean, body.start, at)
    statement = " ".join(clean[start:at].split())
    parts: list[str] = []
    own = re.match(r"(?:else\s+)?if(?:\s+constexpr)?\s*\((.*)\)\s*(?:return\b.*)?$",
                   statement)
    header = re.match(r"(?:else\s+)?(?:if|while)(?:\s+constexpr)?\s*\((.*)$", statement)
    returned = re.match(r"return\b(.*)$", statement)
    if own and "case " not in statement:
        parts.append(own.group(1).strip())
    elif header and "case " not in statement:
        # a call inside the condition of an `if`: run when evaluation reaches it
        parts.extend(short_circuit(header.group(1)))
    elif returned and "case " not in statement and "?" not in statement:
        # `return a && at::f() && ...`: the call runs when evaluation reaches it
        parts.extend(short_circuit(returned.group(1)))
    else:
        parts.extend(_ternary(statement))
    parts.extend(_enclosing_conditions(clean, body, at))
    parts = [_with_locals(p, clean, body, at) for p in dict.fromkeys(parts) if p]
    if len(parts) > 1:
        parts = [f"({p})" if "||" in p and not p.startswith("(") else p for p in parts]
    return " && ".join(parts)


def short_circuit(prefix: str) -> list[str]:
    """What must hold for C++ to evaluate the operand that starts after `prefix`, the text of
    a condition up to it: the `||` alternatives completed before it false, the `&&` terms
    before it (in its `||` alternative) true, in every parenthesised group it sits in
    (`a || (b && f(` -> `!(a)`, `b`). The arguments of a call it sits in are all evaluated."""
    groups: list[tuple[str, bool]] = [("", False)]  # (text, is a call's argument list)
    for i, ch in enumerate(prefix):
        if ch == "(":
            before = prefix[:i].rstrip()
            groups.append(("", bool(before) and (before[-1].isalnum() or before[-1] in "_>")))
        elif ch == ")" and len(groups) > 1:
            inner, _ = groups.pop()
            text, call = groups[-1]
            groups[-1] = (f"{text}({inner})", call)
        else:
            text, call = groups[-1]
            groups[-1] = (text + ch, call)
    out: list[str] = []
    for text, call in groups:
        if call:
            text = _completed(text, ",")[1]  # the argument it is in
        done, rest = _completed(text, "||")
        out.extend(f"!({a.strip()})" for a in done)
        out.extend(t.strip() for t in _completed(rest, "&&")[0])
    return out


def _completed(text: str, sep: str) -> tuple[list[str], str]:
    """The parts of `text` completed before its last `sep` (outside parentheses), and the
    part still open after it."""
    parts = split_top(text, sep)
    if not parts or text.rstrip().endswith(sep):
        return parts, ""
    return parts[:-1], parts[-1]


_LOCAL_BOOL = re.compile(r"\b(?:const\s+)?(?:auto|bool)\s+(\w+)\s*=\s*([^;]*?(?:&&|\|\||==|!=|"
                         r"\bis_\w+\(|\.defined\(\))[^;]*);")


# `const auto dim_size = self.size(dim);`: a local holding one size of a tensor
_LOCAL_SIZE = re.compile(r"\b(?:const\s+)?(?:auto|int64_t|c10::SymInt|SymInt)\s+(\w+)\s*=\s*"
                         r"(\w+\s*\.\s*(?:sym_)?size\s*\(\s*\w+\s*\))\s*;")


def _with_locals(condition: str, clean: str, body: FunctionBody, at: int) -> str:
    """`is_bias_likely_fusable && ...` -> `(bias->defined() && ...) && ...`: a local boolean
    (or a local holding a tensor's size, `dim_size` -> `self.size(dim)`) defined earlier in
    the function replaced by the expression it was set to."""
    names = {m.group(1): " ".join(m.group(2).split())
             for m in _LOCAL_BOOL.finditer(clean, body.start, at)}
    names.update((m.group(1), "".join(m.group(2).split()))
                 for m in _LOCAL_SIZE.finditer(clean, body.start, at))
    if not names:
        return condition
    return re.sub(r"(?<![\w.>])(\w+)\b(?!\s*\()",
                  lambda m: f"({names[m.group(1)]})" if m.group(1) in names else m.group(0),
                  condition)


def _ternary(statement: str) -> list[str]:
    """`return c ? a : b.f(` -> ["!(c)"]; `x = c ? a.f(` -> ["c"]; also inside the argument
    list the call sits in (`make_tuple(c ? x : x.unsqueeze(0), ...)`): the arm of a `?:`
    the text up to the call falls in."""
    opens: list[int] = []
    for i, ch in enumerate(statement):
        if ch in "([{":
            opens.append(i)
        elif ch in ")]}" and opens:
            opens.pop()
    segments = [statement]
    if opens:
        inner = statement[opens[-1] + 1:]
        segments.append(split_top(inner, ",")[-1] if inner.strip() else inner)
    out: list[str] = []
    for segment in segments:
        found = _ternary_arm(segment)
        if found:
            out.append(found)
    return out


def _ternary_arm(statement: str) -> str:
    depth, question = 0, -1
    for i, ch in enumerate(statement):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "?" and question < 0:
            question = i
        elif depth == 0 and ch == ":" and question >= 0 and statement[i - 1:i + 1] != "::" \
                and statement[i:i + 2] != "::":
            return f"!({_ternary_test(statement[:question])})"
    if question >= 0:
        return _ternary_test(statement[:question])
    return ""


def _ternary_test(head: str) -> str:
    head = re.sub(r"^\s*(?:return\b|.*?[^=!<>]=(?!=))", "", head, count=1)
    return " ".join(head.split())


def _statement_start(clean: str, lo: int, at: int) -> int:
    """Where the statement holding offset `at` starts: after the last `;`, `{` or `}` before
    it that is not inside parentheses still open at `at` (a braced list in a call's
    arguments, `at::empty({n}, ...)`, does not end a statement)."""
    depth = 0
    for i in range(at - 1, lo - 1, -1):
        ch = clean[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
        elif ch in ";{}" and depth <= 0:
            return i + 1
    return max(lo, 0)


def _block_header(clean: str, lo: int, brace: int) -> str:
    """The text before `{` back to the previous statement, less any `case X:` labels."""
    header = " ".join(clean[_statement_start(clean, lo, brace):brace].split())
    return _CASE.sub("", header).strip()


def _case_labels(clean: str, open_brace: int, at: int) -> str:
    """The `case` label group a statement at `at` falls under, in the block opened at
    `open_brace` (nested blocks before it skipped): `case A / case B`, or ""."""
    flat = clean[open_brace + 1:at]
    previous = None
    while previous != flat:
        previous = flat
        flat = re.sub(r"\{[^{}]*\}", lambda m: "@" * len(m.group(0)), flat)
    labels = list(_CASE.finditer(flat))
    if not labels:
        return ""
    group = [labels[-1]]
    for match in reversed(labels[:-1]):
        if flat[match.end():group[0].start()].strip():
            break
        group.insert(0, match)
    names = [f"case {m.group(1)}" if m.group(1) else "default" for m in group]
    return " / ".join(names)


def _enclosing_conditions(clean: str, body: FunctionBody, at: int, limit: int = 8) -> list[str]:
    """Conditions of the blocks around offset `at`, innermost first: `case` labels, `if`
    headers (an `else if` also negates the arms before it), `else`, and the negation of
    every early return (`if (c) return ...;`) written before it in each block."""
    out: list[str] = []
    depth = 0
    inner = at
    for i in range(at - 1, body.start - 1, -1):
        if clean[i] == "}":
            depth += 1
        elif clean[i] == "{":
            if depth:
                depth -= 1
                continue
            cases = _case_labels(clean, i, inner)
            if cases:
                out.append(cases)
            out.extend(f"!({c})" for c in _early_returns(clean, i, inner))
            inner = i
            if i == body.start:
                out.extend(_static_asserts(clean, i, at))
                break
            header = _block_header(clean, body.start, i)
            found = re.match(r"(else\s+)?if(?:\s+constexpr)?\s*\((.*)\)$", header)
            if found:
                out.append(found.group(2).strip())
                if found.group(1):
                    out.extend(f"!({c})" for c in _earlier_arms(clean, body.start, i))
            elif header == "else":
                arms = _earlier_arms(clean, body.start, i)
                out.extend(f"!({c})" for c in arms) if arms else out.append("else")
            if len(out) >= limit:
                break
    return out


def _earlier_arms(clean: str, lo: int, brace: int, limit: int = 8) -> list[str]:
    """The conditions of the `if` / `else if` arms before the arm whose block opens at
    `brace` (`else {` or `else if (...) {`), nearest first."""
    out: list[str] = []
    start = _statement_start(clean, lo, brace)
    while len(out) < limit:
        close = clean.rfind("}", lo, start)
        if close < 0 or clean[close + 1:start].strip() not in ("", "else"):
            break
        if not re.match(r"\s*else\b", clean[close + 1:brace]):
            break
        depth, open_ = 0, -1
        for i in range(close - 1, lo, -1):
            if clean[i] == "}":
                depth += 1
            elif clean[i] == "{":
                if depth == 0:
                    open_ = i
                    break
                depth -= 1
        if open_ < 0:
            break
        header = _block_header(clean, lo, open_)
        found = re.match(r"(else\s+)?if(?:\s+constexpr)?\s*\((.*)\)$", header)
        if not found:
            break
        out.append(found.group(2).strip())
        if not found.group(1):
            break
        brace, start = open_, _statement_start(clean, lo, open_)
    return out


_STATIC_ASSERT = re.compile(r"\bstatic_assert\s*\(")


def _static_asserts(clean: str, open_brace: int, stop: int) -> list[str]:
    """`static_assert(inplace, "...")` in a function body: the function only compiles where
    it holds, so every call in it is made under it (an overload picked by a template
    argument)."""
    out = []
    for m in _STATIC_ASSERT.finditer(clean, open_brace, stop):
        args = split_top(clean[m.end():_closing(clean, m.end() - 1)], ",")
        if args and args[0].strip():
            out.append(" ".join(args[0].split()))
    return out


def _early_returns(clean: str, open_brace: int, stop: int) -> list[str]:
    """Conditions of the `if (c) return ...;` / `if (c) { ...; return ...; }` statements of
    the block opened at `open_brace`, before offset `stop`: code after them runs only when
    they do not hold."""
    out: list[str] = []
    i = open_brace + 1
    while i < stop:
        ch = clean[i]
        if ch == "{":
            i = _closing(clean, i, "{", "}") + 1
            continue
        m = re.compile(r"(?<![\w.])if(?:\s+constexpr)?\s*\(").match(clean, i)
        if m is None or (i > 0 and re.match(r"\w", clean[i - 1])):
            i += 1
            continue
        close = _closing(clean, m.end() - 1)
        condition = " ".join(clean[m.end():close].split())
        rest = close + 1
        while rest < stop and clean[rest].isspace():
            rest += 1
        if clean.startswith("return", rest):
            end = clean.find(";", rest)
            if end < 0 or end >= stop:
                break
            out.append(condition)
            i = end + 1
            continue
        if rest < stop and clean[rest] == "{":
            end = _closing(clean, rest, "{", "}")
            if end >= stop:
                break
            block = clean[rest + 1:end]
            flat = block
            previous = None
            while previous != flat:
                previous = flat
                flat = re.sub(r"\{[^{}]*\}", " ", flat)
            out.extend(_returning(clean, rest, end, condition))
            i = end + 1
            after = re.match(r"\s*else\s*\{", clean[i:stop])
            if after:  # `else { ...; return ...; }`: returns when the `if` does not hold
                open_else = i + after.end() - 1
                close_else = _closing(clean, open_else, "{", "}")
                if close_else < stop:
                    out.extend(_returning(clean, open_else, close_else, f"!({condition})"))
                    i = close_else + 1
            continue
        i = close + 1
    return out


def _returning(clean: str, open_: int, close: int, condition: str) -> list[str]:
    """The conditions under which the block `{...}` at `open_`, entered when `condition`
    holds, returns: always (its last statement is a return) or on some inner paths."""
    flat = clean[open_ + 1:close]
    previous = None
    while previous != flat:
        previous = flat
        # a nested block is a whole statement (`if (c) { ... } return x;`: the return is
        # a statement of its own); a braced list inside an expression is not
        flat = re.sub(r"(\)\s*|\belse\s*|^\s*|[;}]\s*)\{[^{}]*\}",
                      lambda m: m.group(1) + " ; ", flat)
        flat = re.sub(r"\{[^{}]*\}", " ", flat)
    statements = [x.strip() for x in flat.split(";") if x.strip()]
    if statements and re.match(r"return\b", statements[-1]):
        return [condition]
    inner = _early_returns(clean, open_, close)
    if not inner:
        return []
    joined = " || ".join(f"({c})" if "||" in c else c for c in inner)
    return [f"{condition} && ({joined})" if len(inner) > 1 else f"{condition} && {joined}"]


def _previous_if(clean: str, lo: int, else_brace: int) -> str:
    """The condition of the `if` whose block ends just before `else {`."""
    close = clean.rfind("}", lo, else_brace)
    depth = 0
    for i in range(close - 1, lo, -1):
        if clean[i] == "}":
            depth += 1
        elif clean[i] == "{":
            if depth == 0:
                found = re.match(r"(?:.*\belse\s+)?if\s*\((.*)\)$",
                                 _block_header(clean, lo, i))
                return found.group(1).strip() if found else ""
            depth -= 1
    return ""


@dataclass(frozen=True)
class _Unit:
    """Function bodies of one text: the file itself, or one macro invocation's expansion
    (a text whose lines are those of the `#define`)."""

    clean: str
    bodies: tuple[FunctionBody, ...]


def scan_source(text: str, path: str, commit: str, repo: str = "") -> list[UpstreamEdge]:
    """Every `at::op(` / `at::_ops::op::call(` / `at::native::k(` call in every function body
    of one C++ file, with its line and governing condition. A `case E::X` condition names
    where the file chooses `E::X` (`return E::X;` in a selector such as
    `_select_conv_backend`) and under which conditions.

    Functions a macro defines (`ALIAS_SPECIALIZATION(_dropout, false, false)`) are read from
    the macro's body, at the lines of its `#define`. A call of a function template of the file
    with literal template arguments (`_dropout_impl<false, false, inplace>(...)`) names a
    specialisation, `_dropout_impl<false, false, inplace>`, whose edges are the template's
    with each condition on a bound parameter decided: calls under a false one are left out.
    """
    clean = blank_comments_and_strings(text)
    units = [_Unit(clean, tuple(function_bodies(clean)))]
    units.extend(_macro_units(text, clean, units[0].bodies))
    chosen = _enum_choices(clean, list(units[0].bodies))
    params = {b.name: _template_params(u.clean, b) for u in units for b in u.bodies}
    edges: list[UpstreamEdge] = []
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    where = (path, commit, repo)
    for unit in units:
        for body in unit.bodies:
            edges.extend(_body_edges(unit.clean, body, chosen, params, wanted, where))
    edges.extend(_specialisations(edges, wanted, params))
    edges = _typed_calls(units, edges, chosen, where)
    edges.extend(_stub_registrations(clean, where))
    edges = _in_loops(clean, edges)
    edges = with_call_sites(clean, edges)
    edges.sort(key=lambda e: e.location.line)  # stable: a line's calls in the order made
    return edges


_LOOP_HEADER = re.compile(r"(?:for|while)\s*\((.*)\)$", re.S)
_RANGE_FOR = re.compile(r"^(.*?)\b(\w+)\s*:(?!:)(.*)$", re.S)
_ASSIGNED = re.compile(r"(?<![\w.>:])(\w+)\s*(?:[-+*/|&]?=)(?!=)")
_STEPPED = re.compile(r"(?:\+\+|--)\s*(\w+)|(\w+)\s*(?:\+\+|--)")
_DECLARED = re.compile(r"(\w+)\s*(?:=|\{|$)")


def _enclosing_blocks(clean: str, at: int) -> Iterator[tuple[int, int]]:
    """(offset of its `{`, offset where its header starts) of each braced block around
    offset `at`, innermost first."""
    depth = 0
    for i in range(at - 1, -1, -1):
        if clean[i] == "}":
            depth += 1
        elif clean[i] == "{":
            if depth:
                depth -= 1
                continue
            yield i, max(clean.rfind(c, 0, i) for c in ";{}") + 1


def loop_around(clean: str, at: int) -> tuple[str, str, int] | None:
    """The innermost `for` / `while` loop whose braced body holds offset `at`: (its header,
    the names it changes per iteration, the offset of its `{`), or None. The names are the
    loop variable, the names its header steps and the names its body assigns or steps."""
    for i, start in _enclosing_blocks(clean, at):
        header = " ".join(clean[start:i].split())
        found = _LOOP_HEADER.match(header)
        if found is None:
            if re.search(r"\)\s*$", header) and not re.match(
                    r"(?:if|else|switch|catch|do)\b", header):
                return None  # a function's body: no loop around it in this function
            continue
        close = closing_index(clean, i, "{", "}")
        body = clean[i + 1:close] if close is not None else ""
        return header, ", ".join(_loop_changes(found.group(1), body)), i
    return None


def _loop_changes(inside: str, body: str) -> list[str]:
    names: list[str] = []
    ranged = _RANGE_FOR.match(inside) if ";" not in inside else None
    if ranged:
        names.append(ranged.group(2))
    else:
        parts = inside.split(";")
        if len(parts) == 3:
            names.extend(m.group(1) for m in _DECLARED.finditer(parts[0].strip())
                         if m.group(1) not in ("auto", "const", "int", "int64_t", "size_t"))
            names.extend(a or b for a, b in _STEPPED.findall(parts[2]))
            names.extend(_ASSIGNED.findall(parts[2]))
    names.extend(_ASSIGNED.findall(body))
    names.extend(a or b for a, b in _STEPPED.findall(body))
    return list(dict.fromkeys(n for n in names if not n.isdigit()))


def line_loops(text: str) -> dict[int, tuple[str, str]]:
    """line -> (loop header, what it changes) for every line of a C++ file inside a loop."""
    clean = blank_comments_and_strings(text)
    out: dict[int, tuple[str, str]] = {}
    at = 0
    for number, line in enumerate(clean.split("\n"), 1):
        if line.strip():
            found = loop_around(clean, at + len(line) - len(line.lstrip()))
            if found:
                out[number] = (found[0], found[1])
        at += len(line) + 1
    return out


_CALL_OPEN = re.compile(r"(?<![\w])(?:(\(\s*\*\s*this\s*\))|([A-Za-z_][\w:]*)"
                        r"(?:\s*<(?:[^<>;(){}]|<[^<>;(){}]*>)*>)?)\s*\(")
_NOT_CALLS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "TORCH_CHECK",
                        "TORCH_INTERNAL_ASSERT", "static_cast", "decltype", "catch"})
_LOCAL_DEF = re.compile(r"(?:^|(?<=[;{}]))\s*(?:(?:const|constexpr|static)\s+)*"
                        r"(?:auto|(?:at::|c10::)?Tensor|(?:c10::)?MaybeOwned<\w+>)\s*&{0,2}\s*"
                        r"(?:(\w+)|\[\s*(\w+(?:\s*,\s*\w+)*)\s*\])\s*=(?!=)\s*")


_ASSIGNMENT = re.compile(r"(?:^|(?<=[;{}]))\s*([A-Za-z_]\w*)\s*=(?!=)\s*")


def _statement_rest(text: str, start: int) -> str:
    """The text from `start` to the `;` that ends its statement (outside brackets)."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return text[start:i]
        elif ch == ";" and depth == 0:
            return text[start:i]
    return text[start:]


def _short_callee(callee: str) -> str:
    """The name a call of `callee` is written with: `call:CellParams::linear_hh` ->
    `linear_hh`, `method:t` -> `t`, `addmm` -> `addmm`; "" for a function object's
    `operator()`, written with its object's name."""
    name = callee.split(":", 1)[1] if callee.startswith((CALL_PREFIX, METHOD_PREFIX)) \
        else callee
    name = re.sub(r"\[.*\]$", "", name)
    name = re.sub(r"\(\d+\)$", "", name)
    while re.search(r"<[^<>]*>", name):
        name = re.sub(r"<[^<>]*>", "", name)  # template arguments, innermost first
    last = name.split("::")[-1]
    return "" if last == "operator()" else last.removeprefix("native::")


def _enclosing_function(clean: str, at: int) -> tuple[int, int] | None:
    """(offset of `(` of the parameter list, offset of `{`) of the function body around
    `at`."""
    for i, start in _enclosing_blocks(clean, at):
        header = clean[start:i]
        tail = re.search(r"\)\s*(?:const\s*)?(?:override\s*)?(?:noexcept\s*)?"
                         r"(?:->\s*[\w:<>, ]+)?\s*$", header)
        if tail is None or re.match(r"\s*(?:if|else|for|while|switch|catch|do)\b",
                                    header) or re.search(r"\[[^\[\]]*\]\s*\(", header):
            continue  # a block, or a lambda: its names are its function's
        close = start + tail.start()
        depth = 0
        for j in range(close, start - 1, -1):
            depth += {")": 1, "(": -1}.get(clean[j], 0)
            if depth == 0:
                return j, i
        return None
    return None


def _scope_of(clean: str, at: int) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The parameter names and local definitions (name, expression) of the function whose
    body holds offset `at`."""
    found = _enclosing_function(clean, at)
    if found is None:
        return (), ()
    open_, brace = found
    close = closing_index(clean, open_, "(", ")")
    params = []
    for part in split_args(clean[open_ + 1:close] if close is not None else ""):
        words = re.findall(r"\w+", part.split("=")[0])
        if words and words[-1] not in ("void",):
            params.append(words[-1])
    end = closing_index(clean, brace, "{", "}")
    body = clean[brace:end + 1 if end is not None else len(clean)]
    locals_: list[tuple[str, str]] = []
    for m in _LOCAL_DEF.finditer(body):
        expr = " ".join(_statement_rest(body, m.end()).split())
        for name in ([m.group(1)] if m.group(1) else re.findall(r"\w+", m.group(2))):
            locals_.append((name, expr))
    for m in _ASSIGNMENT.finditer(body):  # a name set again: one more definition of it
        locals_.append((m.group(1), " ".join(_statement_rest(body, m.end()).split())))
    return tuple(params), tuple(locals_)


def _calls_on_line(clean: str, start: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, receiver, argument texts) of each call whose name starts on the line at
    offset `start`, in the order written."""
    end = clean.find("\n", start)
    end = len(clean) if end < 0 else end
    out = []
    for m in _CALL_OPEN.finditer(clean, start, end):
        name = "operator()" if m.group(1) else m.group(2).split("::")[-1]
        if name in _NOT_CALLS:
            continue
        open_ = m.end() - 1
        close = closing_index(clean, open_, "(", ")")
        args = tuple(" ".join(a.split()) for a in split_args(
            clean[open_ + 1:close])) if close is not None else ()
        args = tuple(a for a in args if a)
        receiver = ""
        head = clean[:m.start()].rstrip()
        if head.endswith((".", "->")) and not m.group(1):
            head = head[:-2] if head.endswith("->") else head[:-1]
            receiver = _operand_before(head, len(head))
        out.append((name, " ".join(receiver.split()), args))
    return out


def with_call_sites(clean: str, edges: list[UpstreamEdge]) -> list[UpstreamEdge]:
    """Each edge with its call as written (UpstreamEdge.args, receiver) and its caller's
    parameters and locals, when the call is found on the edge's line: the k-th edge of a
    line to the same callee is the k-th call of that name there; a function object's
    `operator()` is the line's only call of a name no edge of the line names."""
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(clean) if ch == "\n")
    by_line: dict[int, list[tuple[str, str, tuple[str, ...]]]] = {}
    scopes: dict[int, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}
    taken: dict[tuple[str, int, str], int] = {}
    out = []
    for edge in edges:
        line = edge.location.line
        if not 0 < line <= len(starts):
            out.append(edge)
            continue
        if line not in by_line:
            by_line[line] = _calls_on_line(clean, starts[line - 1])
            scopes[line] = _scope_of(clean, starts[line - 1])
        calls = by_line[line]
        short = _short_callee(edge.callee)
        if short:
            named = [c for c in calls if c[0] == short]
        else:
            # the line's calls that no operator edge of the line names
            known = {_short_callee(e.callee) for e in edges if e.location.line == line
                     and not e.callee.startswith(CALL_PREFIX)}
            named = [c for c in calls if c[0] not in known]
            named = named if len(named) == 1 else []
        k = taken.get((edge.caller, line, edge.callee), 0)
        taken[(edge.caller, line, edge.callee)] = k + 1
        if k >= len(named):
            out.append(edge)
            continue
        _, receiver, args = named[k]
        params, locals_ = scopes[line]
        out.append(replace(edge, args=args, receiver=receiver, caller_params=params,
                           caller_locals=locals_))
    return out


def _in_loops(clean: str, edges: list[UpstreamEdge]) -> list[UpstreamEdge]:
    """Each edge with the loop its call sits in (read at the first character of its line,
    so a loop header's own calls are outside the loop they start)."""
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(clean) if ch == "\n")
    out = []
    seen: dict[int, tuple[str, str, int] | None] = {}
    for edge in edges:
        line = edge.location.line
        if not 0 < line <= len(starts):
            out.append(edge)
            continue
        if line not in seen:
            at = starts[line - 1]
            while at < len(clean) and clean[at] in " \t":
                at += 1
            seen[line] = loop_around(clean, at)
        found = seen[line]
        out.append(replace(edge, loop=found[0], loop_changes=found[1]) if found else edge)
    return out


_REGISTER = re.compile(r"\bREGISTER_(\w*?)_?DISPATCH\s*\(\s*(\w+)\s*,\s*&?\s*([\w:]+)\s*\)")
# the device a DispatchStub registration serves, as a condition the walk decides
_STUB_DEVICE = {"ALL_CPU": "device.is_cpu()", "ARCH": "device.is_cpu()", "": "device.is_cpu()",
                "AVX512": "device.is_cpu()", "AVX2": "device.is_cpu()",
                "CUDA": "device.is_cuda()", "HIP": "device.is_cuda()",
                "MPS": "device.is_mps()", "PRIVATEUSE1": "device.is_privateuseone()"}


def _stub_registrations(clean: str, where: tuple[str, str, str]) -> list[UpstreamEdge]:
    """`REGISTER_ALL_CPU_DISPATCH(lstm_mkldnn_stub, &lstm_mkldnn)`: calling the DispatchStub
    `lstm_mkldnn_stub(device_type, ...)` runs `lstm_mkldnn` on that device; an edge from the
    stub to the function, under the device it serves."""
    path, commit, repo = where
    out = []
    for m in _REGISTER.finditer(clean):
        device = _STUB_DEVICE.get(m.group(1))
        if device is None:
            continue
        line = clean.count("\n", 0, m.start()) + 1
        out.append(UpstreamEdge(m.group(2), CALL_PREFIX + m.group(3).rsplit("::", 1)[-1],
                                Location(path, line), device, commit, repo))
    return out


def _typed_calls(units: list[_Unit], edges: list[UpstreamEdge], chosen: dict[str, list[str]],
                 where: tuple[str, str, str]) -> list[UpstreamEdge]:
    """`edges` with member functions' bodies, Tensor operators in expressions, and the
    specialisations reached through type-parameterised templates, member calls and function
    objects (cxx_calls.py) added; a regular `call:` edge to a template that a specialisation
    resolves at the same line is replaced by the resolved one."""
    from docgen.walk.cxx_calls import FileCalls, specialised_edges

    path, commit, repo = where
    main = FileCalls(units[0].clean)
    regular = list(edges)
    for member in main.members():
        body = FunctionBody(member.name, member.start, member.end)
        regular.extend(_body_edges(units[0].clean, body, chosen, {}, {}, where))
    resolved_at: set[tuple[str, int]] = set()
    routes: dict[int, Any] = {}
    entries: list[Any] = []
    for index, unit in enumerate(units):
        calls = main if index == 0 else FileCalls(unit.clean, main.types, index)
        own = [f for fs in calls.types.functions.values() for f in fs if f.unit == index]
        if index:
            own = [f for f in own if any(b.start == f.start for b in unit.bodies)]
        entries.extend(f for f in own if not f.template)
        for fn in own + (main.members() if index == 0 else []):
            for offset, op in calls.operator_calls(fn):
                cond = _bound_condition(unit.clean, fn.start, fn.end, offset, {}, chosen)
                line = unit.clean.count("\n", 0, offset) + 1
                regular.append(UpstreamEdge(fn.name, METHOD_PREFIX + op, Location(path, line),
                                            cond or "", commit, repo))
        routes[index] = (calls, _Copier(regular, unit.clean, calls),
                         _Resolved(unit.clean, chosen, where, resolved_at))
    mine = specialised_edges(routes, entries)
    typed = {name for name in main.types.functions if main.is_typed_template(name)}
    kept = [e for e in regular if not (
        e.callee.startswith(CALL_PREFIX) and (e.caller, e.location.line) in resolved_at
        and e.callee.removeprefix(CALL_PREFIX).split("<")[0] in typed)]
    return _overloads_named(kept + mine, units, routes)  # type: ignore[operator]


def _overloads_named(edges: list[UpstreamEdge], units: list[_Unit],
                     routes: dict[int, Any]) -> list[UpstreamEdge]:
    """Edges of a free function the file overloads (two `lstm` bodies) under
    `name(<parameter kinds>)`, so a walk picks the body of the operator overload it
    follows (`lstm.input` vs `lstm.data`) by the schema's types."""
    from docgen.walk.cxx_types import parameter_kinds

    spans: list[tuple[str, int, int, str]] = []
    for index, unit in enumerate(units):
        calls = routes[index][0]
        own: dict[str, list[object]] = {}
        for fs in calls.types.functions.values():
            for f in fs:
                if f.unit == index and not f.template and not f.owner:
                    own.setdefault(f.name, []).append(f)
        for name, fs in own.items():
            kinds = {parameter_kinds(f.params) for f in fs}  # type: ignore[attr-defined]
            if len(fs) < 2 or len(kinds) < len(fs):
                continue
            for f in fs:
                first = unit.clean.count("\n", 0, f.start) + 1  # type: ignore[attr-defined]
                last = unit.clean.count("\n", 0, f.end) + 1  # type: ignore[attr-defined]
                spans.append((name, first, last, parameter_kinds(f.params)))  # type: ignore
    if not spans:
        return edges
    out = []
    for e in edges:
        for name, first, last, spelled in spans:
            if e.caller == name and first <= e.location.line <= last:
                e = replace(e, caller=f"{name}({spelled})")
                break
        out.append(e)
    return out


def _bound_condition(clean: str, start: int, end: int, offset: int, binding: dict[str, str],
                     chosen: dict[str, list[str]]) -> str | None:
    text = _with_choice(_condition(clean, FunctionBody("", start, end), offset), chosen)
    literal = {k: v for k, v in binding.items() if _LITERAL.fullmatch(v)}
    return bind_condition(text, literal) if literal else text


@dataclass
class _Copier:
    """The regular edges of one body, under a specialisation's name."""

    edges: list[UpstreamEdge]
    clean: str
    calls: object

    def __call__(self, fn: object, caller: str, binding: dict[str, str]) -> list[UpstreamEdge]:
        first = self.clean.count("\n", 0, fn.start) + 1  # type: ignore[attr-defined]
        last = self.clean.count("\n", 0, fn.end) + 1  # type: ignore[attr-defined]
        literal = {k: v for k, v in binding.items() if _LITERAL.fullmatch(v)}
        made = []
        for e in self.edges:
            if e.caller != fn.name or not first <= e.location.line <= last:  # type: ignore
                continue
            if e.callee.startswith(CALL_PREFIX) and self.calls.is_typed_template(  # type: ignore
                    e.callee.removeprefix(CALL_PREFIX).split("<")[0]):
                continue
            cond = bind_condition(e.condition, literal) if literal else e.condition
            if cond is not None:
                made.append(replace(e, caller=caller, condition=cond))
        return made


@dataclass
class _Resolved:
    """An edge to a resolved specialisation, with the condition it is called under."""

    clean: str
    chosen: dict[str, list[str]]
    where: tuple[str, str, str]
    resolved_at: set[tuple[str, int]]

    def __call__(self, fn: object, caller: str, offset: int, callee: str,
                 binding: dict[str, str]) -> UpstreamEdge | None:
        cond = _bound_condition(self.clean, fn.start, fn.end, offset,  # type: ignore
                                binding, self.chosen)
        if cond is None:
            return None
        path, commit, repo = self.where
        line = self.clean.count("\n", 0, offset) + 1
        self.resolved_at.add((caller, line))
        return UpstreamEdge(caller, CALL_PREFIX + callee, Location(path, line), cond,
                            commit, repo)


def _body_edges(clean: str, body: FunctionBody, chosen: dict[str, list[str]],
                params: dict[str, list[str]], wanted: dict[str, tuple[str, dict[str, str]]],
                where: tuple[str, str, str]) -> list[UpstreamEdge]:
    path, commit, repo = where
    out: list[tuple[int, UpstreamEdge]] = []
    segment = clean[body.start:body.end]
    for pattern, prefix in ((_CALL, ""), (_NATIVE, "native::"), (_METHOD, METHOD_PREFIX),
                            (_UNQUALIFIED, CALL_PREFIX)):
        for match in pattern.finditer(segment):
            name = match.group(1)
            if pattern is _CALL and name in _NOT_OPERATORS:
                continue
            if pattern is _UNQUALIFIED:
                if name in _CONTROL or name in _KEYWORDS:
                    continue
                name = _specialised(name, match.group(2), params, wanted,
                                    params.get(body.name, []))
            offset = body.start + match.start()
            if pattern is _METHOD and _SIZES_RECEIVER.search(clean, body.start, offset):
                continue
            line = clean.count("\n", 0, offset) + 1
            condition = _with_choice(_condition(clean, body, offset), chosen)
            kinds = argument_kinds(clean, body, body.start + match.end() - 1) \
                if pattern in (_CALL, _METHOD, _UNQUALIFIED) else ""
            out.append((_call_order(segment, match), UpstreamEdge(
                body.name, prefix + name, Location(path, line), condition, commit, repo,
                kinds)))
    for name, offset in tensor_operators(clean, body):
        line = clean.count("\n", 0, offset) + 1
        condition = _with_choice(_condition(clean, body, offset), chosen)
        out.append((offset - body.start, UpstreamEdge(body.name, name, Location(path, line),
                                                      condition, commit, repo)))
    out.sort(key=lambda pair: pair[0])
    return [edge for _, edge in out]


def _call_order(segment: str, match: re.Match[str]) -> int:
    """Where a call runs among the calls of its statement: when its arguments are done,
    so at its closing parenthesis (`at::sum_out(...).div_(d)`: sum_out, then div_;
    `f(g(x))`: g, then f)."""
    end = closing_index(segment, match.end() - 1, "(", ")")
    return end if end is not None else match.start()


_BRACED_INTS = re.compile(r"(?:(?:at::|c10::)?(?:IntArrayRef|SymIntArrayRef|DimVector)\s*)?"
                          r"\{\s*-?\d+(?:\s*,\s*-?\d+)*\s*\}")
_ARG_LITERALS = ((re.compile(r"true|false"), "bool"), (re.compile(r"-?\d+"), "int"),
                 (re.compile(r"-?\d+\.\d*(?:e-?\d+)?f?"), "float"), (_BRACED_INTS, "int[]"))


_ARITHMETIC = re.compile(r"\s+[-+*/]\s+")  # a binary operator between two operands


def argument_kinds(clean: str, body: FunctionBody, paren: int) -> str:
    """The kinds of the arguments of the call whose `(` is at offset `paren`, as
    native_functions.yaml spells types: a literal (`true` bool, `2` int, `0.5` float,
    `{-1, -2}` int[]) or a name by the type the function declares it with before the call
    (`int64_t dim_prod` int, `const Tensor& self` Tensor); `?` where unknown, "" when no
    argument's kind is known. The dispatcher picks the overload of a C++ call by them."""
    if paren >= len(clean) or clean[paren] != "(":
        return ""
    end = closing_index(clean, paren, "(", ")")
    if end is None:
        return ""
    args = [a for a in split_args(clean[paren + 1:end]) if a]
    kinds = [_argument_kind(a, clean, body, paren) for a in args]
    return ", ".join(k or "?" for k in kinds) if any(kinds) else ""


def _argument_kind(arg: str, clean: str, body: FunctionBody, at: int) -> str:
    text = " ".join(re.sub(r"^/\*.*?\*/\s*", "", arg.strip()).split())
    for pattern, kind in _ARG_LITERALS:
        if pattern.fullmatch(text):
            return kind
    operands = _ARITHMETIC.split(text.strip("()"))
    if len(operands) > 1 and all(re.fullmatch(r"[\w.]+", o) for o in operands):
        # `1 - p` with `double p`: C++'s arithmetic conversions, a double if any operand is
        kinds = [_argument_kind(o, clean, body, at) for o in operands]
        if all(k in ("int", "float") for k in kinds):
            return "float" if "float" in kinds else "int"
        return ""
    if not re.fullmatch(r"[A-Za-z_]\w*", text):
        return ""
    header = clean.rfind(")", 0, body.start)
    opening = clean.rfind("(", 0, header)
    scope = clean[max(opening, 0):at]
    # `T x`, `T& x`, `T &x`, `T* x`; not `a * x` (arithmetic spaces both sides of the `*`)
    found = re.finditer(r"(?:^|[(,;{}]|\s)((?:const\s+)?(?:[\w:]+)(?:\s*<[^<>;()]*>)?)"
                        r"(?:[&*]\s*|\s+[&*]?)\b" + re.escape(text) + r"\s*(?=[=;,)({])", scope)
    for declared in reversed(list(found)):  # the declaration nearest before the call
        kind = kind_of(declared.group(1))
        if kind in ("Tensor", "int", "bool", "float", "int[]", "Scalar", "Tensor[]"):
            return kind
    return ""


# `grad * other.conj()`, `sum_backward(...) / n`, `out += x`: C++ operators on Tensors call
# the ATen operator of the same meaning (Tensor's operator overloads in TensorOperators.h).
_BINARY = {"*": "mul", "/": "div", "+": "add", "-": "sub"}
_COMPOUND = {"*=": "mul_", "/=": "div_", "+=": "add_", "-=": "sub_"}
_OPERATOR = re.compile(r"(?<=[\w)\]]) ([*/+-]=?) (?=[\w(!-])")
# Members of TensorBase (torch/include/ATen/core/TensorBase.h in the torch 2.13.0 wheel) that
# return no Tensor: sizes, strides, counts, flags, options, accessors and raw pointers. An
# operand that goes through one is a number or a pointer: `input.numel() / n`,
# `in_data + f * stride` with `auto in_data = input.const_data_ptr<scalar_t>()`.
NON_TENSOR_MEMBERS = frozenset({
    "_version", "accessor", "const_data_ptr", "data_ptr", "defined", "device", "dim", "dtype",
    "element_size", "generic_packed_accessor", "has_storage", "is_alias_of", "is_complex",
    "is_conj", "is_contiguous", "is_contiguous_or_false", "is_cpu", "is_cuda",
    "is_floating_point", "is_leaf", "is_meta", "is_mkldnn", "is_neg", "is_nested",
    "is_non_overlapping_and_dense", "is_quantized", "is_same", "is_signed", "is_sparse",
    "is_view", "itemsize", "layout", "mutable_data_ptr", "nbytes", "ndimension", "numel",
    "options", "output_nr", "packed_accessor32", "packed_accessor64", "requires_grad",
    "scalar_type", "size", "sizes", "storage_offset", "stride", "strides",
    "suggest_memory_format", "sym_nbytes", "sym_numel", "sym_size", "sym_sizes",
    "sym_storage_offset", "sym_stride", "sym_strides", "use_count"})
_MEMBER = re.compile(r"(?:\.|->)\s*(\w+)")
_TENSOR_PARAM = re.compile(r"^(?:const\s+)?(?:at::)?Tensor\s*&?\s*(\w+)$")
_TENSOR_LOCAL = re.compile(r"\b(?:at::)?Tensor\s+(\w+)\s*[=;({]")
_TENSOR_FUNCTION = re.compile(r"(?:^|[\s;}])(?:static\s+)?(?:inline\s+)?(?:at::)?Tensor\s+"
                              r"(\w+)\s*\(", re.M)


@functools.lru_cache(maxsize=8)
def _tensor_functions(clean: str) -> frozenset[str]:
    """Names of the functions of a file that return `Tensor`: read once per file, not once
    per function body (a file of n bodies took n scans of the whole text)."""
    return frozenset(_TENSOR_FUNCTION.findall(clean))


def tensor_operators(clean: str, body: FunctionBody) -> list[tuple[str, int]]:
    """(operator, offset) for each binary or compound-assignment C++ operator in `body`
    with a Tensor operand: a parameter or local declared `Tensor`, a local `auto x = ...`
    initialised from one, or a call of a function of the file that returns `Tensor`, with
    any method calls after it."""
    tensors = _tensor_names(clean, body)
    returning = _tensor_functions(clean)
    text = clean[body.start:body.end]
    found = expression_operators(text, tensors, returning)
    for lam in _LAMBDA.finditer(text):
        # `cpu_kernel(iter, [=](scalar_t input, param_t mean) { return input - mean; })`:
        # a lambda's parameters hide the function's tensors of the same names
        hidden = {p for typed, p in _lambda_params(lam.group(1)) if p in tensors
                  and not _TENSOR_PARAM.match(f"{typed} {p}".strip())}
        if not hidden:
            continue
        open_ = lam.end() - 1
        close = _closing(text, open_, "{", "}")
        inner = expression_operators(text[open_:close], tensors - hidden, returning)
        found = [f for f in found if not open_ <= f[1] < close]
        found += [(name, open_ + offset) for name, offset in inner]
    return [(name, body.start + offset) for name, offset in sorted(found, key=lambda f: f[1])]


_LAMBDA = re.compile(r"\[[^\[\]{};]*\]\s*\(([^()]*)\)\s*(?:mutable\s*)?"
                     r"(?:->\s*[\w:<>]+\s*)?\{")


def _lambda_params(text: str) -> list[tuple[str, str]]:
    """(type, name) of each parameter of a lambda's parameter list."""
    out = []
    for param in text.split(","):
        words = " ".join(param.split("=")[0].split())
        m = re.match(r"(.*?)\s*&?\s*(\w+)$", words)
        if m and m.group(1):
            out.append((m.group(1).rstrip("& "), m.group(2)))
    return out


def expression_operators(text: str, tensors: set[str], returning: frozenset[str] | set[str]
                         = frozenset()) -> list[tuple[str, int]]:
    """(operator, offset) for each binary or compound-assignment operator in C++ expression
    text with a Tensor operand (a name in `tensors`, or a call of an `at::` operator or of a
    function in `returning`, with any method calls after it): `grad / self.sym_numel()`."""
    out: list[tuple[str, int]] = []
    for match in _OPERATOR.finditer(text):
        symbol = match.group(1)
        left = _operand_before(text, match.start())
        right = _operand_after(text, match.end())
        if symbol in _COMPOUND:
            if _is_tensor(left, tensors, returning):
                out.append((_COMPOUND[symbol], match.start()))
        elif _is_tensor(left, tensors, returning) or _is_tensor(right, tensors, returning):
            out.append((_BINARY[symbol], match.start()))
    return out


def _tensor_names(clean: str, body: FunctionBody) -> set[str]:
    names: set[str] = set()
    close = clean.rfind(")", 0, body.start)
    depth, i = 0, close
    while i >= 0:
        depth += {")": 1, "(": -1}.get(clean[i], 0)
        if depth == 0:
            break
        i -= 1
    for param in split_top(clean[i + 1:close], ","):
        found = _TENSOR_PARAM.match(" ".join(param.split("=")[0].split()))
        if found:
            names.add(found.group(1))
    segment = clean[body.start:body.end]
    names.update(_TENSOR_LOCAL.findall(segment))
    returning = _tensor_functions(clean)
    for local in re.finditer(r"\bauto\s+(\w+)\s*=\s*([^;]+);", segment):
        if _is_tensor(_operand_after(local.group(2), 0), names, returning):
            names.add(local.group(1))
    return names


def _operand_before(text: str, end: int) -> str:
    """The postfix expression ending at `end`: `a`, `f(x)`, `grad.conj()`, `x[0]`."""
    i = end
    while i > 0:
        ch = text[i - 1]
        if ch in ")]":
            depth, j = 0, i - 1
            while j >= 0:
                depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j -= 1
            i = j
        elif ch.isalnum() or ch in "_.:" or text[i - 2:i] == "->":
            i -= 1
        else:
            break
    return text[i:end].strip()


def _operand_after(text: str, start: int) -> str:
    """The postfix expression starting at `start` (after a unary `-`, `!` or `std::move(`)."""
    i = start
    while i < len(text) and text[i] in " -!":
        i += 1
    j = i
    while j < len(text):
        ch = text[j]
        if ch in "([":
            depth, k = 0, j
            while k < len(text):
                depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k += 1
            j = k + 1
        elif ch.isalnum() or ch in "_.:" or text[j:j + 2] == "->":
            j += 1
        else:
            break
    return text[i:j]


def _methods(operand: str) -> list[str]:
    """The methods a postfix expression calls on its head, outside argument lists:
    `t.sizes()[d]` -> ["sizes"]."""
    depth, flat = 0, []
    for ch in operand:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        flat.append(ch if depth == 0 or ch in "([" else " ")
    return re.findall(r"(?:\.|->)\s*(\w+)\s*\(", "".join(flat))


def _is_tensor(operand: str, tensors: set[str], returning: frozenset[str] | set[str]
               ) -> bool:
    """Whether an operand names a Tensor: its head is a Tensor name, or a call of an `at::`
    operator or of a function of the file that returns Tensor."""
    head = re.match(r"(?:std::move\()?((?:at::)?\w+)\s*(\()?", operand)
    if head is None:
        return False
    if any(m in NOT_TENSOR_METHODS or m.startswith("is_") for m in _methods(operand)):
        return False  # `weight.ndimension()`, `t.sizes()[dim]`: a number, not a Tensor
    name, call = head.group(1), head.group(2)
    if any(member in NON_TENSOR_MEMBERS for member in _MEMBER.findall(_top_level(operand))):
        return False  # `input.numel()`, `x.strides()[1]`, `input.const_data_ptr<T>()`
    if call:
        return name.removeprefix("at::") in returning or (
            name.startswith("at::") and name[4:5].islower())
    return name in tensors


def _top_level(text: str) -> str:
    """`text` without what its brackets hold: `a.f(b.size()).g[i.dim()]` -> `a.f().g[]`."""
    out, depth = [], 0
    for ch in text:
        if ch in ")]":
            depth -= 1
        if depth == 0:
            out.append(ch)
        if ch in "([":
            depth += 1
    return "".join(out)


def _macro_units(text: str, clean: str, bodies: tuple[FunctionBody, ...]) -> list[_Unit]:
    """One unit per namespace-level invocation of a macro whose body defines a function
    named by one of its parameters."""
    out: list[_Unit] = []
    for define in _DEFINE.finditer(text):
        name = define.group(1)
        params = [p.strip() for p in define.group(2).split(",")]
        block = _continued_lines(text, define.start())
        body = " " * (define.end() - define.start()) + block[define.end() - define.start():]
        body = blank_comments_and_strings(body)
        prefix = "\n" * text.count("\n", 0, define.start())
        for call in re.finditer(r"(?<![\w.:>#])" + re.escape(name) + r"\s*\(", clean):
            if any(b.start <= call.start() <= b.end for b in bodies):
                continue
            args = split_top(clean[call.end():_closing(clean, call.end() - 1)], ",")
            args = [a.strip() for a in args]
            if len(args) != len(params):
                continue
            binding = dict(zip(params, args, strict=True))
            expanded = re.sub(r"[ \t]*##[ \t]*", "", prefix + _substitute(body, binding))
            found = tuple(b for b in function_bodies(expanded) if b.name in args)
            if found:
                out.append(_Unit(expanded, found))
    return out


def _continued_lines(text: str, start: int) -> str:
    """The `#define` at `start` through its last `\\`-continued line, backslashes blanked
    (newlines kept)."""
    lines: list[str] = []
    for line in text[start:].split("\n"):
        stripped = line.rstrip()
        lines.append(stripped[:-1] + " " if stripped.endswith("\\") else line)
        if not stripped.endswith("\\"):
            break
    return "\n".join(lines)


def _closing(text: str, open_paren: int, opening: str = "(", closing: str = ")") -> int:
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {opening: 1, closing: -1}.get(text[i], 0)
        if depth == 0:
            return i
    return len(text)


def _substitute(text: str, binding: dict[str, str]) -> str:
    """Each whole word of `text` that `binding` names replaced by its value."""
    return re.sub(r"\b\w+\b", lambda m: binding.get(m.group(0), m.group(0)), text)


def balanced(text: str) -> bool:
    """Whether every `)` in `text` closes a `(` of it, and all are closed."""
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside parentheses; blank parts dropped."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _template_params(clean: str, body: FunctionBody) -> list[str]:
    """`template <bool feature_dropout, bool alpha_dropout, typename T>` before a function
    -> its parameter names, in order."""
    header = clean[_statement_start(clean, 0, body.start):body.start]
    found = _TEMPLATE_HEAD.match(header)
    if found is None:
        return []
    names = [re.search(r"(\w+)\s*(?:=.*)?$", p.strip()) for p in found.group(1).split(",")]
    return [n.group(1) if n else "" for n in names]


def _specialised(name: str, targs: str | None, params: dict[str, list[str]],
                 wanted: dict[str, tuple[str, dict[str, str]]],
                 caller_params: list[str] | None = None) -> str:
    """`_dropout_impl` called as `_dropout_impl<false, false, inplace>` -> that name, noted
    in `wanted` with its literal bindings, when the file defines the template. Called with
    types only (`batch_norm_backward_cpu_template<scalar_t, opmath_t>` in a dispatch
    lambda), no argument decides a branch of it: the template's own name."""
    names = params.get(name)
    if not targs or not names:
        return name
    args = [a.strip() for a in targs.strip()[1:-1].split(",")]
    binding = {p: a for p, a in zip(names, args, strict=False) if _LITERAL.fullmatch(a)}
    special = f"{name}<{', '.join(args)}>"
    if not binding:
        if caller_params is not None and not set(args) & set(caller_params):
            return name
        return special  # `multiply<inplace>`: bound where the caller is specialised
    wanted[special] = (name, binding)
    return special


def _specialisations(edges: list[UpstreamEdge], wanted: dict[str, tuple[str, dict[str, str]]],
                     params: dict[str, list[str]] | None = None) -> list[UpstreamEdge]:
    """The edges of each specialisation wanted: the template's, with the conditions its
    literal arguments decide removed, and the template arguments of the calls it makes
    bound too (`_dropout<false>` -> `_dropout_impl<false, false, false>` -> `multiply<false>`),
    until no new specialisation is named."""
    out: list[UpstreamEdge] = []
    done: set[str] = set()
    pending = dict(wanted)
    while pending:
        special, (name, binding) = next(iter(pending.items()))
        del pending[special]
        if special in done:
            continue
        done.add(special)
        for edge in edges:
            if edge.caller != name:
                continue
            condition = bind_condition(edge.condition, binding)
            if condition is None:
                continue
            callee = edge.callee
            found = re.fullmatch(r"call:(\w+)(<.*>)", callee)
            if found and params is not None:
                targs = _substitute(found.group(2), binding)
                more: dict[str, tuple[str, dict[str, str]]] = {}
                callee = CALL_PREFIX + _specialised(found.group(1), targs, params, more)
                for key, value in more.items():
                    if key not in done:
                        pending[key] = value
                        wanted.setdefault(key, value)
            out.append(replace(edge, caller=special, condition=condition, callee=callee))
    return out


_DECIDED = re.compile(r"[\s()!&|]*(?:(?:true|false)[\s()!&|]*)+")


def bind_condition(condition: str, binding: dict[str, str]) -> str | None:
    """`condition` with the `&&` terms that `binding` decides removed; None when one of them
    is false (the call is never made in that specialisation)."""
    kept: list[str] = []
    for term in split_top(condition, "&&"):
        text = _substitute(term.strip(), binding)
        if binding and _DECIDED.fullmatch(text):
            if not _truth(text):
                return None
            continue
        kept.append(term.strip())
    return " && ".join(kept)


def _truth(text: str) -> bool:
    """The value of a C++ expression of true/false, !, &&, || and parentheses."""
    tokens = re.findall(r"true|false|&&|\|\||!|\(|\)", text)
    pos = 0

    def disjunction() -> bool:
        nonlocal pos
        value = conjunction()
        while pos < len(tokens) and tokens[pos] == "||":
            pos += 1
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        nonlocal pos
        value = unary()
        while pos < len(tokens) and tokens[pos] == "&&":
            pos += 1
            value = unary() and value
        return value

    def unary() -> bool:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "!":
            return not unary()
        if token == "(":
            value = disjunction()
            pos += 1
            return value
        return token == "true"

    return disjunction()


def _enum_choices(clean: str, bodies: list[FunctionBody]) -> dict[str, list[str]]:
    """`E::X` -> ["_select_conv_backend:1209 when cond", ...] for each `return E::X;`."""
    out: dict[str, list[str]] = {}
    for body in bodies:
        for match in _ENUM_RETURN.finditer(clean, body.start, body.end):
            line = clean.count("\n", 0, match.start()) + 1
            condition = _condition(clean, body, match.start())
            where = f"{body.name}:{line}"
            out.setdefault(match.group(1), []).append(
                f"{where} when {condition}" if condition else where)
    return out


def _with_choice(condition: str, chosen: dict[str, list[str]]) -> str:
    """`case ConvBackend::Cudnn` followed by where and when that value is chosen (single
    labels only: a group of labels keeps its names)."""
    labels = re.findall(r"(?<![/] )case (\w+(?:::\w+)+)(?! /)", condition)
    if len(labels) == 1 and labels[0] in chosen:
        label = labels[0]
        choice = "; or ".join(chosen[label])
        condition = condition.replace(f"case {label}", f"case {label} [chosen in {choice}]", 1)
    # `backend == BatchNormBackend::Cudnn` where `backend` holds a selector's result:
    # annotated the same way, each comparison with its own label
    return _EQ_LABEL.sub(lambda m: m.group(0) + (
        f" [chosen in {'; or '.join(chosen[m.group(1)])}]" if m.group(1) in chosen else ""),
        condition)


def autograd_namespaced(edges: list[UpstreamEdge]) -> list[UpstreamEdge]:
    """Edges of torch/csrc/autograd/FunctionsManual.cpp with its function names prefixed
    `autograd::` (`autograd::mm_mat1_backward`), calls between them too: its helpers share
    names with ATen kernels (`norm_backward`) but are other functions."""
    own = {re.sub(r"^([A-Za-z_]\w*)\(.*\)$", r"\1", e.caller) for e in edges}  # `f(Tensor)`
    out = []
    for edge in edges:
        callee = edge.callee
        if callee.startswith(CALL_PREFIX) and callee.removeprefix(CALL_PREFIX) in own:
            callee = CALL_PREFIX + AUTOGRAD_PREFIX + callee.removeprefix(CALL_PREFIX)
        out.append(replace(edge, caller=AUTOGRAD_PREFIX + edge.caller, callee=callee))
    return out


def scan_tree(root: Path, files: Iterable[str] | None = None,
              commits: dict[str, str] | None = None, repo: str = "") -> EdgeSet:
    """Scan `root/aten/src/ATen/native/*.cpp` and, when present,
    torch/csrc/autograd/FunctionsManual.cpp (or the given relative files)."""
    base = root / NATIVE_DIR
    if not base.is_dir() and files is None:
        raise SourceError(str(root), 1, f"not a PyTorch source tree (no {NATIVE_DIR})")
    rels = list(files) if files is not None else sorted(
        p.relative_to(root).as_posix() for p in base.rglob("*.cpp"))
    if files is None and (root / FUNCTIONS_MANUAL).is_file():
        rels.append(FUNCTIONS_MANUAL)
    edges = EdgeSet(origin=f"PyTorch source tree ({len(rels)} files)")
    for rel in rels:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        scanned = scan_source(text, rel, (commits or {}).get(rel, ""), repo)
        if rel.startswith(AUTOGRAD_DIR):
            scanned = autograd_namespaced(scanned)
        for edge in scanned:
            edges.add(edge)
    return edges


def edges_to_json(edges: EdgeSet, meta: dict[str, object]) -> dict[str, object]:
    rows = [{"caller": e.caller, "callee": e.callee, "path": e.location.path,
             "line": e.location.line, "condition": e.condition, "commit": e.commit,
             "repo": e.repo, **({"arguments": e.arguments} if e.arguments else {}),
             **({"loop": e.loop, "loop_changes": e.loop_changes} if e.loop else {}),
             **({"args": list(e.args), "receiver": e.receiver,
                 "caller_params": list(e.caller_params),
                 "caller_locals": [list(x) for x in e.caller_locals]}
                if e.args or e.receiver else {})}
            for caller in sorted(edges.edges) for e in edges.edges[caller]]
    return {**meta, "schema": EDGES_SCHEMA, "edges": rows}


def edges_from_json(data: dict[str, object], origin: str) -> EdgeSet:
    edges = EdgeSet(origin=origin)
    rows = data.get("edges", [])
    for row in rows if isinstance(rows, list) else []:
        edges.add(UpstreamEdge(str(row["caller"]), str(row["callee"]),
                               Location(str(row["path"]), int(row["line"])),
                               str(row.get("condition", "")), str(row.get("commit", "")),
                               str(row.get("repo", "")), str(row.get("arguments", "")),
                               str(row.get("loop", "")), str(row.get("loop_changes", "")),
                               tuple(str(a) for a in row.get("args", ())),
                               str(row.get("receiver", "")),
                               tuple(str(a) for a in row.get("caller_params", ())),
                               tuple((str(n), str(x)) for n, x in row.get("caller_locals",
                                                                           ()))))
    return edges


def read_shipped_json(name: str, schema: int, unused: str) -> dict[str, Any] | None:
    """A data file shipped in docgen/data, or None when it is missing or of another schema
    (then logged: `unused` says what is left out)."""
    try:
        text = resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    data = json.loads(text)
    if schema_of(data) != schema:
        log.warning("%s: unsupported schema; %s", name, unused)
        return None
    return data if isinstance(data, dict) else None


def load_shipped_edges() -> EdgeSet:
    """The edge file shipped in docgen/data (made by benchmarks/upstream_edges.py)."""
    data = read_shipped_json(EDGES_FILE, EDGES_SCHEMA, "upstream C++ edges not shown")
    if data is None:
        return EdgeSet()
    return edges_from_json(data, str(data.get("origin", "shipped edges")))
