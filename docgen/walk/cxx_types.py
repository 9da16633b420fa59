"""Types of one C++ file, for the edge scanner (upstream.py): structs with their member
functions, fields and type aliases, the declared type of each name a function body uses,
and the specialisations that calls through templates, member functions and function
objects reach.

RNN.cpp runs a layer as `_lstm_impl<FullLayer, FullBidirectionalLayer>(input, params, ...)`
-> `apply_layer_stack(LayerT<hidden_type, cell_params>{cell}, ...)` -> `layer(...)` ->
`cell_(input, hidden, params)` -> `params.linear_ih(input)`: which body runs is fixed by
template arguments (written, or deduced from the arguments' declared types), by the type of
the object a call goes through, and, for a virtual call through a base (`Cell<...>&`), by
the concrete type bound on the way there. This module follows exactly those facts; it never
guesses between unrelated types. A call it cannot resolve keeps its unresolved text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

IDENT = re.compile(r"[A-Za-z_]\w*")
_QUALIFIERS = re.compile(r"\b(?:const|typename|volatile|static|constexpr|inline|mutable)\b")
_TENSOR_TYPES = {"Tensor", "TensorBase"}
_TENSOR_LISTS = {"TensorList", "ITensorListRef"}
# Tensor methods whose result is no Tensor: sizes, flags, lists of tensors
NOT_TENSOR_METHODS = frozenset({
    "size", "sizes", "sym_size", "sym_sizes", "strides", "stride", "dim", "numel",
    "sym_numel", "options", "scalar_type", "dtype", "device", "defined", "item", "data_ptr",
    "storage", "layout", "ndimension", "has_value", "value_or", "suggest_memory_format",
    "nbytes", "element_size", "unsafeGetTensorImpl", "requires_grad", "const_data_ptr",
    "mutable_data_ptr", "type", "sym_stride", "sym_strides", "storage_offset",
    "sym_storage_offset", "itemsize"})
_TENSOR_VECTORS = {"unbind", "unsafe_chunk", "chunk", "split", "unsafe_split",
                   "split_with_sizes", "unsafe_split_with_sizes", "tensor_split"}
OPERATORS = {"*": "mul", "+": "add", "-": "sub", "/": "div"}
INPLACE = {"*=": "mul_", "+=": "add_", "-=": "sub_", "/=": "div_"}


def normalise(text: str) -> str:
    """`const at::Tensor &` -> `Tensor`; `std::vector< T >` -> `std::vector<T>`."""
    text = _QUALIFIERS.sub(" ", text).replace("&", " ").replace("*", " ")
    text = re.sub(r"\b(?:at|c10)::(?=(?:Tensor|TensorBase|TensorList|ArrayRef)\b)", "", text)
    text = re.sub(r"\s*([<>,:])\s*", r"\1", " ".join(text.split()))
    return text.replace(",", ", ")


def split_args(text: str) -> list[str]:
    """Top-level comma split of an argument or parameter list (aware of (), [], {}, <>)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "<" and _is_angle(text, i):
            depth += 1
        elif ch == ">" and depth > 0 and text[i - 1:i] != "-" and _closes_angle(text, i):
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return [*out, last] if last or out else []


def _is_angle(text: str, i: int) -> bool:
    """`<` opening a template argument list: right after a name, not `a < b` or `<<`."""
    return bool(re.search(r"[\w>]\s*$", text[:i])) and text[i + 1:i + 2] not in ("<", "=") \
        and text[i - 1:i] != "<" and not re.search(r"\b\w+\s+$", text[:i])


def _closes_angle(text: str, i: int) -> bool:
    return text[i + 1:i + 2] != "="


def type_tree(text: str) -> tuple[str, list[str]]:
    """`FullLayer<hidden_type, CellParams>` -> ("FullLayer", ["hidden_type", "CellParams"])."""
    text = normalise(text)
    if "<" not in text or not text.endswith(">"):
        return text, []
    head, _, rest = text.partition("<")
    return head, split_args(rest[:-1])


def closing_index(text: str, start: int, opening: str = "<", closing: str = ">",
                  stops: str = "") -> int | None:
    """The index of the `closing` that matches the first `opening` from `start`; None when
    it is not closed, or a character of `stops` comes first."""
    depth = 0
    for j in range(start, len(text)):
        if text[j] == opening:
            depth += 1
        elif text[j] == closing:
            depth -= 1
            if depth == 0:
                return j
        elif text[j] in stops:
            return None
    return None


def balanced_end(text: str, i: int, opening: str, closing: str) -> int:
    end = closing_index(text, i, opening, closing)
    return len(text) - 1 if end is None else end


def template_params(header: str) -> list[str]:
    """Names declared by the last `template <...>` of a header (`template<typename,typename>
    class LayerT` declares LayerT)."""
    found = list(re.finditer(r"\btemplate\s*<", header))
    if not found:
        return []
    start = found[0].end() - 1
    end = _angle_end(header, start)
    out = []
    inner = re.sub(r"template\s*<[^<>]*>", "template<>", header[start + 1:end])
    for part in split_args(inner):
        part = re.sub(r"^template\s*<.*>\s*", "", part.split("=")[0].strip())
        names = IDENT.findall(part)
        if names:
            out.append(names[-1])
    return out


def _angle_end(text: str, start: int) -> int:
    end = closing_index(text, start)
    return len(text) if end is None else end


@dataclass
class Function:
    """A function or member function with a body."""

    name: str  # apply_layer_stack, FullLayer::operator()
    short: str  # apply_layer_stack, operator()
    owner: str  # the struct it is a member of, or ""
    start: int  # `{`
    end: int  # `}`
    params: list[tuple[str, str]]  # (type text, name)
    required: int  # parameters without a default
    template: list[str]
    returns: str
    is_override: bool = False
    unit: int = 0  # which text its offsets are in: 0 the file, n a macro expansion
    inits: tuple[tuple[str, str], ...] = ()  # a constructor's `: field_(expr)` list


@dataclass
class Struct:
    name: str
    template: list[str]
    bases: list[str]
    fields: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    methods: dict[str, list[Function]] = field(default_factory=dict)
    virtual: set[str] = field(default_factory=set)


@dataclass
class FileTypes:
    """What one file declares: free functions, structs, namespace-level aliases."""

    functions: dict[str, list[Function]] = field(default_factory=dict)
    structs: dict[str, Struct] = field(default_factory=dict)
    aliases: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def derives(self, name: str, base: str, depth: int = 0) -> bool:
        if name == base:
            return True
        found = self.structs.get(name)
        if found is None or depth > 8:
            return False
        return any(self.derives(type_tree(b)[0], base, depth + 1) for b in found.bases)


def read_file_types(clean: str) -> FileTypes:
    """Structs (with members), free functions and `using` aliases at namespace level."""
    out = FileTypes()
    stack: list[tuple[str, Struct | None]] = []
    last = 0
    i = 0
    while i < len(clean):
        ch = clean[i]
        if ch == ";":
            if stack and stack[-1][0] == "type":
                _member_declaration(stack[-1][1], clean[last:i])
            elif all(k == "namespace" for k, _ in stack):
                _alias(out, clean[last:i])
            last = i + 1
        elif ch == "{":
            header = clean[last:i]
            kind, made = _open(out, header, stack, i, clean)
            if kind == "function" and isinstance(made, int):
                i = made  # skip the body: its end
                last = i + 1
                i += 1
                continue
            stack.append((kind, made if isinstance(made, Struct) else None))
            last = i + 1
        elif ch == "}":
            if stack:
                stack.pop()
            last = i + 1
        i += 1
    return out


def _open(out: FileTypes, header: str, stack: list[tuple[str, Struct | None]], brace: int,
          clean: str) -> tuple[str, object]:
    text = " ".join(header.split())
    kinds = [k for k, _ in stack]
    owner = stack[-1][1] if stack and stack[-1][0] == "type" else None
    if any(k not in ("namespace", "type") for k in kinds) or (
            "type" in kinds and owner is None):
        return "inner", None
    if re.match(r"^(?:inline\s+)?namespace\b", text) or text.startswith('extern "C"'):
        return "namespace", None
    found = re.search(r"\b(struct|class)\s+(\w+)\s*(?::\s*(.*))?$", text)
    if found and "(" not in text.split(found.group(0))[0][-1:] and not re.search(
            r"\)\s*$", text):
        bases = [re.sub(r"^(?:public|private|protected|virtual)\s+", "", b.strip())
                 for b in split_args(found.group(3) or "")]
        made = Struct(found.group(2), template_params(text), bases)
        out.structs[made.name] = made
        return "type", made
    if "(" in text and not text.startswith("#"):
        end = balanced_end(clean, brace, "{", "}")
        fn = _function(header, brace, end, owner.name if owner else "")
        if fn is not None:
            if owner is not None:
                owner.methods.setdefault(fn.short, []).append(fn)
            else:
                out.functions.setdefault(fn.name, []).append(fn)
        return "function", end
    return "other", None


_INVOCATION = re.compile(r"\s*[A-Z][A-Z0-9_]*\s*\([^()]*\)\s*;?\s*")
_OPERATOR_CALL = re.compile(r"\boperator\s*\(\s*\)\s*\(")


def _function(header: str, start: int, end: int, owner: str) -> Function | None:
    lines = [line for line in header.split("\n") if not line.strip().startswith("#")]
    while len(lines) > 1 and (not lines[0].strip() or _INVOCATION.fullmatch(lines[0])) \
            and not lines[0].strip().startswith("TORCH_IMPL_FUNC"):
        lines = lines[1:]  # `REGISTER_NO_CPU_DISPATCH(x)` before a definition a macro makes
    text = " ".join(lines)
    template = template_params(text)
    if template:
        cut = _angle_end(text, text.find("<", text.find("template")))
        text = text[cut + 1:]
    op = _OPERATOR_CALL.search(text)
    structured = re.match(r"\s*TORCH_IMPL_FUNC\s*\(\s*(\w+)\s*\)\s*\(", text)
    if op:
        name, open_ = "operator()", op.end() - 1
    elif structured:
        # `TORCH_IMPL_FUNC(mean_out) (const Tensor& self, ...)`: the structured kernel
        # `mean_out`, whose parameters are the second list
        name, open_ = structured.group(1), structured.end() - 1
    else:
        found = None
        for m in re.finditer(r"(~?\w+)\s*\(", text):
            prefix = text[:m.start()]
            if prefix.count("<") - prefix.count(">") <= 0 and prefix.count("(") == prefix.count(
                    ")"):
                found = m
                break
        if found is None:
            return None
        name, open_ = found.group(1), found.end() - 1
    close = balanced_end(text, open_, "(", ")")
    params: list[tuple[str, str]] = []
    required = 0
    for part in split_args(text[open_ + 1:close]):
        declared, has_default, _ = part.partition("=")
        names = IDENT.findall(declared)
        if not names or declared.strip() in ("void", "..."):
            continue
        params.append((declared.strip()[:declared.strip().rfind(names[-1])].strip(), names[-1]))
        if not has_default:
            required += 1
    returns = "void" if structured else text[:text.find(name) if not op else op.start()].strip()
    qualified = f"{owner}::{name}" if owner else name.rsplit("::", 1)[-1]
    inits: list[tuple[str, str]] = []
    tail = re.match(r"\s*(?:noexcept\s*)?:\s*(.*)$", text[close + 1:])
    if owner and name == owner and tail:
        for part in split_args(tail.group(1)):
            found = re.match(r"(\w+)\s*[({]\s*(.*?)\s*[)}]$", part)
            if found:
                inits.append((found.group(1), found.group(2)))
    return Function(qualified, name, owner, start, end, params, required, template,
                    normalise(returns), bool(re.search(r"\boverride\b", text[close:])),
                    inits=tuple(inits))


def _member_declaration(struct: Struct | None, text: str) -> None:
    if struct is None:
        return
    text = " ".join(text.split())
    text = re.sub(r"^(?:public|private|protected)\s*:\s*", "", text)
    alias = re.match(r"^using\s+(\w+)\s*=\s*(.+)$", text)
    if alias:
        struct.aliases[alias.group(1)] = alias.group(2).strip()
        return
    virtual = re.match(r"^virtual\b.*?\b(operator\s*\(\s*\)|\w+)\s*\(", text)
    if virtual:
        struct.virtual.add(re.sub(r"\s", "", virtual.group(1)))
        return
    if "(" in text or text.startswith(("friend", "static", "template", "typedef")):
        return
    names = IDENT.findall(text)
    if len(names) >= 2:
        struct.fields[names[-1]] = text[:text.rfind(names[-1])].strip()


def _alias(out: FileTypes, text: str) -> None:
    text = " ".join(text.split())
    params = template_params(text)
    found = re.search(r"\busing\s+(\w+)\s*=\s*(.+)$", text)
    if found:
        out.aliases[found.group(1)] = (params, found.group(2).strip())


# ------------------------------------------------------------------ names in a body


def body_types(clean: str, fn: Function, types: FileTypes) -> dict[str, str]:
    """name -> declared type text, for the parameters, locals, `using` aliases (as
    `using:<name>`) and, in a member function, the struct's fields."""
    out: dict[str, str] = {}
    if fn.owner and fn.owner in types.structs:
        out.update(types.structs[fn.owner].fields)
    out.update({name: typ for typ, name in fn.params})
    body = clean[fn.start + 1:fn.end]
    for m in re.finditer(r"\busing\s+(\w+)\s*=\s*([^;]+);", body):
        out[f"using:{m.group(1)}"] = m.group(2).strip()
    declaration = re.compile(
        r"(?:^|[;{}(])\s*((?:const\s+)?(?:[A-Za-z_][\w:]*)(?:\s*<[^;{}()]*>)?(?:\s*::\s*\w+)*)"
        r"\s*[&*]*\s+(\w+)\s*(=|;|\{|\(|:)")
    for m in declaration.finditer(body):
        typ, name, after = m.group(1).strip(), m.group(2), m.group(3)
        if typ in ("return", "else", "case", "goto", "delete", "new", "throw", "using",
                   "typedef", "namespace") or name in ("operator",):
            continue
        if typ in ("auto", "const auto") and after == "=":
            end = _statement_end(body, m.end())
            out[name] = expression_type(body[m.end():end].strip(), out, types)
        elif typ.split()[-1] != "auto":
            out.setdefault(name, typ)
    return out


def _statement_end(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        if text[j] in "([{":
            depth += 1
        elif text[j] in ")]}":
            depth -= 1
        elif text[j] == ";" and depth <= 0:
            return j
    return len(text)


def expression_type(expr: str, scope: dict[str, str], types: FileTypes) -> str:
    """The type of a simple expression: a name, a temporary `T{...}`, a call of a file
    function (its declared return type), a Tensor method or operator expression."""
    expr = expr.strip()
    if IDENT.fullmatch(expr):
        return scope.get(expr, "")
    temp = re.match(r"^([A-Za-z_][\w:]*(?:<.*>)?)\s*\{", expr)
    if temp and _closes_at_end(expr, temp.end() - 1, "{", "}"):
        return temp.group(1)
    call = re.match(r"^(\w+)\s*(?:<.*?>)?\s*\(", expr)
    if call and call.group(1) in types.functions and _closes_at_end(expr, call.end() - 1):
        return types.functions[call.group(1)][0].returns
    method = re.search(r"\.\s*(\w+)\s*\([^()]*\)\s*$", expr)
    if method and method.group(1) in _TENSOR_VECTORS and is_tensor(
            expr[:method.start()], scope, types):
        return "std::vector<Tensor>"
    if is_tensor(expr, scope, types):
        return "Tensor"
    return ""


def _closes_at_end(expr: str, open_: int, opening: str = "(", closing: str = ")") -> bool:
    return balanced_end(expr, open_, opening, closing) == len(expr.rstrip()) - 1


def concrete(typ: str, binding: dict[str, str], scope: dict[str, str],
             types: FileTypes) -> str:
    """A type text with aliases expanded and template parameters substituted, in turns
    (`BidirLayer` -> `BidirLayerT<hidden_type, cell_params>` -> `FullBidirectionalLayer<
    hidden_type, CellParams>`)."""
    for _ in range(4):
        after = resolved(substitute(resolved(typ, scope, types), binding), scope, types)
        if after == typ:
            break
        typ = after
    return typ


def resolved(typ: str, scope: dict[str, str], types: FileTypes) -> str:
    """A type text with local, struct and file aliases expanded (a few rounds)."""
    for _ in range(6):
        head, args = type_tree(typ)
        if f"using:{head}" in scope:
            typ = scope[f"using:{head}"]
            continue
        if head in types.aliases:
            params, target = types.aliases[head]
            typ = _substitute(target, dict(zip(params, args, strict=False)))
            continue
        member = re.fullmatch(r"(.+)::(\w+)", normalise(typ))
        if member and "<" in member.group(1):
            owner, owner_args = type_tree(member.group(1))
            struct = types.structs.get(owner)
            if struct is not None and member.group(2) in struct.aliases:
                typ = _substitute(struct.aliases[member.group(2)],
                                  dict(zip(struct.template, owner_args, strict=False)))
                continue
        break
    return normalise(typ)


_KINDS = (
    (re.compile(r"^(?:std::)?optional<Tensor>$"), "Tensor?"),
    (re.compile(r"^Tensor$|^TensorBase$"), "Tensor"),
    (re.compile(r"^(?:TensorList|ITensorListRef|(?:std::)?vector<Tensor>|ArrayRef<Tensor>)$"),
     "Tensor[]"),
    (re.compile(r"^(?:int64_t|int|SymInt|c10::SymInt)$"), "int"),
    (re.compile(r"^(?:double|float)$"), "float"),
    (re.compile(r"^bool$"), "bool"),
    (re.compile(r"^(?:IntArrayRef|SymIntArrayRef|c10::SymIntArrayRef|OptionalIntArrayRef)$"),
     "int[]"),
    (re.compile(r"^(?:Scalar|c10::Scalar)$"), "Scalar"),
)


def kind_of(typ: str) -> str:
    """A C++ parameter type as native_functions.yaml spells it (`const Tensor&` -> Tensor,
    `TensorList` -> Tensor[], `int64_t` -> int, `double` -> float); other types as written."""
    text = normalise(typ)
    for pattern, kind in _KINDS:
        if pattern.match(text):
            return kind
    return text


def parameter_kinds(params: list[tuple[str, str]]) -> str:
    return ", ".join(kind_of(t) for t, _ in params)


def _plain_kind(kind: str) -> str:
    """A kind with optionality and namespaces dropped, lists of names spelled as lists:
    `std::optional<ScalarType>` and `ScalarType?` -> ScalarType, `DimnameList` ->
    Dimname[], `at::OptionalIntArrayRef` -> int[]."""
    kind = kind.strip().removesuffix("?")
    kind = re.sub(r"^(?:\w+::)*optional<(.*)>$", r"\1", kind).rsplit("::", 1)[-1]
    kind = {"OptionalIntArrayRef": "int[]", "OptionalSymIntArrayRef": "int[]"}.get(kind, kind)
    return re.sub(r"^(\w+)List$", r"\1[]", kind) if kind not in ("TensorList",) else "Tensor[]"


def kinds_fit(signature: str, spelled: str, exact: bool = False) -> bool:
    """Whether a C++ function with parameter kinds `spelled` (parameter_kinds) implements an
    operator of schema kinds `signature` (schema_kinds): the same kinds in order, optional
    or not; a structured kernel's trailing out= tensors may follow. With `exact`,
    `signature` is a call's argument kinds (`?` unknown): one argument per parameter."""
    want = [_plain_kind(k) for k in signature.split(",") if k.strip()]
    have = [_plain_kind(k) for k in spelled.split(",") if k.strip()]
    if len(have) < len(want) or (exact and len(have) != len(want)):
        return False
    return all(w in ("", h) for w, h in zip(want, have, strict=False)) and all(
        h == "Tensor" for h in have[len(want):])


def schema_kinds(types: list[str]) -> str:
    """Schema types (`Tensor(a)`, `SymInt[]`, `int[2]`) in the same spelling."""
    out = []
    for typ in types:
        typ = re.sub(r"\([a-z!|>*\s-]*\)", "", typ)
        typ = re.sub(r"^SymInt", "int", typ)
        typ = re.sub(r"\[\d+\]", "[]", typ)
        out.append(typ)
    return ", ".join(out)


def is_tensor_type(typ: str) -> bool:
    return normalise(typ) in _TENSOR_TYPES


def is_tensor_list(typ: str) -> bool:
    head, args = type_tree(typ)
    return normalise(typ) in _TENSOR_LISTS or (
        head.rsplit("::", 1)[-1] in ("vector", "ArrayRef") and len(args) == 1
        and is_tensor_type(args[0]))


def is_tensor(expr: str, scope: dict[str, str], types: FileTypes, depth: int = 0) -> bool:
    """Whether a C++ expression is a Tensor, from declared types only."""
    expr = expr.strip()
    if depth > 6 or not expr:
        return False
    while expr.startswith("(") and _closes_at_end(expr, 0):
        expr = expr[1:-1].strip()
    if IDENT.fullmatch(expr):
        return is_tensor_type(resolved(scope.get(expr, ""), scope, types))
    index = re.match(r"^(\w+)\s*\[", expr)
    if index and _closes_at_end(expr, index.end() - 1, "[", "]"):
        typ = resolved(scope.get(index.group(1), ""), scope, types)
        return is_tensor_list(typ) or is_tensor_type(typ)
    if expr.endswith(")"):
        last = _last_method(expr)
        if last is not None:
            name, receiver = last
            if name in NOT_TENSOR_METHODS or name in _TENSOR_VECTORS or name.startswith("is_"):
                return False
            if is_tensor(receiver, scope, types, depth + 1):
                return True
            # a member function of the file's structs (`params.linear_hh(h)`): its declared
            # return type, when every struct that has one agrees
            returns = {f.returns for st in types.structs.values()
                       for f in st.methods.get(name, ())}
            return bool(returns) and all(is_tensor_type(r) for r in returns)
    call = re.match(r"^at::(\w+)\s*\(", expr)
    if call and _closes_at_end(expr, call.end() - 1):
        return call.group(1) not in _TENSOR_VECTORS and not call.group(1).startswith("_thnn")
    for op in ("+", "-", "*", "/"):
        parts = _split_binary(expr, op)
        if parts and any(is_tensor(p, scope, types, depth + 1) for p in parts):
            return True
    return False


def _last_method(expr: str) -> tuple[str, str] | None:
    """`a.b(x).c(y)` -> ("c", "a.b(x)")."""
    if not expr.endswith(")"):
        return None
    depth = 0
    for j in range(len(expr) - 1, -1, -1):
        if expr[j] == ")":
            depth += 1
        elif expr[j] == "(":
            depth -= 1
            if depth == 0:
                m = re.search(r"(?:\.|->)\s*(\w+)\s*$", expr[:j])
                return (m.group(1), expr[:m.start()]) if m else None
    return None


def _split_binary(expr: str, op: str) -> list[str]:
    depth = 0
    for i, ch in enumerate(expr):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == op and depth == 0 and 0 < i < len(expr) - 1 and expr[i + 1] not in "=>" \
                and expr[i - 1] not in op + "-<>=!&|" and re.search(r"[\w)\]]\s*$", expr[:i]):
            return [expr[:i], expr[i + 1:]]
    return []


def _substitute(text: str, binding: dict[str, str]) -> str:
    return re.sub(r"\b\w+\b", lambda m: binding.get(m.group(0), m.group(0)), text)


def substitute(text: str, binding: dict[str, str]) -> str:
    return normalise(_substitute(text, binding))


def unify(pattern: str, concrete: str, params: list[str], out: dict[str, str]) -> None:
    """Bind the template parameters `params` in type `pattern` to the parts of `concrete`
    (`std::vector<cell_params>` with `std::vector<CellParams>`: cell_params = CellParams)."""
    if not concrete:
        return
    p_head, p_args = type_tree(pattern)
    c_head, c_args = type_tree(concrete)
    if p_head in params and not p_args:
        out.setdefault(p_head, normalise(concrete))
        return
    if p_head.rsplit("::", 1)[-1] == c_head.rsplit("::", 1)[-1] and len(p_args) == len(c_args):
        for a, b in zip(p_args, c_args, strict=True):
            unify(a, b, params, out)
