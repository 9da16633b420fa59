"""Method roles: the grouping rules a student uses to read a Module, kept as data.

Each rule is a group name and name patterns (fnmatch); the first rule that matches wins, so
specific rules come before general ones. Pages, diagrams, terminal tables and JSON all take the
group from here, through the model.
"""

from __future__ import annotations

import re
from fnmatch import translate
from functools import lru_cache

# (group, title shown to readers, patterns)
ROLE_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("construction", "Construction", (
        "__init__", "__new__", "__post_init__", "reset_parameters", "_reset_parameters",
        "initialize_parameters", "__init_subclass__")),
    ("forward", "Forward / call", (
        "forward", "__call__", "_call_impl", "_wrapped_call_impl", "_forward_unimplemented",
        "_slow_forward", "_conv_forward", "_*_forward", "forward_*", "_forward*")),
    ("hooks", "Hooks", (
        "register_*hook", "_register_*hook", "*_hooks", "_maybe_warn_non_full_backward_hook",
        "register_*_hook_*", "_*_hook")),
    ("adders", "Adders", (
        "register_parameter", "register_buffer", "add_module", "register_module",
        "set_submodule", "set_extra_state")),
    ("movers", "Movers (devices)", (
        "to", "to_empty", "cuda", "cpu", "xpu", "ipu", "mtia", "mps", "hpu", "share_memory",
        "_apply")),
    ("casts", "Type casts", ("type", "float", "double", "half", "bfloat16")),
    ("iterators", "Iterators", (
        "parameters", "named_parameters", "buffers", "named_buffers", "children",
        "named_children", "modules", "named_modules", "_named_members", "__iter__",
        "__len__", "__getitem__", "__setitem__", "__delitem__", "__contains__", "__reversed__",
        "keys", "values", "items", "append", "extend", "insert", "pop")),
    ("accessors", "Accessors", (
        "get_submodule", "get_parameter", "get_buffer", "get_extra_state", "__getattr__",
        "__setattr__", "__delattr__", "__dir__")),
    ("mode", "Mode", ("train", "eval", "requires_grad_")),
    ("gradients", "Gradients", ("zero_grad", "_*grad*")),
    ("state", "State (save / load)", (
        "state_dict", "load_state_dict", "_save_to_state_dict", "_load_from_state_dict",
        "_state_dict_impl", "__getstate__", "__setstate__", "_version", "*state_dict*")),
    ("repr", "Representation", ("extra_repr", "__repr__", "__str__", "_get_name")),
    ("compile", "Compilation", ("compile", "_compiled_call_impl", "_replicate_for_data_parallel")),
)

GROUP_TITLES: dict[str, str] = {group: title for group, title, _ in ROLE_RULES}
GROUP_TITLES["other"] = "Other"
GROUP_ORDER: tuple[str, ...] = (*(group for group, _, _ in ROLE_RULES), "other")


# One compiled alternation per rule: methods are grouped by the hundred thousand on all of torch.
_COMPILED = tuple((group, re.compile("|".join(translate(p) for p in patterns)))
                  for group, _, patterns in ROLE_RULES)


@lru_cache(maxsize=4096)
def group_of(name: str) -> str:
    """The role of a method named `name`: the first rule with a matching pattern, or other."""
    for group, pattern in _COMPILED:
        if pattern.match(name):
            return group
    return "other"


# The state a Module instance carries, grouped for reading (first matching rule wins).
STATE_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("registries", "Registries (what the module owns)", (
        "_parameters", "_buffers", "_non_persistent_buffers_set", "_modules")),
    ("hooks", "Hook dictionaries", ("*hook*",)),
    ("mode", "Mode and flags", ("training", "call_super_init", "dump_patches")),
    ("versioning", "Versioning and compilation", ("_version", "_compiled_call_impl")),
)
STATE_TITLES: dict[str, str] = {key: title for key, title, _ in STATE_RULES}
STATE_TITLES["other"] = "Other attributes"


_STATE_COMPILED = tuple((key, re.compile("|".join(translate(p) for p in patterns)))
                        for key, _, patterns in STATE_RULES)


def state_group_of(name: str) -> str:
    """The state group of an attribute named `name` (see STATE_RULES), or other."""
    for key, pattern in _STATE_COMPILED:
        if pattern.match(name):
            return key
    return "other"
