"""Classes made by a call in a base list, as the class statement's run makes them.

`class Manager(BaseManager.from_queryset(QuerySet))` subclasses whatever the call returns:
Python's MRO holds that class between `Manager` and `BaseManager`. docgen describes it as a
ClassDoc of its own, located at the class statement, with the bases the call gives it:

- `collections.namedtuple(...)`, `typing.NamedTuple(...)`: a `tuple` subclass;
- a function or method whose body returns `type(name, (bases...), namespace)` (a
  ClassFactory read by analyze.py): its bases, where a parameter stands for what the call
  passes (`cls` for the class the classmethod is called on).

Its name is the runtime's where that is known and free in the module (the namedtuple's
literal name), else the call's short form (`from_queryset-QuerySet`). Anything
else written as a call stays an unresolved base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docgen.core.records import BaseCall, BaseRef, ClassDoc, ClassFactory, DocstringDoc

if TYPE_CHECKING:
    from docgen.classes.resolve import Resolver

NAMED_TUPLE_CALLS = frozenset({"collections.namedtuple", "typing.NamedTuple",
                               "typing_extensions.NamedTuple"})
_MAX_DEPTH = 50


def make_base_class(cls: ClassDoc, base: BaseRef, resolver: Resolver) -> ClassDoc | None:
    """The class `base` (a call written in `cls`'s statement) makes; None when unknown."""
    call = base.call
    if call is None:
        return None
    bases = _made_bases(cls, call, resolver)
    if bases is None:
        return None
    short = call.callee.rsplit(".", 1)[-1]
    name = call.name if call.name and call.name.isidentifier() else None
    taken = name is None or name in (resolver.bindings(cls.module) or {})
    if taken:  # a name that cannot clash (a hyphen), safe in page paths and links
        shown = [call.name] if call.name else [a.rsplit(".", 1)[-1] for a in call.args if a]
        name = "-".join([short, *shown]) if shown else f"{short}-call"
    return ClassDoc(
        qualname=f"{cls.module}.{name}", module=cls.module, name=name or short,
        location=cls.location, bases=bases,
        docstring=DocstringDoc(f"Made at run time by `{base.text}` in `{cls.qualname}`'s "
                               "class statement."),
        members=(), methods=(), is_selected=cls.is_selected)


def _made_bases(cls: ClassDoc, call: BaseCall, resolver: Resolver,
                ) -> tuple[BaseRef, ...] | None:
    if resolver.expand(cls.module, call.callee, cls.scope) in NAMED_TUPLE_CALLS:
        return (BaseRef("tuple", None, "builtins.tuple"),)
    found = _find_factory(cls, call.callee, resolver)
    if found is None:
        return None
    factory, module, owner = found
    out = []
    for text in factory.bases:
        head, _, rest = text.partition(".")
        if head in factory.params:
            ref = _parameter_base(cls, call, factory, owner, head, rest, resolver)
        else:
            ref = _module_base(module, text, resolver)
        if ref is None:
            return None
        out.append(ref)
    return tuple(out)


def _parameter_base(cls: ClassDoc, call: BaseCall, factory: ClassFactory, owner: str | None,
                    param: str, rest: str, resolver: Resolver) -> BaseRef | None:
    """A base the factory takes from a parameter: the owner class for a classmethod's
    first, else the argument the call passes there (resolved where the call is written)."""
    index = factory.params.index(param)
    if factory.is_classmethod:
        if index == 0:
            target = resolver.resolve_absolute(f"{owner}.{rest}" if rest else owner) \
                if owner else None
            return BaseRef(param, target.qualname, target.qualname) \
                if target is not None and target.kind == "class" else None
        index -= 1
    if index >= len(call.args) or not call.args[index]:
        return None
    text = f"{call.args[index]}.{rest}" if rest else call.args[index]
    target = resolver.resolve_in_class(cls, text)
    if target is not None and target.kind == "class":
        return BaseRef(text, target.qualname, target.qualname)
    return BaseRef(text, None, resolver.expand(cls.module, text, cls.scope))


def _module_base(module: str, text: str, resolver: Resolver) -> BaseRef:
    target = resolver.resolve_in(module, text)
    if target is not None and target.kind == "class":
        return BaseRef(text, target.qualname, target.qualname)
    return BaseRef(text, None, resolver.expand(module, text))


def _find_factory(cls: ClassDoc, callee: str, resolver: Resolver,
                  ) -> tuple[ClassFactory, str, str | None] | None:
    """(factory, its module, the class it is called on) for `callee` written in `cls`'s
    statement: a function, or a method found on the owner class or one of its bases."""
    owner, _, attr = callee.rpartition(".")
    if owner:
        target = resolver.resolve_in_class(cls, owner)
        if target is not None and target.kind == "class":
            found = _method_factory(target.qualname, attr, resolver, set())
            return (found[0], found[1], target.qualname) if found else None
    target = resolver.resolve_in_class(cls, callee)
    if target is None or target.kind != "function":
        return None
    module = target.qualname.rpartition(".")[0]
    factory = _factories_of(module, resolver).get(target.qualname)
    return (factory, module, None) if factory is not None else None


def _method_factory(qualname: str, attr: str, resolver: Resolver, seen: set[str],
                    ) -> tuple[ClassFactory, str] | None:
    """The factory method `attr` of class `qualname` or of the first base (depth-first,
    left to right) that defines it."""
    if qualname in seen or len(seen) > _MAX_DEPTH:
        return None
    seen.add(qualname)
    owner = resolver.find_class(qualname)
    if owner is None:
        return None
    factory = _factories_of(owner.module, resolver).get(f"{qualname}.{attr}")
    if factory is not None:
        return factory, owner.module
    if any(m.name == attr for m in owner.methods):
        return None  # overridden by a method that is no factory
    for base in owner.bases:
        text = base.text.split("[", 1)[0].strip()
        target = resolver.resolve_in_class(owner, text) if text.replace(".", "").replace(
            "_", "").isalnum() else None
        if target is not None and target.kind == "class":
            found = _method_factory(target.qualname, attr, resolver, seen)
            if found is not None:
                return found
    return None


def _factories_of(module: str, resolver: Resolver) -> dict[str, ClassFactory]:
    analysis = resolver.index.get(module)
    return dict(analysis.symbols.factories) if analysis is not None else {}
