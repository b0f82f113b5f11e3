"""The switch for argument checks: on by default, off where the arguments are known to be right.

Validate once, where the user's call enters: a public function declares its arguments with
`@validated` (_checks_spec.py), which checks them when `_checks.enabled` is True and runs the
body with the switch off, so the public functions it calls in turn check nothing, and the
fitting loops and the trainer cost what their arithmetic costs. `vicourse.validation_enabled(
False)` (a context manager) and `vicourse.enable_validation(False)` switch the checks off for a
caller's own loops, as `torch.distributions.Distribution.set_default_validate_args` and pyro's
`enable_validation` do. The switch is global to the process, like theirs.
Chapter: all (every public function reads it).
"""

from __future__ import annotations

from . import _checks
from ._checks_spec import Kind, validated

# A kind of its own: _checks_kinds imports the families, which import this module.
_flag = Kind("flag", lambda name, value, args: _checks.boolean(name, value))


class validation_enabled:
    """Inside `with vicourse.validation_enabled(False):` no argument is checked; the previous
    setting comes back on exit. With True, checks are switched back on inside.

    For loops of your own over data you checked once: a wrong argument then gives a raw torch
    error or a wrong answer instead of the project's message. The package's own loops (the
    fitters and the trainer) already run this way.
    """

    __slots__ = ("previous", "wanted")

    @validated(enabled=_flag)
    def __init__(self, enabled: bool = True):
        self.wanted = enabled
        self.previous: list[bool] = []  # a stack, so that one switch can be entered twice

    def __enter__(self):
        self.previous.append(_checks.enabled)
        _checks.enabled = self.wanted

    def __exit__(self, *exc_info):
        _checks.enabled = self.previous.pop()


@validated(trusted=False, enabled=_flag)  # the body sets the switch: not run trusted
def enable_validation(enabled: bool = True) -> None:
    """Switch argument checks on (the default) or off for the rest of the process."""
    _checks.enabled = enabled
