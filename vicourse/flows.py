"""A normalizing-flow family: a diagonal Gaussian pushed through L planar layers.

    z₀ = μ + σ ⊙ ε,   z_l = z_{l−1} + û_l tanh(w_lᵀ z_{l−1} + b_l),   l = 1, …, L
    log q(z_L) = log N(z₀; μ, diag σ²) − Σ_l log |1 + û_lᵀ ψ_l(z_{l−1})|,
    ψ_l(z) = (1 − tanh²(w_lᵀ z + b_l)) w_l        (Rezende and Mohamed, 2015)

The log-density is the change of variables: each layer stretches space by the determinant of
its Jacobian, I + û ψᵀ, which is 1 + ûᵀψ (the matrix determinant lemma). û is u moved along w
so that wᵀû ≥ −1, which makes each layer invertible: û = u + (m(wᵀu) − wᵀu) w / ‖w‖²,
m(a) = −1 + log(1 + eᵃ), as in Pyro's Planar transform.

A planar layer has no closed-form inverse. rsample and sample remember their last draws and
the log-density they computed on the way (Pyro's transforms cache theirs the same way), so
log_prob of those draws costs nothing and keeps its gradient. log_prob of any other z inverts
the layers numerically: with a = wᵀz_{l−1}, the layer gives wᵀz_l = a + wᵀû tanh(a + b), which
increases with a, so bisection finds a, and then z_{l−1} = z_l − û tanh(a + b). That path has
no gradient with respect to the parameters, and refuses to run where one would be expected.

Parameters (each with one row per datapoint): loc, log_scale (N, K); u, w (N, L, K); bias (N, L).
Shapes: rsample (S, N, K), log_prob (S, N), entropy: none in closed form.
Chapter 10, "Richer posteriors and tighter bounds" (book/10_richer_posteriors.ipynb).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _checks, _checks_values
from .families import Family, check_draws
from .gaussian import DiagonalGaussian
from .numerics import normal_log_prob

BISECTION_STEPS = 100  # halvings of an interval of width 2|wᵀû|: far below float64's spacing


class PlanarFlow(Family):
    """q(z): N(loc, diag exp(log_scale)²) pushed through L planar layers (see the module).

    Args:
        loc, log_scale: the base Gaussian's μ and log σ, (N, K).
        u, w: (N, L, K), the layers' directions; bias: (N, L).
        All of one dtype and device, finite. L = 0 layers is the diagonal Gaussian itself.

    Shapes: rsample (S, N, K), log_prob (S, N).   Chapter: 10.
    """

    __slots__ = ("_last", "bias", "loc", "log_scale", "u", "w")
    has_rsample = True

    def __init__(self, loc, log_scale, u, w, bias):
        if _checks.enabled:
            _check_parameters(loc, log_scale, u, w, bias)
        self.loc, self.log_scale, self.u, self.w, self.bias = loc, log_scale, u, w, bias
        self._last = None  # (z, log q(z)) of the last draws

    @classmethod
    def from_diagonal(cls, q: DiagonalGaussian, num_layers: int) -> PlanarFlow:
        """q itself, followed by num_layers layers that do nothing yet (û = 0: u = a w / ‖w‖²
        with a = log(e − 1), where m(a) = 0), a starting point for fit_local. w starts as a
        small fixed direction, so that the layers' gradients are not 0."""
        _checks.instance("q", q, DiagonalGaussian, "pass a DiagonalGaussian")
        layers = _checks.positive_int("num_layers", num_layers)
        n, k = q.loc.shape
        w = q.loc.new_full((n, layers, k), 0.1 / k**0.5)
        u = math.log(math.e - 1) * w / w.square().sum(-1, keepdim=True)
        return cls(q.loc, q.log_scale, u, w, q.loc.new_zeros(n, layers))

    @property
    def latent_dim(self) -> int:
        return self.loc.shape[-1]

    @property
    def num_layers(self) -> int:
        return self.u.shape[-2]

    def params(self) -> dict[str, torch.Tensor]:
        """The variational parameters by name: PlanarFlow(**q.params()) rebuilds q."""
        return {
            "loc": self.loc,
            "log_scale": self.log_scale,
            "u": self.u,
            "w": self.w,
            "bias": self.bias,
        }

    def u_hat(self) -> torch.Tensor:
        """û, u moved along w so that wᵀû ≥ −1 (each layer then invertible).   (N, L, K)."""
        wu = (self.w * self.u).sum(-1, keepdim=True)
        return self.u + (F.softplus(wu) - 1 - wu) * self.w / self.w.square().sum(-1, keepdim=True)

    def layer(
        self, z: torch.Tensor, index: int, u_hat: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer `index` at z: (its output, log |det| of its Jacobian).   (S, N, K) -> (S, N, K),
        (S, N). u_hat: self.u_hat(), where the caller has it already."""
        u_hat = self.u_hat() if u_hat is None else u_hat
        w, b, u = self.w[:, index], self.bias[:, index], u_hat[:, index]
        act = torch.tanh((z * w).sum(-1) + b)  # (S, N)
        psi = (1 - act.square()).unsqueeze(-1) * w
        return z + u * act.unsqueeze(-1), torch.log(torch.abs(1 + (psi * u).sum(-1)))

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws z_L through the layers, differentiable in every parameter; log_prob of them is
        remembered.   Shapes: (S, N, K)."""
        num_samples = self._draw_arguments(num_samples, generator)
        base = DiagonalGaussian(self.loc, self.log_scale)
        z = base.rsample(num_samples, generator=generator)
        log_q = normal_log_prob(z, self.loc, self.log_scale)
        u_hat = self.u_hat()
        for index in range(self.num_layers):
            z, log_det = self.layer(z, index, u_hat)
            log_q = log_q - log_det
        self._last = (z, log_q)
        return z

    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The draws of rsample with the same generator state, cut from the graph (their
        log-density is remembered too)."""
        with torch.no_grad():
            z = self.rsample(num_samples, generator=generator)
        return z

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z): remembered for the last draws; otherwise by inverting the layers (no
        gradient with respect to the parameters).   Shapes: (S, N, K) -> (S, N)."""
        if self._last is not None and z is self._last[0]:
            return self._last[1]
        if _checks.enabled:
            check_draws(z, self.loc)
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.params().values()):
            _checks.fail(
                "z",
                "draws of this q (q.rsample or q.sample), or a call under torch.no_grad()",
                "another z, while q's parameters require gradients",
                "log q of a z it did not draw inverts the layers numerically and has no "
                "gradient: draw z = q.rsample(S) for an ELBO you differentiate",
            )
        with torch.no_grad():
            total_log_det = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
            u_hat = self.u_hat()
            for index in reversed(range(self.num_layers)):
                z = self._invert(z, index, u_hat)
                total_log_det = total_log_det + self.layer(z, index, u_hat)[1]
            return normal_log_prob(z, self.loc, self.log_scale) - total_log_det

    def _invert(self, y: torch.Tensor, index: int, u_hat: torch.Tensor) -> torch.Tensor:
        """The z with layer(z) = y: bisection on a = wᵀz, then z = y − û tanh(a + b)."""
        w, b, u = self.w[:, index], self.bias[:, index], u_hat[:, index]
        target, slope = (y * w).sum(-1), (w * u).sum(-1)  # wᵀy = a + wᵀû tanh(a + b)
        low, high = target - slope.abs(), target + slope.abs()
        for _ in range(BISECTION_STEPS):
            middle = (low + high) / 2
            above = middle + slope * torch.tanh(middle + b) > target
            low, high = torch.where(above, low, middle), torch.where(above, middle, high)
        a = (low + high) / 2
        return y - u * torch.tanh(a + b).unsqueeze(-1)

    def entropy(self) -> torch.Tensor:
        _checks.fail(
            "q",
            "a family with a closed-form entropy",
            "a PlanarFlow, whose entropy has none",
            "estimate it as −log q(z) averaged over draws z = q.rsample(S)",
        )


def _check_parameters(loc, log_scale, u, w, bias) -> None:
    _checks.tensor("loc", loc, ndim=2, shape_hint="(N, K)", fix="pass μ with one row per x")
    n, k = loc.shape
    _checks.tensor("log_scale", log_scale, ndim=2, shape_hint=f"(N, K) = ({n}, {k})")
    _checks.tensor("u", u, ndim=3, last=k, shape_hint=f"(N, L, K) = ({n}, L, {k})")
    layers = u.shape[1]
    expected = {
        "log_scale": (log_scale, (n, k)),
        "u": (u, (n, layers, k)),
        "w": (w, (n, layers, k)),
        "bias": (bias, (n, layers)),
    }
    for name, (value, shape) in expected.items():
        _checks.shaped_like(
            name,
            value,
            shape,
            loc,
            f"like loc's (N, K) = ({n}, {k}) with L = {layers} layers",
            "build q with PlanarFlow.from_diagonal(q, num_layers)",
        )
    _checks_values.finite("loc", loc)
    _checks_values.scale_tensor("log_scale", log_scale)
    for name in ("u", "w", "bias"):
        _checks_values.finite(name, expected[name][0])
    if layers and bool((w.square().sum(-1) == 0).any()):
        _checks.fail(
            "w", "nonzero in every layer (û divides by ‖w‖²)", "a zero w", "start w small, not 0"
        )
