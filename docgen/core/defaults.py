"""The embedded default study (AlexNet + torch.nn) as plain constants; imports nothing.

Kept apart from config.py so the command line can name the defaults in its help without
paying for dataclasses at start-up.
"""

DEFAULT_MODEL = "torchvision.models.alexnet:AlexNet"
DEFAULT_PACKAGES = ("torch.nn",)
# Members built by a subclass of this class are submodules.
DEFAULT_MODULE_ROOT = "torch.nn.modules.module.Module"
# The site's Changes page compares these when torch.nn is studied (option `changes`).
DEFAULT_CHANGE_PAIRS: tuple[tuple[str, str], ...] = (("torch==2.13.0", "torch==2.14.1"),)
