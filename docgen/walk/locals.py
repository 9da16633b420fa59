"""Local definitions in C++ kernel bodies, so that a condition written on a local
(`is_batched ? input : input.unsqueeze(0)` with `const auto dim_count_batch =
dim_count_no_batch + 1;` above it) is decided from what the local was computed from.

The scanner reads, per function body of a C++ file: its parameter names, its simple local
definitions (`[const] auto|bool|int64_t|... name = expression;`, each with its line; a name
defined twice is left out, its value depends on the path) and the argument texts of each
call of a function the same file defines (`batchify(input_, /*num_spatial_dims=*/ 2,
"conv2d")`). The walk then rewrites a condition read at line L of function F: each local
of F defined before L is replaced by its expression (repeatedly, so locals built on locals
resolve), and each parameter of F by the argument its caller passed at the call site the
path came through (itself rewritten in the caller's scope). What is left is decided by
decide.py as any condition; a local computed from tensor contents stays undecided, named.

Across files: an operator called from a kernel body (`at::matmul(input, weight.t())` in
Linear.cpp) binds the parameters of its kernel function (LinearAlgebra.cpp's `matmul`) to
that call's arguments, as a native function takes its operator's arguments in schema order.
A Tensor declared without a value (`at::Tensor result, unused;`) is `Tensor()`, undefined.
A call of a `bool` function read with its `return` statements (`should_fold(tensor1,
tensor2, has_out)`) is replaced by the disjunction, over its returns of a value other than
`false`, of the condition reaching each return and its value, with the function's own
locals and its parameters bound to the call's arguments.

The shipped facts (docgen/data/upstream_locals.json, made by benchmarks/upstream_locals.py)
are read from the same files at the same commits as the shipped edges.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from docgen.walk.decide import split_top as split_args
from docgen.walk.decide import ternary
from docgen.walk.upstream import (
    AUTOGRAD_DIR,
    AUTOGRAD_PREFIX,
    FUNCTIONS_MANUAL,
    NATIVE_DIR,
    FunctionBody,
    blank_comments_and_strings,
    condition_at,
    function_bodies,
    read_shipped_json,
    split_top,
)

LOCALS_FILE = "upstream_locals.json"
LOCALS_SCHEMA = 1
MAX_ROUNDS = 6  # substitution rounds: locals defined on locals, a few levels deep
MAX_TEXT = 2000  # a rewritten condition longer than this is left as written

log = logging.getLogger(__name__)

_TYPES = (r"(?:auto|bool|int|int64_t|int32_t|size_t|uint64_t|long|double|float|"
          r"c10::SymInt|SymInt|ScalarType|at::ScalarType|c10::ScalarType)")
_DEFINITION = re.compile(r"(?:^|(?<=[;{}]))\s*(?:(?:const|constexpr|static)\s+)*" + _TYPES
                         + r"\s+(\w+)\s*=\s*([^;{}]+);")
# `auto [hx, cx] = unpack_hidden(hidden);`: a structured binding
_UNPACKED = re.compile(r"(?:^|(?<=[;{}]))\s*(?:const\s+)?auto\s*&{0,2}\s*\[\s*(\w+(?:\s*,\s*\w+)*)"
                       r"\s*\]\s*=\s*([^;{}]+);")
# a name as an operand: not a member (`x.f`), not a call or a qualifier (`f(`, `ns::`), not
# the object of a method call (`output.defined()`: an object, not a value to rewrite)
# `at::Tensor result, unused;`: Tensors declared without a value are undefined Tensors
_DECLARED = re.compile(r"(?:^|(?<=[;{}]))\s*(?:at::)?Tensor\s+(\w+(?:\s*,\s*\w+)*)\s*;")
UNDEFINED_TENSOR = "Tensor()"
_RETURN = re.compile(r"(?<![\w.])return\s+([^;]+);")
_WORD = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\b(?!\s*(?:\(|::|\.|->))")
# a name as an operand or as the object of a method call (not a call, a qualifier, a member)
_OBJECT_WORD = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\b(?!\s*(?:\(|::))")
# a name whose rank is asked: `t2->dim()`, `t1.dim()`
_RANK_OF = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\b(?=\s*(?:\.|->)\s*dim\s*\(\s*\))")
_COMPOUND = re.compile(r"[\s+\-*/%<>=!&|?]")


@dataclass(frozen=True)
class FunctionScope:
    """What one C++ function body defines: parameters, locals (name, expression, line) and
    the calls of other functions of its file (callee, line, argument texts)."""

    name: str
    path: str
    params: tuple[str, ...]
    locals: tuple[tuple[str, str, int], ...]
    calls: tuple[tuple[str, int, tuple[str, ...]], ...]
    assigned: tuple[tuple[str, int], ...] = ()  # a parameter or local set again, and where
    # a `bool` function's `return` statements: (value, line, the condition reaching it)
    returns: tuple[tuple[str, int, str], ...] = ()
    # `auto [hx, cx] = unpack_hidden(hidden);`: each name, the expression it unpacks, line
    unpacked: tuple[tuple[str, str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "path": self.path, "params": list(self.params),
            "locals": [list(x) for x in self.locals],
            "calls": [[c, line, list(args)] for c, line, args in self.calls],
            "assigned": [list(x) for x in self.assigned]}
        if self.returns:
            out["returns"] = [list(x) for x in self.returns]
        if self.unpacked:
            out["unpacked"] = [list(x) for x in self.unpacked]
        return out


@dataclass
class LocalsSet:
    """Scopes by function name (a name defined in several files keeps each)."""

    origin: str = "none"
    scopes: dict[str, list[FunctionScope]] = field(default_factory=dict)

    def add(self, scope: FunctionScope) -> None:
        self.scopes.setdefault(scope.name, []).append(scope)

    def find(self, name: str, path: str = "") -> FunctionScope | None:
        found = self.scopes.get(name) or self.scopes.get(name.removesuffix("_symint")) or []
        return next((s for s in found if not path or s.path == path),
                    found[0] if len(found) == 1 else None)


# ---------------------------------------------------------------- scanning


def scan_locals(text: str, path: str) -> list[FunctionScope]:
    """The scope of every top-level function body in one C++ file."""
    clean = blank_comments_and_strings(text)
    bodies = function_bodies(clean)
    names = {b.name for b in bodies}
    out: list[FunctionScope] = []
    for body in bodies:
        segment = clean[body.start + 1:body.end]
        defined: dict[str, list[tuple[str, int]]] = {}
        for m in _DEFINITION.finditer(segment):
            line = clean.count("\n", 0, body.start + 1 + m.start(1)) + 1
            defined.setdefault(m.group(1), []).append((" ".join(m.group(2).split()), line))
        for m in _DECLARED.finditer(segment):
            line = clean.count("\n", 0, body.start + 1 + m.start(1)) + 1
            for name in re.split(r"\s*,\s*", m.group(1)):
                defined.setdefault(name, []).append((UNDEFINED_TENSOR, line))
        single = tuple((n, v[0][0], v[0][1]) for n, v in defined.items() if len(v) == 1)
        params = _params(clean, body.start)
        unpacked = tuple(
            (name.strip(), " ".join(m.group(2).split()),
             clean.count("\n", 0, body.start + 1 + m.start(1)) + 1)
            for m in _UNPACKED.finditer(segment) for name in m.group(1).split(","))
        out.append(FunctionScope(body.name, path, params, single,
                                 tuple(_calls(clean, body.start, body.end, names)),
                                 _assigned(clean, body.start, {*params, *defined}),
                                 _returns(clean, body), unpacked))
    return out


def _returns(clean: str, body: FunctionBody) -> tuple[tuple[str, int, str], ...]:
    """The `return` statements of a function declared to return `bool` (`should_fold`), with
    the condition under which each is reached (early returns above it negated): a predicate
    a condition calls is decided from them."""
    head = clean[max(clean.rfind(";", 0, body.start), clean.rfind("}", 0, body.start)) + 1:
                 body.start]
    if not re.search(r"\bbool\s+" + re.escape(body.name) + r"\s*\(", head):
        return ()
    out = []
    for m in _RETURN.finditer(clean, body.start, body.end):
        line = clean.count("\n", 0, m.start()) + 1
        out.append((" ".join(m.group(1).split()), line, condition_at(clean, body, m.start())))
    return tuple(out)


def _assigned(clean: str, brace: int, names: set[str]) -> tuple[tuple[str, int], ...]:
    """Where a parameter or local gets a new value (`dim0 = maybe_wrap_dim(dim0, n);`,
    `n /= k;`): from there on its first value is not the one the condition sees."""
    end = clean.find("}", brace)
    depth, i = 0, brace
    while i < len(clean):
        depth += {"{": 1, "}": -1}.get(clean[i], 0)
        if depth == 0:
            end = i
            break
        i += 1
    out = []
    for m in re.finditer(r"(?<![\w.>:])(\w+)\s*(?:[-+*/%|&^]|<<|>>)?=(?!=)",
                         clean[brace:end]):
        start = brace + m.start()
        before = clean[max(0, start - 80):start].rstrip()
        if m.group(1) in names and not re.search(_TYPES + r"$|[<>]$|,$|\($", before):
            out.append((m.group(1), clean.count("\n", 0, start) + 1))
    return tuple(out)


def _params(clean: str, brace: int) -> tuple[str, ...]:
    """The parameter names of the function whose body opens at `brace`."""
    close = clean.rfind(")", 0, brace)
    depth, i = 0, close
    while i >= 0:
        depth += {")": 1, "(": -1}.get(clean[i], 0)
        if depth == 0:
            break
        i -= 1
    out = []
    for part in split_top(clean[i + 1:close], ","):
        part = part.split("=", 1)[0].strip()
        found = re.search(r"(\w+)\s*(?:\[[^\]]*\])?$", part)
        if found and found.group(1) not in ("void",):
            out.append(found.group(1))
    return tuple(out)


def _calls(clean: str, start: int, end: int, names: set[str]
           ) -> list[tuple[str, int, tuple[str, ...]]]:
    """Calls of the file's own functions (`_matmul_impl(...)`, also written
    `at::native::_matmul_impl(...)`) and of ATen operators (`at::matmul(input, weight.t())`,
    named `matmul`: the operator's kernel binds its parameters to these arguments)."""
    out = []
    for m in re.finditer(r"(?<![\w.:>])(at::(?:native::)?|native::)?(\w+)\s*"
                         r"(?:<[^<>();{}]*>)?\s*\(", clean[start:end]):
        if m.group(2) not in names and m.group(1) != "at::":
            continue
        open_paren = start + m.end() - 1
        depth, i = 0, open_paren
        while i < end:
            depth += {"(": 1, ")": -1}.get(clean[i], 0)
            if depth == 0:
                break
            i += 1
        inner = clean[open_paren + 1:i]
        # every argument kept, a blanked string literal too: positions must match params
        args = tuple(" ".join(a.split()) for a in split_args(inner, ",")) if inner.strip() \
            else ()
        line = clean.count("\n", 0, start + m.start()) + 1
        out.append((m.group(2), line, args))
    return out


def scan_locals_tree(root: Path, files: list[str] | None = None) -> LocalsSet:
    """The scopes of the files scan_tree reads in a PyTorch source tree (FunctionsManual.cpp's
    functions named `autograd::<name>`, as the edges name them)."""
    base = root / NATIVE_DIR
    rels = list(files) if files is not None else sorted(
        p.relative_to(root).as_posix() for p in base.rglob("*.cpp")) if base.is_dir() else []
    if files is None and (root / FUNCTIONS_MANUAL).is_file():
        rels.append(FUNCTIONS_MANUAL)
    out = LocalsSet(f"PyTorch source tree ({len(rels)} files)")
    for rel in rels:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        for scope in scan_locals(text, rel):
            if rel.startswith(AUTOGRAD_DIR):
                scope = replace(scope, name=AUTOGRAD_PREFIX + scope.name, calls=tuple(
                    (AUTOGRAD_PREFIX + c, line, args) for c, line, args in scope.calls))
            out.add(scope)
    return out


# ---------------------------------------------------------------- shipped data


def locals_to_json(scopes: LocalsSet, meta: dict[str, object]) -> dict[str, object]:
    rows = [s.to_json() for name in sorted(scopes.scopes) for s in scopes.scopes[name]]
    return {**meta, "schema": LOCALS_SCHEMA, "functions": rows}


def locals_from_json(data: dict[str, Any], origin: str) -> LocalsSet:
    out = LocalsSet(origin)
    for row in data.get("functions", []):
        out.add(FunctionScope(
            str(row["name"]), str(row["path"]), tuple(str(p) for p in row["params"]),
            tuple((str(n), str(e), int(line)) for n, e, line in row["locals"]),
            tuple((str(c), int(line), tuple(str(a) for a in args))
                  for c, line, args in row["calls"]),
            tuple((str(n), int(line)) for n, line in row.get("assigned", ())),
            tuple((str(v), int(line), str(c)) for v, line, c in row.get("returns", ())),
            tuple((str(n), str(e), int(line)) for n, e, line in row.get("unpacked", ()))))
    return out


def load_shipped_locals() -> LocalsSet:
    """docgen/data/upstream_locals.json; an empty set when missing or of another schema."""
    data = read_shipped_json(LOCALS_FILE, LOCALS_SCHEMA, "local definitions not used")
    if data is None:
        return LocalsSet()
    return locals_from_json(data, str(data.get("origin", "shipped locals")))


# ---------------------------------------------------------------- rewriting conditions


def _substitute(text: str, values: dict[str, str], objects: bool = False) -> str:
    """`values` substituted for the names they define; with `objects`, also where the name
    is the object of a method call (`tensor1.dim()` with tensor1 bound to `weight.t()`)."""
    def value(m: re.Match[str]) -> str:
        found = values.get(m.group(1))
        if found is None:
            return m.group(0)
        return f"({found})" if _COMPOUND.search(found) else found

    return (_OBJECT_WORD if objects else _WORD).sub(value, text)


def rewrite(condition: str, scope: FunctionScope | None, line: int,
            bound: dict[str, str] | None = None) -> str:
    """`condition` read at `line` of `scope`'s function with its locals defined above that
    line replaced by their expressions and its parameters by the bound arguments."""
    if scope is None or not condition:
        return condition
    values = {n: e for n, e, at in scope.locals if at < line}
    params = {p: a for p, a in (bound or {}).items() if p not in values}
    for name, at in scope.assigned:
        if at < line:
            values.pop(name, None)  # set again above the condition: its value is not known
            params.pop(name, None)
    # a tensor local chosen by a condition (`t1 = transpose ? a : b`) is substituted where
    # its rank is asked (`t1->dim()`): which tensor it is decides the rank
    chosen = {n: e for n, e in values.items() if _ternary_value(e)}
    text = condition
    for _ in range(MAX_ROUNDS):
        new = _RANK_OF.sub(lambda m: f"({chosen[m.group(1)]})" if m.group(1) in chosen
                           else m.group(0), _substitute(text, values))
        if new == text or len(new) > MAX_TEXT:
            break
        text = new
    # the arguments are texts of the caller's scope: substituted once, never read again in
    # this one (`addmm_impl_cpu_(result, result, ...)` binds `self` to the caller's `result`)
    new = _substitute(text, params, objects=True)
    return new if len(new) <= MAX_TEXT else text


def bind_call(caller: FunctionScope | None, callee: FunctionScope | None, line: int,
              caller_bound: dict[str, str] | None = None, called: str = "",
              schema: str = "") -> dict[str, str]:
    """The callee's parameters -> the argument texts of the call at `line` of `caller`,
    rewritten in the caller's scope (its locals and its own bound parameters). `called` is
    the name the call is written with when it is not the callee's (`at::matmul(...)` reaching
    the kernel function of operator `matmul`). With the operator's `schema`, a call that
    leaves out trailing arguments (`at::addmm(*bias, input, weight.t())`) gives the kernel
    the schema's defaults for them (`beta` = 1), as the C++ API fills them in; a parameter
    the schema does not name (a structured kernel's `result`) stays unbound."""
    if caller is None or callee is None:
        return {}
    name = called or callee.name
    call = next((c for c in caller.calls if c[0] == name and c[1] == line), None)
    if call is None:
        return {}
    if len(call[2]) == len(callee.params):
        return {param: rewrite(arg, caller, line, caller_bound)
                for param, arg in zip(callee.params, call[2], strict=True)}
    defaults = schema_defaults(schema)
    if defaults is None or len(call[2]) > len(callee.params):
        return {}
    out = {param: rewrite(arg, caller, line, caller_bound)
           for param, arg in zip(callee.params, call[2], strict=False)}
    for param in callee.params[len(call[2]):]:
        if param in defaults:
            out[param] = defaults[param]
    return out


# schema default -> the C++ literal the API passes (`None` is an empty optional: not bound)
_DEFAULT_LITERALS = {"True": "true", "False": "false"}


def schema_defaults(schema: str) -> dict[str, str] | None:
    """A native_functions.yaml schema's arguments with a literal default -> the C++ text
    (`Scalar beta=1` -> beta: `1`, `bool keepdim=False` -> `false`); None for a schema
    whose C++ API packs arguments (a factory's `TensorOptions` stands for dtype, layout,
    device and pin_memory), where the call's arguments are not the schema's in order."""
    if not schema or "(" not in schema:
        return None
    inside = schema.split("(", 1)[1].rsplit(") ->", 1)[0]
    out: dict[str, str] = {}
    names: list[str] = []
    for part in inside.split(","):
        words = part.strip().split("=", 1)
        decl = words[0].split()
        if len(decl) < 2:
            continue
        names.append(decl[-1])
        if len(words) == 2:
            value = words[1].strip()
            if re.fullmatch(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", value) or value in _DEFAULT_LITERALS:
                out[decl[-1]] = _DEFAULT_LITERALS.get(value, value)
    if {"dtype", "layout", "device"} <= set(names):
        return None
    return out


def _schema_names(schema: str) -> list[str]:
    """A schema's parameter names in order (`*` left out); none for a factory's, whose C++
    API packs dtype, layout and device into one TensorOptions."""
    if schema_defaults(schema) is None:
        return []
    inside = schema.split("(", 1)[1].rsplit(") ->", 1)[0]
    return [decl[-1] for decl in (part.split("=", 1)[0].split() for part in inside.split(","))
            if len(decl) >= 2]


class ScopeTracker:
    """The scopes along one taken path: which arguments each C++ helper was called with on
    the way down (set when the walk enters it), and conditions rewritten with them."""

    def __init__(self, scopes: LocalsSet) -> None:
        self.scopes = scopes
        self.bound: dict[str, dict[str, str]] = {}
        # helper -> (its caller, the line of the call) where the walk entered it
        self.entered: dict[str, tuple[str, int]] = {}

    def _scope(self, function: str, path: str) -> FunctionScope | None:
        # `mkldnn_impl<hidden_type>`: the template's scope
        return self.scopes.find(re.sub(r"<.*>$", "", function), path)

    def rewrite(self, condition: str, function: str, path: str, line: int) -> str:
        if not condition or not function:
            return condition
        text = rewrite(condition, self._scope(function, path), line,
                       self.bound.get(function))
        return self.predicates(text)

    def roots(self, function: str, path: str, line: int) -> set[str] | None:
        """The variables the tensor computed at `line` of `function` comes from, when that
        line defines a local (`auto layer_hx = hx[index];`): its expression rewritten with
        the locals above it and the arguments the path passed, down to names nothing
        defines (`hx`, a parameter of the operator the walk started from). Index and
        template arguments are left out (`hx[index]` reads `hx`); None when no local is
        defined at that line."""
        scope = self._scope(function, path)
        if scope is None:
            return None
        found = [e for _, e, at in scope.locals if at == line]
        if len(found) != 1:
            return None
        return self._roots(found[0], function, path, line, 0)

    def _roots(self, text: str, function: str, path: str, line: int, depth: int
               ) -> set[str] | None:
        """The root variables of `text`, read at `line` of `function`: a local or unpacked
        name is followed to its expression, a parameter to the argument the path passed
        (in the caller's scope); a parameter of a function the path entered from another
        file (or the operator it started from) is a root. None when a name is neither."""
        scope = self._scope(function, path)
        if scope is None or depth > MAX_ROUNDS * 2:
            return None
        out: set[str] = set()
        for name in dict.fromkeys(_VARIABLE.findall(_without_indices(text))):
            defined = [(e, at) for n, e, at in (*scope.locals, *scope.unpacked)
                       if n == name and at < line]
            if any(n == name and at < line for n, at in scope.assigned):
                return None  # set again on the way: its value depends on the path
            if len(defined) == 1:
                found = self._roots(defined[0][0], function, path, defined[0][1], depth + 1)
            elif name in scope.params:
                found = self._param_roots(name, scope, function, path, depth)
            else:
                return None
            if found is None:
                return None
            out |= found
        return out

    def _param_roots(self, name: str, scope: FunctionScope, function: str, path: str,
                     depth: int) -> set[str] | None:
        entered = self.entered.get(re.sub(r"<.*>$", "", function))
        if entered is None:
            return {name}  # entered from another file, or the operator the walk began at
        caller, line = entered
        caller_scope = self._scope(caller, path)
        if caller_scope is None:
            return {name}  # called from a body the locals do not describe (a DispatchStub)
        call = next((c for c in caller_scope.calls if c[0] == scope.name and c[1] == line),
                    None)
        if call is None or len(call[2]) != len(scope.params):
            return None
        return self._roots(call[2][scope.params.index(name)], caller, path, line, depth + 1)

    def enter(self, helper: str, caller: str, path: str, line: int) -> None:
        """The walk goes into `helper`, called at `line` of `caller` (same file)."""
        callee = self._scope(helper, path)
        if callee is None:
            return
        self.entered[re.sub(r"<.*>$", "", helper)] = (caller, line)
        self.bound[helper] = bind_call(self._scope(caller, path), callee, line,
                                       self.bound.get(caller))

    def enter_kernel(self, kernel: str, operator: str, caller: str, path: str,
                     line: int, schema: str = "") -> None:
        """The walk goes into the kernel function `kernel` of `operator`, called as
        `at::<operator>(...)` at `line` of `caller` (in `path`): the kernel's parameters are
        that call's arguments (a native function takes the operator's arguments in schema
        order; the ones the call leaves out get `schema`'s defaults), rewritten in the
        caller's scope."""
        callee = self.scopes.find(kernel)
        if callee is None:
            return
        bound = bind_call(self._scope(caller, path), callee, line, self.bound.get(caller),
                          operator, schema)
        if bound:
            self.bound[kernel] = bound
        else:
            self.bound.pop(kernel, None)  # reached another way: what it got is not known

    def enter_operator_kernel(self, kernel: str, schema: str) -> None:
        """The walk goes into the kernel function `kernel` of an operator Python called: a
        native function takes the operator's arguments in schema order, so its parameters
        are the schema's names, which the layer's facts describe (`tensor1` is `self`)."""
        callee = self.scopes.find(kernel)
        names = _schema_names(schema)
        if callee is None or len(names) != len(callee.params):
            self.bound.pop(kernel, None)
            return
        self.bound[kernel] = {param: name for param, name in
                              zip(callee.params, names, strict=True) if param != name}

    def predicates(self, text: str) -> str:
        """Calls of a `bool` function read in the same files (`should_fold(input,
        weight.t(), Tensor().defined())`) replaced by what its `return` statements say: the
        disjunction, over the returns of a value other than `false`, of the condition
        reaching the return and its value, in the function's scope with its parameters
        bound to the arguments (the conditions exclude each other: each negates the early
        returns above it)."""
        for _ in range(MAX_ROUNDS):
            new = text
            for m in _PREDICATE_CALL.finditer(text):
                close = _closing_paren(text, m.end() - 1)
                found = self._expanded(m.group(1), text[m.end():close]) if close > 0 \
                    else None
                if found is not None:
                    new = text[:m.start()] + found + text[close + 1:]
                    break
            if new == text or len(new) > MAX_TEXT:
                return text
            text = new
        return text

    def _expanded(self, name: str, inner: str) -> str | None:
        scope = self.scopes.find(name)
        if scope is None or not scope.returns or not scope.params:
            return None  # no parameters: a fact of the build or process, decided by name
        args = [" ".join(a.split()) for a in split_args(inner, ",")] if inner.strip() else []
        if len(args) != len(scope.params):
            return None
        bound = dict(zip(scope.params, args, strict=True))
        terms = []
        for value, line, condition in scope.returns:
            if value == "false":
                continue
            parts = [rewrite(c, scope, line, bound) for c in (condition, value)
                     if c and c != "true"]
            terms.append(" && ".join(f"({p})" for p in parts) if parts else "true")
        return "(" + (" || ".join(f"({t})" for t in terms) if terms else "false") + ")"


def _ternary_value(expression: str) -> bool:
    return ternary(expression) is not None


# `should_fold(` in a condition: a call of a function, not a method or a qualified name
_PREDICATE_CALL = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\s*\(")


def _closing_paren(text: str, open_: int) -> int:
    depth = 0
    for i in range(open_, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return -1


# a variable in an expression: not a member, a qualifier, a called or templated name, a number
_VARIABLE = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\b(?!\s*(?:\(|::|<|\.\s*\w+\s*<))")


def _without_indices(text: str) -> str:
    """`text` without what `[...]` and `<...>` after a name hold: indices and template
    arguments are not tensors read."""
    out, depth = [], 0
    for i, ch in enumerate(text):
        if ch == "[" or (ch == "<" and i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            depth += 1
            continue
        if depth and ch in "]>":
            depth -= 1
            continue
        if not depth:
            out.append(ch)
    return "".join(out)


def tidy_condition(text: str) -> str:
    """A condition as shown to a reader: redundant parentheses dropped (`!(((a == b)))` ->
    `!(a == b)`, `((x))` -> `x`, a whole condition wrapped once -> unwrapped)."""
    pairs = _pairs(text)
    if pairs is None:
        return text
    drop: set[int] = set()
    for open_, close in pairs.items():
        inner = text[open_ + 1:close].strip()
        before = text[:open_].rstrip()
        is_call = bool(before) and (before[-1].isalnum() or before[-1] in "_>]")
        after = text[close + 1:close + 2]
        if is_call or (after.isalnum() or after == "_"):
            continue  # a call's own parentheses, or a cast `(T)x`
        first = open_ + 1 + (len(text[open_ + 1:close]) - len(text[open_ + 1:close].lstrip()))
        last = close - 1 - (len(text[open_ + 1:close]) - len(text[open_ + 1:close].rstrip()))
        doubled = text[first:first + 1] == "(" and pairs.get(first) == last
        simple = not _COMPOUND.search(inner.replace("::", "").replace("->", ""))
        whole = open_ == 0 and close == len(text) - 1
        if doubled or simple or whole:
            drop.update((open_, close))
    return "".join(ch for i, ch in enumerate(text) if i not in drop).strip()


def _pairs(text: str) -> dict[int, int] | None:
    stack: list[int] = []
    out: dict[int, int] = {}
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")":
            if not stack:
                return None
            out[stack.pop()] = i
    return out if not stack else None
