"""A tiny torch-shaped package for walk tests: each pattern the walk follows, in a few lines."""

from __future__ import annotations

MODULE_PY = '''
class Module:
    def _wrapped_call_impl(self, *args, **kwargs):
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        else:
            return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        forward_call = (self._slow_forward if torch._C._get_tracing_state() else self.forward)
        if not (self._forward_hooks or self._forward_pre_hooks):
            return forward_call(*args, **kwargs)
        self._run_hooks()
        return forward_call(*args, **kwargs)

    def _run_hooks(self):
        pass

    def _slow_forward(self, *input):
        return self.forward(*input)

    __call__ = _wrapped_call_impl
'''

LAYERS_PY = '''
from torch.nn import functional as F
from .module import Module


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, padding=0,
                 padding_mode="zeros"):
        self.padding_mode = padding_mode

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            return F.conv2d(F.pad(input, self._pad, mode=self.padding_mode), weight, bias)
        return F.conv2d(input, weight, bias, self.stride, self.padding)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class ReLU(Module):
    def __init__(self, inplace=False):
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, return_indices=False):
        self.return_indices = return_indices

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, return_indices=self.return_indices)


class Dropout(Module):
    def __init__(self, p=0.5, inplace=False):
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        pass

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)
'''

CONTAINER_PY = '''
from .module import Module


class Sequential(Module):
    def __init__(self, *args):
        pass

    def forward(self, input):
        for module in self:
            input = module(input)
        return input
'''

FUNCTIONAL_PY = '''
import torch
from torch import _VF
from torch._C import _add_docstr
from torch._jit_internal import boolean_dispatch
from torch.overrides import has_torch_function_unary, handle_torch_function

conv2d = _add_docstr(torch.conv2d, "conv2d(input, weight) -> Tensor")

linear = _add_docstr(torch._C._nn.linear, "linear(input, weight) -> Tensor")


def pad(input, pad, mode="constant"):
    return torch._C._nn.pad(input, pad, mode)


def relu(input, inplace=False):
    if has_torch_function_unary(input):
        return handle_torch_function(relu, (input,), input, inplace=inplace)
    if inplace:
        result = torch.relu_(input)
    else:
        result = torch.relu(input)
    return result


def max_pool2d_with_indices(input, kernel_size, stride=None, return_indices=False):
    return torch._C._nn.max_pool2d_with_indices(input, kernel_size)


def _max_pool2d(input, kernel_size, stride=None, return_indices=False):
    if has_torch_function_unary(input):
        return handle_torch_function(max_pool2d, (input,), input, kernel_size)
    return torch.max_pool2d(input, kernel_size)


max_pool2d = boolean_dispatch(
    arg_name="return_indices",
    arg_index=3,
    default=False,
    if_true=max_pool2d_with_indices,
    if_false=_max_pool2d,
    module_name=__name__,
    func_name="max_pool2d",
)


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError("bad p")
    return _VF.dropout_(input, p, training) if inplace else _VF.dropout(input, p, training)
'''

VF_PY = '''
import sys
import types
import torch


class VFModule(types.ModuleType):
    def __init__(self, name):
        super().__init__(name)
        self.vf = torch._C._VariableFunctions

    def __getattr__(self, name):
        return getattr(self.vf, name)


sys.modules[__name__] = VFModule(__name__)
'''

VARIABLE_FUNCTIONS_PYI = '''
def conv2d(input, weight, bias=None): ...
def relu(input): ...
def relu_(input): ...
def max_pool2d(input, kernel_size): ...
def dropout(input, p, train): ...
def dropout_(input, p, train): ...
def flatten(input, start_dim=0, end_dim=-1): ...
'''

NN_PYI = '''
def linear(input, weight, bias=None): ...
def pad(input, pad, mode="constant"): ...
def max_pool2d_with_indices(input, kernel_size): ...
'''

NATIVE_FUNCTIONS_YAML = '''
- func: conv2d(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor
  dispatch:
    CompositeImplicitAutograd: conv2d_symint

- func: convolution(Tensor input, Tensor weight, Tensor? bias) -> Tensor
  dispatch:
    CompositeExplicitAutograd: convolution
  autogen: convolution.out

- func: cudnn_convolution(Tensor self, Tensor weight) -> Tensor
  dispatch:
    CUDA: cudnn_convolution

- func: relu(Tensor self) -> Tensor
  dispatch:
    CPU, CUDA: relu
    MPS: relu_mps

- func: relu_(Tensor(a!) self) -> Tensor(a!)
  dispatch:
    CPU, CUDA: relu_

- func: max_pool2d(Tensor self, int[2] kernel_size) -> Tensor
  dispatch:
    CompositeImplicitAutograd: max_pool2d
    MPS: mps_max_pool2d

- func: max_pool2d_with_indices(Tensor self, int[2] kernel_size) -> (Tensor, Tensor)
  python_module: nn
  structured_delegate: max_pool2d_with_indices.out

- func: max_pool2d_with_indices.out(Tensor self, int[2] k, *, Tensor(a!) out) -> Tensor(a!)
  python_module: nn
  structured: True
  dispatch:
    CPU: max_pool2d_with_indices_out_cpu
    CUDA: max_pool2d_with_indices_out_cuda

- func: dropout(Tensor input, float p, bool train) -> Tensor

- func: dropout_(Tensor(a!) self, float p, bool train) -> Tensor(a!)

- func: native_dropout(Tensor input, float p, bool? train) -> (Tensor, Tensor)
  dispatch:
    CPU: native_dropout_cpu
    CUDA: native_dropout_cuda

- func: linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor
  python_module: nn

- func: addmm(Tensor self, Tensor mat1, Tensor mat2) -> Tensor
  structured_delegate: addmm.out
  dispatch:
    SparseCPU: addmm_sparse_dense_cpu

- func: addmm.out(Tensor self, Tensor mat1, Tensor mat2, *, Tensor(a!) out) -> Tensor(a!)
  structured: True
  dispatch:
    CPU: addmm_out_cpu
    CUDA: addmm_out_cuda

- func: flatten.using_ints(Tensor(a) self, int start_dim=0, int end_dim=-1) -> Tensor(a)

- func: flatten.named_out_dim(Tensor(a) self, int s, int e, Dimname out_dim) -> Tensor(a)
'''

DERIVATIVES_YAML = '''
- name: convolution(Tensor input, Tensor weight, Tensor? bias) -> Tensor
  input, weight, bias: convolution_backward_symint(grad, input, weight)

- name: relu(Tensor self) -> Tensor
  self: threshold_backward(grad, result, 0)
  result: auto_element_wise

- name: native_dropout(Tensor input, float p, bool? train) -> (Tensor, Tensor)
  input: native_dropout_backward(grad, result1, p)
'''

OPS_PY = '''
def resolve_key(op, k):
    # 1. (Direct) operator registration
    if op.has_kernel_for_dispatch_key(k):
        return k
    # 2.2 Use CompositeExplicitAutograd kernel if available
    cand = 1
    # 2.3. Use CompositeImplicitAutograd kernel if available
    cand = 2
    # Backend fallback
    raise NotImplementedError("none")


def other():
    # 9. not a step
    pass
'''

MODEL_PY = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, num_classes=2):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.drop = nn.Dropout(p=0.5)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(self.drop(x))
'''

CONVOLUTION_CPP = '''
#include <ATen/ATen.h>

namespace at { namespace native {

// at::not_a_call(x) in a comment
Tensor conv2d_symint(const Tensor& input, const Tensor& weight) {
  const char* s = "at::fake(";
  return at::convolution(input, weight, {});
}

Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  switch (select_conv_backend(input, weight)) {
    case ConvBackend::Cudnn:
      return at::cudnn_convolution(input, weight);
    case ConvBackend::Overrideable:
      return at::_ops::convolution_overrideable::call(input, weight);
    default:
      break;
  }
  if (input.is_mkldnn()) {
    return at::mkldnn_convolution(input, weight);
  } else {
    return at::_slow_conv2d_forward(input, weight);
  }
}

}} // namespace at::native
'''


def torch_files() -> dict[str, str]:
    """The synthetic torch + model files, by path; tests replace entries to vary a pattern."""
    files = {
        "torch/__init__.py": "",
        "torch/overrides.py": "def has_torch_function_unary(x):\n    return False\n\n"
                              "def handle_torch_function(*a, **k):\n    pass\n",
        "torch/_jit_internal.py": "def boolean_dispatch(arg_name, arg_index, default, if_true,"
                                  " if_false, module_name, func_name):\n    pass\n",
        "torch/_VF.py": VF_PY,
        "torch/_ops.py": OPS_PY,
        "torch/_C/__init__.pyi": "def _add_docstr(obj, doc): ...\n",
        "torch/_C/_VariableFunctions.pyi": VARIABLE_FUNCTIONS_PYI,
        "torch/_C/_nn.pyi": NN_PYI,
        "torch/nn/__init__.py": "from .modules import *\nfrom . import functional\n",
        "torch/nn/functional.py": FUNCTIONAL_PY,
        "torch/nn/modules/__init__.py": (
            "from .module import Module\nfrom .container import Sequential\n"
            "from .layers import Conv2d, ReLU, MaxPool2d, Dropout, Linear\n"
            "__all__ = ['Module', 'Sequential', 'Conv2d', 'ReLU', 'MaxPool2d', 'Dropout',"
            " 'Linear']\n"),
        "torch/nn/modules/module.py": MODULE_PY,
        "torch/nn/modules/container.py": CONTAINER_PY,
        "torch/nn/modules/layers.py": LAYERS_PY,
        "torchgen/packaged/ATen/native/native_functions.yaml": NATIVE_FUNCTIONS_YAML,
        "torchgen/packaged/autograd/derivatives.yaml": DERIVATIVES_YAML,
        "zoo/__init__.py": "",
        "zoo/net.py": MODEL_PY,
    }
    return files
