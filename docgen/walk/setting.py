"""The execution setting a walk is decided for, and the facts only a running process knows.

A setting is the backend (a dispatch key read from the sources), the dtype, the switches a
user sets (`torch.backends.cudnn.enabled`, `torch.backends.mkldnn.enabled`), the module mode
(`model.train()` / `model.eval()`) and whether autograd records (`torch.no_grad()`).

What cannot be read in any source file is kept in ONE table, `BUILD_FACTS`: what the
official wheels for a backend were built with. Every other fact comes from the setting, the
layer's evaluated constructor values and its input.
"""

from __future__ import annotations

from dataclasses import dataclass

from docgen.core.errors import ConfigError

# The backends a user can name, in the order `docgen walk --help` lists them. Each must also
# be a dispatch key of the torch version read (checked against DispatchKey.h).
BACKENDS = ("CPU", "CUDA", "MPS", "XPU", "PrivateUse1", "Meta")
DTYPES = ("float32", "float16", "bfloat16")
MODES = ("train", "eval")


@dataclass(frozen=True)
class Setting:
    """One execution setting; `label()` is how answers name it."""

    backend: str = "CPU"
    dtype: str = "float32"
    cudnn: bool = True
    mkldnn: bool = True
    mode: str = "train"
    grad: bool = True
    input_shape: tuple[int, ...] = (1, 3, 224, 224)
    # The gradient the loss hands the layer that returns the model's output. "expanded": a
    # loss such as `output.sum()` or `.mean()`, whose backward (SumBackward0, MeanBackward0)
    # is `grad.expand(sizes)`: a stride-0 tensor, not contiguous, so kernels that test their
    # incoming gradient's contiguity (batch_norm_backward_cpu_template) take their strided
    # path there. "dense": a loss whose gradient is a fresh contiguous tensor (mse_loss,
    # cross_entropy). The traces checked in tests/ use `output.sum()`.
    loss_gradient: str = "expanded"
    # Whether the model's input tensors require grad (`x.requires_grad_()` before the call,
    # as for a module studied alone inside a network): their gradients are then computed and
    # accumulated like any other value's. A network's input does not.
    input_grad: bool = False

    @property
    def training(self) -> bool:
        return self.mode == "train"

    def label(self) -> str:
        """`CUDA float32 train, cuDNN on` (the switch that matters for the backend only)."""
        text = f"{self.backend} {self.dtype} {self.mode}"
        if self.backend == "CUDA":
            text += f", cuDNN {'on' if self.cudnn else 'off'}"
        elif self.backend == "CPU":
            text += f", oneDNN {'on' if self.mkldnn else 'off'}"
        if not self.grad:
            text += ", no_grad"
        return text

    def to_json(self) -> dict[str, object]:
        return {"backend": self.backend, "dtype": self.dtype, "cudnn": self.cudnn,
                "mkldnn": self.mkldnn, "mode": self.mode, "grad": self.grad,
                "input": list(self.input_shape)}


@dataclass(frozen=True)
class BuildFact:
    """A fact about the build that runs the setting, and why it holds."""

    name: str
    value: bool
    why: str


# The process environment of a plain run: Linear.cpp's parseLinearFlatten3d() reads it.
_UNSET_LINEAR_FLATTEN_3D = BuildFact(
    "linear_flatten_3d", False, "TORCH_LINEAR_FLATTEN_3D is not set in a default environment "
    "(parseLinearFlatten3d() is false)")

# What only the running process knows, keyed by backend: how the official wheels are built.
# `docgen walk` decides every branch that depends on these from this table and names the row.
BUILD_FACTS: dict[str, tuple[BuildFact, ...]] = {
    "CPU": (
        BuildFact("mkldnn_compiled", True, "the x86-64 CPU wheels are built with oneDNN "
                  "(AT_MKLDNN_ENABLED; torch.backends.mkldnn.is_available() is True)"),
        BuildFact("nnpack_available", True, "the x86-64 CPU wheels are built with NNPACK "
                  "(AT_NNPACK_ENABLED() is 1 in the wheel's ATen/Config.h) and it initialises "
                  "on x86-64 CPUs with AVX2 (aten::_nnpack_available() is true: measured with "
                  "torch 2.13.0+cpu)"),
        BuildFact("multithreaded", True, "at::get_num_threads() > 1 on a multi-core machine "
                  "(the default intra-op pool has one thread per core)"),
        BuildFact("bf16_device", False, "oneDNN's bf16/fp16 device checks need AVX512-BF16 / "
                  "AMX; not assumed"),
        _UNSET_LINEAR_FLATTEN_3D,
    ),
    "CUDA": (
        BuildFact("cudnn_compiled", True, "the CUDA wheels ship cuDNN "
                  "(torch.backends.cudnn.is_available() is True)"),
        BuildFact("miopen_compiled", False, "MIOpen exists only in ROCm builds, not in CUDA "
                  "ones (getCUDAHooks().compiledWithMIOpen() is false)"),
        _UNSET_LINEAR_FLATTEN_3D,
    ),
}


# What a plain eager call of a module sees in Python: no hooks registered, not traced by
# torch.jit, not compiled, not scripted. Keys are the expressions as written in module.py.
_NO_HOOKS = ("self._backward_hooks", "self._backward_pre_hooks", "self._forward_hooks",
             "self._forward_pre_hooks", "_global_backward_pre_hooks", "_global_backward_hooks",
             "_global_forward_hooks", "_global_forward_pre_hooks")
EAGER_FACTS: dict[str, object] = {
    **{name: {} for name in _NO_HOOKS},
    "self._compiled_call_impl": None,
    "torch._C._get_tracing_state()": None,
    "torch.jit.is_scripting()": False,
    "torch._jit_internal.is_scripting()": False,
    "torch.jit.is_tracing()": False,
    "torch.compiler.is_compiling()": False,
    "torch._dynamo.is_compiling()": False,
}


def python_env(setting: Setting) -> dict[str, object]:
    """The Python facts of the setting: the eager-call table and `self.training`."""
    return {**EAGER_FACTS, "self.training": setting.training,
            "torch.is_grad_enabled()": setting.grad}


def build_fact(backend: str, name: str) -> BuildFact | None:
    return next((f for f in BUILD_FACTS.get(backend, ()) if f.name == name), None)


def check_backend(name: str, dispatch_keys: set[str]) -> str:
    """`name` when it is one of BACKENDS and a dispatch key of the torch version read, else a
    ConfigError listing the valid ones (`cuda` is refused: keys are case-sensitive)."""
    valid = [b for b in BACKENDS if not dispatch_keys or b in dispatch_keys]
    if name in valid:
        return name
    hint = ""
    close = next((b for b in valid if b.lower() == name.lower()), None)
    if close is not None:
        hint = f" (dispatch keys are case-sensitive: did you mean {close}?)"
    raise ConfigError(f"--backend {name!r} is not a backend of the torch version read{hint}; "
                      f"valid: {', '.join(valid)}")


def make_setting(backend: str = "CPU", dtype: str = "float32", cudnn: str | bool = True,
                 mkldnn: str | bool = True, mode: str = "train", grad: str | bool = True,
                 input_shape: tuple[int, ...] = (1, 3, 224, 224)) -> Setting:
    """A Setting from option texts (`on`/`off`); ConfigError naming every bad value."""
    problems: list[str] = []

    def switch(name: str, value: str | bool) -> bool:
        if isinstance(value, bool):
            return value
        if value not in ("on", "off"):
            problems.append(f"--{name} expects on or off, got {value!r}")
        return value == "on"

    if dtype not in DTYPES:
        problems.append(f"--dtype {dtype!r}: valid: {', '.join(DTYPES)}")
    if mode not in MODES:
        problems.append(f"--mode {mode!r}: valid: {', '.join(MODES)}")
    setting = Setting(backend, dtype, switch("cudnn", cudnn), switch("mkldnn", mkldnn), mode,
                      switch("grad", grad), tuple(input_shape))
    if problems:
        raise ConfigError("; ".join(problems))
    return setting
