"""Static evaluation of model-building Python code, read from source and never imported.

Runs the statements of a model's builder, `__init__` chain and `forward` over the values of
values.py: literals, arithmetic, locals, `if`/`for`/`while`, list building, comprehensions,
helper functions and methods, `functools.partial`, class attributes, `super().__init__`,
closures. torch.nn.Module's registries are emulated (values.ModuleInstance); tensors are
shapes (values.SymTensor); C operators go to the shape table (shapes.py).

`Evaluator` is the parts put together, one concern each:

- statements.py: blocks, assignment, control flow, imports in functions;
- expressions.py: names, literals, operators, comprehensions, truth values;
- namespace.py: source modules, globals, imports, classes and their MRO;
- calls.py: calling functions, classes, layers and ATen operators;
- attributes.py: attribute and item access, super(), tensor attributes;
- pybuiltins.py: operators, iteration, isinstance and the builtins over source objects.

frames.EvaluatorCore declares the state and hooks the parts use to reach each other.
Source is read as the standard library's `ast` (through classes/parse.py): the evaluator
needs the plain syntax of a function body and nothing of astroid's inference.

Whatever cannot be computed becomes `Unknown` with its reason and location; a problem is
reported (`Diagnostic`) only when it can change the module tree, a shape or a count.
Decorators are ignored (a decorated builder is assumed to call the function it wraps), except
staticmethod/classmethod/property, which change binding.
"""

from __future__ import annotations

from typing import Any

from docgen.classes.resolve import Resolver
from docgen.core.config import DEFAULT_MODULE_ROOT
from docgen.models.attributes import Attributes
from docgen.models.calls import Calls
from docgen.models.expressions import Expressions
from docgen.models.frames import FunctionRef, ModelRaise
from docgen.models.namespace import Namespace
from docgen.models.natives import builtin_names, lookup_native
from docgen.models.pybuiltins import WRAPPED_BUILTINS, Builtins
from docgen.models.statements import Statements
from docgen.models.steps import StepRecorder

__all__ = ["Evaluator", "FunctionRef", "ModelRaise"]

GRAD_MODE = frozenset({"torch.is_grad_enabled", "torch._C.is_grad_enabled"})


class Evaluator(Namespace, Calls, Attributes, Builtins, Statements, Expressions):
    """The static evaluator: one object holding the state all its parts share."""

    def __init__(self, resolver: Resolver, module_root: str = DEFAULT_MODULE_ROOT) -> None:
        super().__init__()
        self.resolver = resolver
        self.module_root = module_root
        self.modules = {}
        self.classes = {}
        self.depth = 0
        self.module_stack = []
        self.recorder = StepRecorder()
        self.building = []
        self.enum_members = {}
        self.grad_enabled = True
        self.builtins = builtin_names()
        self.builtins.update({name: getattr(self, f"builtin_{name}")
                              for name in WRAPPED_BUILTINS})
        self.builtins.update({"isinstance": self.isinstance, "issubclass": self.issubclass,
                              "getattr": self.builtin_getattr, "hasattr": self.builtin_hasattr,
                              "setattr": self.builtin_setattr, "type": self.builtin_type,
                              "dir": self.builtin_dir})

    def native(self, path: str) -> Any:
        if path in GRAD_MODE:
            return lambda: self.grad_enabled  # torch.no_grad() when the reading asks for it
        found = self.library_native(path)
        return found if found is not None else lookup_native(path)
