"""The generated glue on a taken path: the C++ that torchgen writes at build time between
Python and a kernel, named hop by hop with the yaml entry it comes from and the template and
generator in the wheel's torchgen that write it.

Four kinds of hop, as "A Tour of PyTorch Internals" describes them:

- `binding`: the Python binding (`THPVariable_conv2d` in `python_torch_functions_*.cpp`,
  `python_nn_functions.cpp` or `python_variable_methods.cpp`), chosen by how Python reached
  the operator (`torch.*`, `torch._C._nn.*`, a Tensor method);
- `autograd`: the autograd wrapper in `VariableType_*.cpp` where autograd records the
  operator (the setting's grad on, an operator with a derivatives.yaml formula), or, for a
  CompositeImplicitAutograd operator called from Python, the note that it has none;
- `redispatch`: the wrapper's `at::redispatch::<op>(ks & after_autograd_keyset, ...)` into
  `at::_ops::<op>::redispatch` (`Operators_*.cpp`), which goes on to the backend key;
- `registration`: the `Register<Key>_*.cpp` wrapper that registers the kernel the setting's
  backend runs (`wrapper_CUDA__cudnn_convolution` -> `cudnn_convolution`).

Every fact comes from the wheel's torchgen: which generator writes which file with which
template and how many shards (`create_python_bindings_sharded(..., "python_torch_functions.cpp",
num_shards=3)` in gen_python_functions.py, `write_sharded("VariableType.cpp", ...,
num_shards=10)` in gen_variable_type.py, `Register{dispatch_key}.cpp` from
RegisterDispatchKey.cpp in gen.py), the shard an operator lands in (torchgen's
`string_stable_hash(key) % num_shards`, replayed here when utils.py defines it as read) and the
dispatch keys that get a Register file (`dispatch_keys` in model.py). The generated files
are not in the wheel; each hop says so. Deciding what is taken is left to taken.py; these
hops never count as operators.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from docgen.core.records import Location
from docgen.walk.aten import IMPLICIT, OperatorTable, find_derivative
from docgen.walk.records import LayerWalk, OperatorDoc, PyHop, Reached

BINDING_GEN = "torchgen/packaged/autograd/gen_python_functions.py"
VARIABLE_GEN = "torchgen/packaged/autograd/gen_variable_type.py"
ATEN_GEN = "torchgen/gen.py"
REGISTER_GEN = "torchgen/dest/register_dispatch_key.py"
MODEL_PY = "torchgen/model.py"
UTILS_PY = "torchgen/utils.py"
AUTOGRAD_TEMPLATES = "torchgen/packaged/autograd/templates/"
ATEN_TEMPLATES = "torchgen/packaged/ATen/templates/"
NOT_IN_WHEEL = "generated at build time; not in the wheel"
# The Python namespace a binding is reached through -> the `module` argument torchgen's
# gen_python_functions.py passes for the file that defines it. `torch._C._VariableFunctions`
# holds the `torch.*` functions (torch/_C/_VariableFunctions.pyi); `torch._C._<x>` the
# `torch.<x>` ones (`torch._C._nn` for torch.nn); TensorBase the methods (module None).
METHOD = "method"
_NAMESPACE_MODULE = {"torch._C._VariableFunctions": "torch", "torch._C.TensorBase": METHOD,
                     "torch._C._TensorBase": METHOD, "torch.Tensor": METHOD}


@dataclass(frozen=True)
class GeneratedFile:
    """One file torchgen writes: its name as the generator spells it, how many shards,
    where the template puts the generated code and where the generator writes it."""

    name: str  # python_torch_functions.cpp, Register{key}.cpp
    shards: int  # 0: not sharded (one file of that name)
    template: Location | None
    generator: Location | None
    shard_rule: tuple[tuple[str, int], ...] = ()  # per dispatch key (Register: CPU -> 4)

    def shard_count(self, key: str = "") -> int:
        return dict(self.shard_rule).get(key, self.shards)


@dataclass(frozen=True)
class GlueHop:
    """A generated hop on the taken path of one operator."""

    operator: str  # aten::conv2d
    kind: str  # binding, autograd, redispatch, registration
    file: str  # python_torch_functions_1.cpp (generated, not in the wheel)
    function: str  # THPVariable_conv2d
    entry: Location | None  # native_functions.yaml / derivatives.yaml entry
    template: Location | None
    generator: Location | None
    note: str = NOT_IN_WHEEL

    def to_json(self) -> dict[str, Any]:
        def loc(where: Location | None) -> str | None:
            return f"{where.path}:{where.line}" if where else None

        return {"operator": self.operator, "kind": self.kind, "file": self.file,
                "function": self.function, "entry": loc(self.entry),
                "template": loc(self.template), "generator": loc(self.generator),
                "note": self.note}


@dataclass
class GlueFacts:
    """What the wheel's torchgen says about the generated files (read once per walk)."""

    bindings: dict[str, GeneratedFile] = field(default_factory=dict)  # module -> file
    variable_type: GeneratedFile | None = None
    operators: GeneratedFile | None = None
    register: GeneratedFile | None = None
    register_keys: frozenset[str] = frozenset()
    redispatch: Location | None = None  # `at::redispatch::${api_name}` in the generator
    pycname: str = ""  # `THPVariable_{name}` as get_pycname spells it
    wrapper_prefix: str = ""  # `wrapper_{key}_{overload}_` as register_dispatch_key does
    stable_hash: bool = False  # utils.py shards by sha1, little-endian (replayable)
    in_wheel: frozenset[str] = frozenset()  # generated names the wheel does hold
    # `_SKIP_PYTHON_BINDINGS` of gen_python_functions.py: operators with no generated Python
    # binding (`size`, `dim`, `numel`: Tensor methods written by hand that read the
    # TensorImpl, no dispatch); full-match patterns
    skipped_bindings: tuple[str, ...] = ()

    def has_generated_binding(self, name: str) -> bool:
        """Whether torchgen writes a Python binding for operator `name` (not skipped)."""
        return not any(re.fullmatch(p, name) for p in self.skipped_bindings)


# ---------------------------------------------------------------- reading torchgen


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _template(read: Any, path: str, placeholder: str) -> Location | None:
    text = read(path)
    if text is None:
        return None
    found = text.find(placeholder)
    return Location(path, _line(text, found) if found >= 0 else 1)


_BINDINGS = re.compile(r"create_python_bindings(?:_sharded)?\(\s*fm,\s*\w+,\s*\w+,\s*"
                       r"(None|\"[\w.]+\"),\s*\"(\w+\.cpp)\",\s*method=(True|False)"
                       r"(?:,\s*num_shards=(\d+))?")
_SHARDED = r"write_sharded(?:_with_template)?\(\s*{name}\s*,(?P<body>.{{0,1600}}?)num_shards=" \
           r"(?P<shards>[^,\n]+),"
_REGISTER = re.compile(r"write_sharded_with_template\(\s*f\"Register\{dispatch_key\}\.cpp\","
                       r"\s*\"(\w+\.cpp)\",.{0,800}?num_shards=([^,\n]+),", re.S)
_SHARD_RULE = re.compile(r"(\d+) if dispatch_key == DispatchKey\.(\w+) else (\d+)")


def read_glue(read: Any, listing: Any = None) -> GlueFacts:
    """The generated-file facts of the wheel's torchgen; `read(path)` gives a file's text or
    None, `listing()` the wheel's file names (to say which generated names it holds)."""
    facts = GlueFacts()
    for path, reader in ((BINDING_GEN, _read_bindings), (VARIABLE_GEN, _read_variable_type),
                         (ATEN_GEN, _read_aten), (MODEL_PY, _read_keys),
                         (REGISTER_GEN, _read_wrapper_name), (UTILS_PY, _read_hash)):
        text = read(path)
        if text is not None:
            reader(text, read, facts)
    if listing is not None:
        facts.in_wheel = frozenset(n.rsplit("/", 1)[-1] for n in listing())
    return facts


def _read_bindings(text: str, read: Any, facts: GlueFacts) -> None:
    for m in _BINDINGS.finditer(text):
        module = METHOD if m.group(3) == "True" else m.group(1).strip('"')
        if module == "None":
            continue
        facts.bindings[module] = GeneratedFile(
            m.group(2), int(m.group(4) or 0),
            _template(read, AUTOGRAD_TEMPLATES + m.group(2), "${py_methods}"),
            Location(BINDING_GEN, _line(text, m.start())))
    skipped = re.search(r"^_SKIP_PYTHON_BINDINGS = \[(.*?)^\]", text, re.S | re.M)
    if skipped:
        facts.skipped_bindings = tuple(re.findall(r'^\s*"([^"]+)",', skipped.group(1), re.M))
    pyc = re.search(r"def get_pycname\(.*?\n\s*return f\"(\w*)\{name\}\"", text, re.S)
    facts.pycname = pyc.group(1) if pyc else ""


def _sharded(text: str, path: str, name: str, template: Location | None
             ) -> GeneratedFile | None:
    m = re.search(_SHARDED.format(name=re.escape(f'"{name}"')), text, re.S)
    if m is None or not m.group("shards").strip().isdigit():
        return None
    return GeneratedFile(name, int(m.group("shards")), template,
                         Location(path, _line(text, m.start())))


def _read_variable_type(text: str, read: Any, facts: GlueFacts) -> None:
    facts.variable_type = _sharded(text, VARIABLE_GEN, "VariableType.cpp", _template(
        read, AUTOGRAD_TEMPLATES + "VariableType.cpp", "${type_derived_method_definitions}"))
    redispatch = text.find("at::redispatch::${api_name}")
    if redispatch >= 0:
        facts.redispatch = Location(VARIABLE_GEN, _line(text, redispatch))


def _read_aten(text: str, read: Any, facts: GlueFacts) -> None:
    facts.operators = _sharded(text, ATEN_GEN, "Operators.cpp", _template(
        read, ATEN_TEMPLATES + "Operators.cpp", "${definitions}"))
    m = _REGISTER.search(text)
    if m is None:
        return
    rule = _SHARD_RULE.search(m.group(2))
    plain = m.group(2).strip()
    shards = int(rule.group(3)) if rule else int(plain) if plain.isdigit() else 0
    facts.register = GeneratedFile(
        "Register{key}.cpp", shards,
        _template(read, ATEN_TEMPLATES + m.group(1), "$dispatch_definitions"),
        Location(ATEN_GEN, _line(text, m.start())),
        ((rule.group(2), int(rule.group(1))),) if rule else ())


def _read_keys(text: str, read: Any, facts: GlueFacts) -> None:
    """The dispatch keys gen.py writes a Register<Key>.cpp for (`dispatch_keys` of model.py)."""
    block = re.search(r"^dispatch_keys = \[(.*?)^\]", text, re.S | re.M)
    if block:
        facts.register_keys = frozenset(re.findall(r"DispatchKey\.(\w+)", block.group(1)))


def _read_wrapper_name(text: str, read: Any, facts: GlueFacts) -> None:
    found = re.search(r"prefix=f\"wrapper_\{self\.backend_index\.dispatch_key\}_"
                      r"\{f\.func\.name\.overload_name\}_\"", text)
    facts.wrapper_prefix = "wrapper_{key}_{overload}_" if found else ""


def _read_hash(text: str, read: Any, facts: GlueFacts) -> None:
    facts.stable_hash = bool(
        re.search(r"def string_stable_hash\(.*?sha1\(s\.encode\(\"latin1\"\).*?"
                  r"byteorder=\"little\"", text, re.S)
        and "string_stable_hash(key) % num_shards" in text)


def glue_facts(ctx: Any) -> GlueFacts:
    """GlueFacts of the context's sources, read once and kept in `ctx.memo`."""
    cached = ctx.memo.get("glue")
    if cached is None:
        sources = ctx.sources

        def read(path: str) -> str | None:
            if not sources.has_file(path):
                return None
            return sources.read_file(path).decode("utf-8", "replace")

        cached = read_glue(read, lambda: sources.files_under("", ".cpp"))
        ctx.memo["glue"] = cached
    return cached


# ---------------------------------------------------------------- naming


def shard_of(key: str, shards: int) -> int:
    """torchgen's `string_stable_hash(key) % num_shards` (utils.py): sha1 of the latin-1
    bytes, read as a little-endian integer."""
    digest = hashlib.sha1(key.encode("latin1"), usedforsecurity=False).digest()
    return int.from_bytes(digest, byteorder="little") % shards


def _file(facts: GlueFacts, gen: GeneratedFile, key: str, name: str | None = None,
          dispatch_key: str = "") -> str:
    """`python_torch_functions_1.cpp`: the shard `key` lands in (`_*` when the hash is not
    the one replayed here)."""
    stem, ext = (name or gen.name).rsplit(".", 1)
    shards = gen.shard_count(dispatch_key)
    if shards <= 0:
        return f"{stem}.{ext}"
    if not facts.stable_hash:
        return f"{stem}_*.{ext}"
    return f"{stem}_{shard_of(key, shards)}.{ext}"


def _note(facts: GlueFacts, file: str, what: str) -> str:
    where = ("generated at build time; shipped in the wheel" if file in facts.in_wheel
             else NOT_IN_WHEEL)
    return f"{where}; {what}"


def base_name(op: OperatorDoc) -> str:
    """torchgen's BaseOperatorName.base: `add_.Tensor` -> add, `__iadd__` -> add."""
    name = op.name.split(".")[0]
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        return name[1:] if name.startswith("i") and name[1:] in ("add", "sub", "mul", "div",
                                                                   "and", "or", "xor",
                                                                   "lshift", "rshift") \
            else name
    return name.removesuffix("_") if name.endswith("_") and not name.endswith("__") else name


def cpp_name(op: OperatorDoc) -> str:
    """torchgen's cpp.name: `add_` for add_.Tensor, `add_out` for add.out."""
    name = op.name.split(".")[0]
    overload = op.name.split(".")[1] if "." in op.name else ""
    if "!" in op.schema and overload.endswith("out") and not name.endswith("_"):
        name += "_out"
    return name


def unambiguous(op: OperatorDoc) -> str:
    """`add__Tensor`: the at::_ops name (OperatorName.unambiguous_name)."""
    name, _, overload = op.name.partition(".")
    return f"{name}_{overload}" if overload else name


def binding_module(namespace: str) -> str | None:
    if namespace in _NAMESPACE_MODULE:
        return _NAMESPACE_MODULE[namespace]
    found = re.fullmatch(r"torch\._C\._(\w+)", namespace)
    return f"torch.{found.group(1)}" if found else None


# ---------------------------------------------------------------- the hops


def _kernel_key(kernels: dict[str, str], name: str) -> tuple[str, str]:
    text = kernels.get(name, "")
    found = re.fullmatch(r"(.*) \((\w+)\)", text)
    return (found.group(1), found.group(2)) if found else ("", "")


def _bindings(layer: LayerWalk) -> dict[str, str]:
    """Operator base name -> the namespace of the (not pruned) binding that reaches it."""
    out: dict[str, str] = {}

    def visit(hop: PyHop) -> None:
        if hop.is_pruned:
            return
        if hop.kind == "binding":
            namespace, _, name = hop.name.rpartition(".")
            out.setdefault(name, namespace)
        for child in hop.children:
            visit(child)

    for hop in layer.python:
        visit(hop)
    return out


def glue_hops(layer: LayerWalk, taken: Any, grad: bool, table: OperatorTable,
              facts: GlueFacts) -> tuple[GlueHop, ...]:
    """The generated hops of each operator on `taken`'s forward path, in call order."""
    decided = {e.key: e.decision for e in taken.edges}
    top = {node.name for i, node in enumerate(layer.operators)
           if node.reached == Reached.BINDING and decided.get(str(i)) == "taken"}
    bindings = _bindings(layer)
    kernels = dict(taken.kernels)
    recorded = set(taken.recorded) if grad else set()
    out: list[GlueHop] = []
    for name in dict.fromkeys(taken.forward):
        op = table.find(name.removeprefix("aten::"))
        if op is None:
            continue
        kernel, key = _kernel_key(kernels, name)
        if name in top:
            out.extend(_binding_hop(name, op, bindings, facts))
            if grad and key == IMPLICIT:
                out.append(GlueHop(name, "autograd", "", "", op.location, None, None,
                                   "no autograd wrapper: a CompositeImplicitAutograd kernel "
                                   "serves the Autograd key too; autograd records the "
                                   "operators it calls"))
        if name in recorded:
            out.extend(_autograd_hops(name, op, table, facts))
        if kernel and key:
            out.extend(_registration_hop(name, op, kernel, key, facts))
    return tuple(out)


def _binding_hop(name: str, op: OperatorDoc, bindings: dict[str, str],
                 facts: GlueFacts) -> list[GlueHop]:
    base = base_name(op)
    plain = op.name.split(".")[0]
    namespace = bindings.get(plain) or bindings.get(base)
    module = binding_module(namespace) if namespace else None
    gen = facts.bindings.get(module or "")
    if gen is None:
        return []
    via = f"{namespace}.{plain}" if namespace else plain
    file = _file(facts, gen, base)
    return [GlueHop(name, "binding", file, f"{facts.pycname}{base}", op.location,
                    gen.template, gen.generator,
                    _note(facts, file, f"Python reaches it as {via}"))]


def _autograd_hops(name: str, op: OperatorDoc, table: OperatorTable,
                   facts: GlueFacts) -> list[GlueHop]:
    out: list[GlueHop] = []
    derivative = find_derivative(table, op.name)
    entry = derivative.location if derivative else op.location
    gen = facts.variable_type
    if gen is not None:
        cpp = cpp_name(op)
        file = _file(facts, gen, cpp)
        out.append(GlueHop(name, "autograd", file, f"torch::autograd::VariableType::{cpp}",
                           entry, gen.template, gen.generator, _note(
                               facts, file, "records the backward node (derivatives.yaml "
                               "formula) and redispatches below Autograd")))
    ops = facts.operators
    if ops is not None:
        file = _file(facts, ops, base_name(op))
        out.append(GlueHop(name, "redispatch", file,
                           f"at::_ops::{unambiguous(op)}::redispatch", op.location,
                           ops.template, ops.generator, _note(
                               facts, file, f"the wrapper's at::redispatch::{cpp_name(op)}"
                               "(ks & c10::after_autograd_keyset, ...)"
                               + (f" ({facts.redispatch.path}:{facts.redispatch.line})"
                                  if facts.redispatch else "")
                               + " goes on to the backend key")))
    return out


def _registration_hop(name: str, op: OperatorDoc, kernel: str, key: str,
                      facts: GlueFacts) -> list[GlueHop]:
    gen = facts.register
    if gen is None or (facts.register_keys and key not in facts.register_keys):
        return []
    file = _file(facts, gen, base_name(op), f"Register{key}.cpp", key)
    overload = op.name.partition(".")[2]
    wrapper = (facts.wrapper_prefix.format(key=key, overload=overload) + cpp_name(op)
               if facts.wrapper_prefix else "")
    return [GlueHop(name, "registration", file, wrapper, op.location, gen.template,
                    gen.generator, _note(facts, file, f"registers {kernel} for the {key} key"))]


def glue_line(hops: tuple[GlueHop, ...]) -> str:
    """One terminal line for an operator's hops: `python_torch_functions_1.cpp
    THPVariable_conv2d -> RegisterCompositeImplicitAutograd_0.cpp`."""
    parts = []
    for hop in hops:
        if not hop.file:
            parts.append("(no autograd wrapper)")
            continue
        parts.append(f"{hop.file} {hop.function}" if hop.kind != "redispatch"
                     else f"redispatch ({hop.file})")
    return " -> ".join(parts)


def glue_legend(hops: tuple[GlueHop, ...]) -> list[str]:
    """One line per generated file family used: its template and generator (file:line in
    the wheel), and that the generated file is not in the wheel."""
    families: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for hop in hops:
        if not hop.file:
            continue
        template = f"{hop.template.path}:{hop.template.line}" if hop.template else "?"
        generator = f"{hop.generator.path}:{hop.generator.line}" if hop.generator else "?"
        family = re.sub(r"(_\d+|_\*)?\.cpp$", "", hop.file)
        sharded = bool(re.search(r"_(\d+|\*)\.cpp$", hop.file))
        names = families.setdefault((template, generator), [])
        if (family, sharded) not in names:
            names.append((family, sharded))
    out = []
    for (template, generator), names in families.items():
        stems = [n for n, _ in names]
        suffix = "_*.cpp" if any(s for _, s in names) else ".cpp"
        if len(stems) > 1 and all(n.startswith("Register") for n in stems):
            text = "Register{" + ",".join(n.removeprefix("Register") for n in stems) + "}"
        else:
            text = ", ".join(stems)
        out.append(f"{text}{suffix} from {template} by {generator}")
    return out
