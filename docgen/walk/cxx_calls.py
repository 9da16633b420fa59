"""Calls a C++ kernel body makes through templates, member functions and function objects,
and the Tensor operators its expressions apply (`a * b` is `mul`, `t[i]` is `select`), for
the edge scanner (upstream.py); the types come from cxx_types.py.

A specialisation is named as C++ spells it, with what was bound: `_rnn_impl<LSTMCell<
CellParams>, FullLayer, FullBidirectionalLayer, CellParams, io_type>`, `FullLayer<
hidden_type, CellParams>::operator()`; a parameter that receives an object of a known
concrete type adds `[layer: FullLayer<...>]`. Calls the scanner's literal-template
mechanism handles (`_dropout_impl<false, false, inplace>`) are left to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from docgen.walk.cxx_types import (
    IDENT,
    INPLACE,
    OPERATORS,
    FileTypes,
    Function,
    Struct,
    balanced_end,
    body_types,
    closing_index,
    concrete,
    expression_type,
    is_tensor,
    is_tensor_list,
    is_tensor_type,
    read_file_types,
    resolved,
    split_args,
    substitute,
    type_tree,
    unify,
)

MAX_SPECIALISATIONS = 400
_LITERAL = re.compile(r"true|false|-?\d+")


@dataclass(frozen=True)
class Site:
    """A call through a template, a member function or a function object."""

    offset: int  # in the file's cleaned text
    kind: str  # func, member, functor, this
    name: str  # the function or method called
    receiver: str  # the receiver's name (member, functor), or ""
    receiver_type: str  # its declared type (unsubstituted), or the temporary's type
    targs: tuple[str, ...]
    args: tuple[str, ...]
    built: str = ""  # a temporary's braces, `{step}` of `LoopT<...>{step}(...)`


@dataclass(frozen=True)
class Call:
    """A site resolved for one binding: the body it runs and the binding it runs with."""

    offset: int
    function: Function
    name: str
    binding: tuple[tuple[str, str], ...]
    objects: tuple[tuple[str, str], ...]  # parameter/field -> concrete type
    context: tuple[str, ...]


class FileCalls:
    """The types and call sites of one file, and the specialisations its kernels reach."""

    def __init__(self, clean: str, shared: FileTypes | None = None, unit: int = 0) -> None:
        self.clean = clean
        self.types = read_file_types(clean)
        for fn in [f for fs in self.types.functions.values() for f in fs]:
            fn.unit = unit
        if shared is not None:  # a macro expansion: its functions, the file's types
            self.types = merged_types(self.types, shared)
        self.scopes: dict[int, dict[str, str]] = {}

    # -------------------------------------------------------------- functions

    def all_functions(self) -> list[Function]:
        out = [f for fs in self.types.functions.values() for f in fs]
        out += [f for s in self.types.structs.values() for fs in s.methods.values() for f in fs]
        return sorted(out, key=lambda f: f.start)

    def members(self) -> list[Function]:
        return [f for s in self.types.structs.values() for fs in s.methods.values() for f in fs]

    def is_typed_template(self, name: str) -> bool:
        """A free function template with a type parameter (`typename T`, `class LayerT`)."""
        return any(f.template for f in self.types.functions.get(name, ()))

    def scope(self, fn: Function) -> dict[str, str]:
        if fn.start not in self.scopes:
            scope = body_types(self.clean, fn, self.types)
            owner = self.types.structs.get(fn.owner)
            if owner is not None:
                for alias, target in owner.aliases.items():
                    scope.setdefault(f"using:{alias}", target)
            self.scopes[fn.start] = scope
        return self.scopes[fn.start]

    # -------------------------------------------------------------- sites

    def sites(self, fn: Function) -> list[Site]:
        body = self.clean[fn.start + 1:fn.end]
        scope = self.scope(fn)
        out: list[Site] = []
        for m in re.finditer(r"\(\s*\*\s*this\s*\)\s*\(", body):
            args = self._args(body, m.end() - 1)
            out.append(Site(fn.start + 1 + m.start(), "this", "operator()", "this",
                            fn.owner, (), args))
        owner = self.types.structs.get(fn.owner)
        params = set(fn.template) | set(owner.template if owner else ())
        for m in re.finditer(r"(?<![\w.:>])([A-Za-z_]\w*)", body):
            site = self._site(body, m, scope, fn.start + 1, params)
            if site is not None:
                out.append(site)
        return out

    def _args(self, body: str, open_: int) -> tuple[str, ...]:
        return tuple(split_args(body[open_ + 1:balanced_end(body, open_, "(", ")")]))

    def _site(self, body: str, m: re.Match[str], scope: dict[str, str],
              base: int, params: set[str] = frozenset()) -> Site | None:  # type: ignore[assignment]
        name = m.group(1)
        if name in ("return", "if", "for", "while", "switch", "sizeof", "operator", "this",
                    "new", "delete", "static_cast", "decltype", "template", "typename"):
            return None
        if m.start() >= 2 and body[m.start() - 2:m.start()] == "->":
            return None
        i = m.end()
        targs: tuple[str, ...] = ()
        if body.startswith("<", i) or (body[i:].lstrip().startswith("<") and name in (
                *self.types.functions, *self.types.structs)):
            j = body.index("<", i)
            if re.search(r"\s", body[i:j]) and name not in self.types.functions:
                return None
            end = closing_index(body, j, stops=";{}")
            if end is None:
                return None
            targs = tuple(split_args(body[j + 1:end]))
            i = end + 1
        temporary = False
        built = ""
        rest = body[i:]
        lead = len(rest) - len(rest.lstrip())
        if rest.lstrip().startswith("{") and (name in self.types.structs or name in params
                                             or f"using:{name}" in scope or targs):
            close = balanced_end(body, i + lead, "{", "}")
            built = body[i + lead:close + 1]
            i, temporary = close + 1, True
            rest = body[i:]
            lead = len(rest) - len(rest.lstrip())
        if rest.lstrip().startswith("("):
            open_ = i + lead
            args = self._args(body, open_)
            typed = f"{name}<{', '.join(targs)}>" if targs else name
            if temporary:
                return Site(base + m.start(), "functor", "operator()", "", typed, (), args,
                            built)
            if name in self.types.functions and self.is_typed_template(name):
                return Site(base + m.start(), "func", name, "", "", targs, args)
            if name in scope and not targs:
                return Site(base + m.start(), "functor", "operator()", name, scope[name], (),
                            args)
            return None
        chain = re.match(r"((?:\s*(?:\.|->)\s*\w+)+)\s*\(", rest)
        if chain is None or targs or name not in scope:
            return None
        parts = re.findall(r"\w+", chain.group(1))
        method, path = parts[-1], parts[:-1]
        args = self._args(body, i + chain.end() - 1)
        return Site(base + m.start(), "member", method, ".".join([name, *path]), scope[name],
                    (), args)

    # -------------------------------------------------------------- resolution

    def resolve(self, fn: Function, site: Site, binding: dict[str, str],
                objects: dict[str, str], context: tuple[str, ...]) -> list[Call]:
        scope = self.scope(fn)
        if site.kind == "func":
            return self._free(fn, site, binding, objects, context, scope)
        receiver_type, dynamic = self._receiver(fn, site, binding, objects, scope)
        if not receiver_type:
            return []
        if site.built:  # a temporary called at once: its constructor's fields
            objects = {**objects, **self._fields(site.receiver_type + site.built, binding,
                                                 objects, scope)}
        # a call on `this` or on a field keeps the object's fields' concrete types
        return self._method(site, receiver_type, dynamic, binding, context, scope,
                            objects if site.kind in ("this", "functor", "member") else None)

    def _receiver(self, fn: Function, site: Site, binding: dict[str, str],
                  objects: dict[str, str], scope: dict[str, str]) -> tuple[str, str]:
        if site.kind == "this":
            owner = self.types.structs.get(fn.owner)
            if owner is None:
                return "", ""
            args = ", ".join(binding.get(p, p) for p in owner.template)
            return (f"{owner.name}<{args}>" if owner.template else owner.name), ""
        parts = site.receiver.split(".") if site.receiver else []
        typ = concrete(site.receiver_type, binding, scope, self.types)
        dynamic = objects.get(parts[0], "") if parts else ""
        for part in parts[1:]:
            typ = self._field(typ, part, scope)
            dynamic = ""
            if not typ:
                return "", ""
        return typ, dynamic

    def _field(self, typ: str, name: str, scope: dict[str, str]) -> str:
        head, args = type_tree(typ)
        if head.rsplit("::", 1)[-1] == "pair" and len(args) == 2 and name in ("first",
                                                                              "second"):
            return args[0 if name == "first" else 1]
        struct = self.types.structs.get(head)
        if struct is None or name not in struct.fields:
            return ""
        inner = dict(zip(struct.template, args, strict=False))
        return resolved(substitute(struct.fields[name], inner), scope, self.types)

    def _method(self, site: Site, static: str, dynamic: str, binding: dict[str, str],
                context: tuple[str, ...], scope: dict[str, str],
                objects: dict[str, str] | None = None) -> list[Call]:
        head = type_tree(static)[0]
        struct = self.types.structs.get(head)
        if struct is None:
            return []
        n = len(site.args)
        virtual = site.name in struct.virtual or not _fits(struct.methods.get(site.name, ()), n)
        targets: list[str] = []
        if dynamic:
            targets = [dynamic]
        elif virtual:
            # a virtual call through a base: the concrete types bound on the way that
            # derive from it and override the method
            targets = [t for t in dict.fromkeys(context)
                       if type_tree(t)[0] != head
                       and self.types.derives(type_tree(t)[0], head)
                       and _fits(self.types.structs[type_tree(t)[0]].methods.get(site.name, ()),
                                 n)]
        if not targets:
            targets = [static]
        out: list[Call] = []
        for target in targets:
            t_head, t_args = type_tree(resolved(target, scope, self.types))
            found = self.types.structs.get(t_head)
            if found is None:
                continue
            overloads = [f for f in found.methods.get(site.name, ()) if _arity(f, n)]
            if virtual or dynamic:
                overloads = [f for f in overloads if f.is_override] or overloads
            inner = dict(zip(found.template, t_args, strict=False))
            spelled = f"{t_head}<{', '.join(t_args)}>" if found.template else t_head
            kept = {k: v for k, v in (objects or {}).items() if k in found.fields}
            for f in overloads:
                suffix = f"({len(f.params)})" if len(found.methods[site.name]) > 1 else ""
                name = f"{spelled}::{site.name}{suffix}{_objects_suffix(kept)}"
                out.append(Call(site.offset, f, name, tuple(inner.items()),
                                tuple(kept.items()),
                                (*context, *(v for v in inner.values()))))
        return out

    def _free(self, fn: Function, site: Site, binding: dict[str, str],
              objects: dict[str, str], context: tuple[str, ...],
              scope: dict[str, str]) -> list[Call]:
        out: list[Call] = []
        n = len(site.args)
        for cand in self.types.functions.get(site.name, ()):
            if not _arity(cand, n) or not cand.template:
                continue
            bound: dict[str, str] = {}
            for param, targ in zip(cand.template, site.targs, strict=False):
                bound[param] = concrete(targ, binding, scope, self.types)
            if any(_LITERAL.fullmatch(v) for v in bound.values()):
                return []  # a literal template argument: the scanner's own mechanism
            passed: dict[str, str] = {}
            for (ptype, pname), arg in zip(cand.params, site.args, strict=False):
                typ = self._argument_type(arg, binding, objects, scope)
                if typ:
                    unify(ptype, typ, cand.template, bound)
                    if type_tree(typ)[0] in self.types.structs:
                        passed[pname] = typ
                        passed.update(self._fields(arg, binding, objects, scope))
            spelled = ", ".join(bound.get(p, p) for p in cand.template)
            name = f"{cand.name}<{spelled}>"
            merged = {**objects, **passed}
            out.append(Call(site.offset, cand, name + _objects_suffix(merged),
                            tuple(bound.items()), tuple(merged.items()),
                            (*context, *bound.values(), *passed.values())))
        return out

    def _fields(self, arg: str, binding: dict[str, str], objects: dict[str, str],
                scope: dict[str, str], depth: int = 0) -> dict[str, str]:
        """The concrete types a temporary's constructor stores in its fields:
        `FullLayer<...>{cell}` with `FullLayer(Cell<...>& cell) : cell_(cell)` stores `cell`
        (a `CellType cell;`, bound to `GRUCell<CellParams>`) as `cell_`; a field that is
        itself constructed from a parameter (`layer_(cell)`) passes it on."""
        temp = re.match(r"^([A-Za-z_][\w:]*(?:<.*>)?)\s*\{(.*)\}$", arg.strip(), re.S)
        if temp is None or depth > 4:
            return {}
        typ = concrete(temp.group(1), binding, scope, self.types)
        struct = self.types.structs.get(type_tree(typ)[0])
        if struct is None:
            return {}
        args = split_args(temp.group(2))
        out: dict[str, str] = {}
        for ctor in struct.methods.get(struct.name, ()):
            if not _arity(ctor, len(args)):
                continue
            names = [p for _, p in ctor.params]
            for field_name, expr in ctor.inits:
                if expr not in names or names.index(expr) >= len(args):
                    continue
                given = args[names.index(expr)]
                found = self._argument_type(given, binding, objects, scope)
                if found and type_tree(found)[0] in self.types.structs:
                    declared = struct.fields.get(field_name, "")
                    if type_tree(declared)[0] in self.types.structs and declared.strip()[-1:] \
                            != "&":
                        # a field object built from the argument: its own fields get it
                        inner = f"{type_tree(declared)[0]}{{{given}}}"
                        out.update(self._fields(inner, binding, objects, scope, depth + 1))
                    else:
                        out[field_name] = found
        return out

    def _argument_type(self, arg: str, binding: dict[str, str], objects: dict[str, str],
                       scope: dict[str, str]) -> str:
        arg = arg.strip()
        if IDENT.fullmatch(arg) and arg in objects:
            return objects[arg]
        temp = re.match(r"^([A-Za-z_][\w:]*(?:<.*>)?)\s*\{", arg)
        if temp and f"using:{temp.group(1)}" in scope:
            return concrete(temp.group(1), binding, scope, self.types)
        typ = expression_type(arg, scope, self.types)
        return concrete(typ, binding, scope, self.types) if typ else ""

    # -------------------------------------------------------------- operators

    def operator_calls(self, fn: Function) -> list[tuple[int, str]]:
        """(offset, operator) for Tensor operators in expressions: `a * b` (mul),
        `a + b` (add), `a - b` (sub), `a / b` (div), `a += b` (add_), and `t[i]` on a Tensor
        (select); an operand is a Tensor by its declared type."""
        body = self.clean[fn.start + 1:fn.end]
        scope = self.scope(fn)
        out: list[tuple[int, str]] = []
        for m in re.finditer(r"(?<![-+*/=<>!&|])([-+*/])(=?)(?![-+*/=>])", body):
            op = m.group(1) + m.group(2)
            left = _left_operand(body, m.start())
            if not left:
                continue
            if m.group(2):
                if is_tensor(left, scope, self.types):
                    out.append((fn.start + 1 + m.start(), INPLACE[op]))
                continue
            right = _right_operand(body, m.end())
            if right and (is_tensor(left, scope, self.types)
                          or is_tensor(right, scope, self.types)):
                out.append((fn.start + 1 + m.start(), OPERATORS[op]))
        for m in re.finditer(r"(?<![\w.>])(\w+)\s*\[", body):
            typ = resolved(scope.get(m.group(1), ""), scope, self.types)
            if is_tensor_type(typ) and not is_tensor_list(typ):
                out.append((fn.start + 1 + m.start(), "select"))
        return out


def _objects_suffix(objects: dict[str, str]) -> str:
    return "[" + ", ".join(f"{k}: {v}" for k, v in sorted(objects.items())) + "]" \
        if objects else ""


def merged_types(own: FileTypes, shared: FileTypes) -> FileTypes:
    return FileTypes({**shared.functions, **own.functions}, shared.structs, shared.aliases)




def _arity(fn: Function, n: int) -> bool:
    return fn.required <= n <= len(fn.params)


def _fits(functions: object, n: int) -> bool:
    return any(_arity(f, n) for f in functions)  # type: ignore[attr-defined]


def _left_operand(body: str, at: int) -> str:
    """The operand before a binary operator at `at`: a name, a call chain, an index or a
    parenthesised expression ("" when the operator is unary or a pointer declarator)."""
    j = at - 1
    while j >= 0 and body[j].isspace():
        j -= 1
    if j < 0 or not (body[j].isalnum() or body[j] in "_)]"):
        return ""
    end = j + 1
    while j >= 0:
        ch = body[j]
        if ch in ")]":
            depth = 0
            while j >= 0:
                depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(body[j], 0)
                if depth == 0:
                    break
                j -= 1
            j -= 1
        elif ch.isalnum() or ch == "_":
            j -= 1
        elif ch == "." or (ch == ">" and body[j - 1:j] == "-"):
            j -= 2 if ch == ">" else 1
        else:
            break
    text = body[j + 1:end].strip()
    if re.fullmatch(r"\d+", text) or text in ("return", "auto", "Tensor", "const"):
        return ""
    previous = body[:j + 1].rstrip()
    if re.search(r"\b(?:auto|Tensor|const|int64_t|int|double|bool|float|size_t)\s*$", previous):
        return ""  # `Tensor* p`: a declarator
    return text


def _right_operand(body: str, at: int) -> str:
    j = at
    while j < len(body) and body[j].isspace():
        j += 1
    start = j
    while j < len(body):
        ch = body[j]
        if ch in "([":
            j = balanced_end(body, j, ch, ")" if ch == "(" else "]") + 1
        elif ch.isalnum() or ch in "_.":
            j += 1
        elif ch == "-" and body[j + 1:j + 2] == ">":
            j += 2
        else:
            break
    return body[start:j].strip()


Copier = Callable[[Function, str, dict[str, str]], list[object]]
Maker = Callable[[Function, str, int, str, dict[str, str]], object | None]


def specialised_edges(units: dict[int, tuple[FileCalls, Copier, Maker]],
                      entries: list[Function]) -> list[object]:
    """Edges of every specialisation the entry functions reach: each body's regular edges
    (`regular(fn, caller, binding)`) under its specialised name, and its template, member
    and functor calls resolved (`edge(fn, caller, offset, callee, binding)`); a function's
    `unit` says which text (the file or a macro expansion) its body is read from."""
    out: list[object] = []
    done: set[tuple[str, int, int]] = set()
    pending: list[tuple[Function, str, dict[str, str], dict[str, str], tuple[str, ...]]] = [
        (fn, fn.name, {}, {}, ()) for fn in entries]
    while pending and len(done) < MAX_SPECIALISATIONS:
        fn, name, binding, objects, context = pending.pop(0)
        key = (name, fn.unit, fn.start)  # overloads share a name, not a body
        if key in done or fn.unit not in units:
            continue
        done.add(key)
        calls, regular, edge = units[fn.unit]
        if name != fn.name:
            out.extend(regular(fn, name, binding))
        for site in calls.sites(fn):
            for call in calls.resolve(fn, site, binding, objects, context):
                made = edge(fn, name, call.offset, call.name, binding)
                if made is not None:
                    out.append(made)
                if (call.name, call.function.unit, call.function.start) not in done:
                    pending.append((call.function, call.name, dict(call.binding),
                                    dict(call.objects), call.context))
    return out


__all__ = ["FileCalls", "Struct", "merged_types", "specialised_edges"]
