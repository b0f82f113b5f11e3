"""A normalizing-flow family: a diagonal Gaussian pushed through L planar layers.

    z₀ = μ + σ ⊙ ε,   z_l = z_{l−1} + û_l tanh(w_lᵀ z_{l−1} + b_l),   l = 1, …, L
    log q(z_L) = log N(z₀; μ, diag σ²) − Σ_l log |1 + û_lᵀ ψ_l(z_{l−1})|,
    ψ_l(z) = (1 − tanh²(w_lᵀ z + b_l)) w_l        (Rezende and Mohamed, 2015)

The log-density is the change of variables: each layer stretches space by the determinant of
its Jacobian, I + û ψᵀ, which is 1 + ûᵀψ (the matrix determinant lemma). û is u moved along w
so that wᵀû ≥ −1, which makes each layer invertible: û = u + (m(wᵀu) − wᵀu) w / ‖w‖²,
m(a) = −1 + log(1 + eᵃ), as in Pyro's Planar transform.

A planar layer has no closed-form inverse. rsample remembers its last draws with the
log-density it computed on the way (Pyro's transforms cache theirs the same way), so log_prob of
those draws costs nothing and keeps its gradient through z. sample remembers the path z₀, …, z_L
of its draws instead: log_prob of them pulls z_L back through the layers with one Newton step per
layer, z_{l−1} = z* − J⁻¹(layer(z*) − z_l) at the exact point z* (J = I + û ψᵀ, inverted by
Sherman–Morrison, held constant), which changes no value and carries the implicit function
theorem's gradient: ∇_φ log q_φ(z) at the fixed z, what the score-function estimator needs. A
remembered draw is that very tensor, unchanged (by version counter) as are the parameters.
log_prob of any other z inverts the layers numerically: with a = wᵀz_{l−1}, the layer gives
wᵀz_l = a + wᵀû tanh(a + b), which increases with a, so bisection finds a, and then
z_{l−1} = z_l − û tanh(a + b). That path has no gradient with respect to the parameters, and
refuses to run where one would be expected.

Parameters (each with one row per datapoint): loc, log_scale (N, K); u, w (N, L, K); bias (N, L).
Shapes: rsample (S, N, K), log_prob (S, N), entropy: none in closed form.
Chapter 10, "Richer posteriors and tighter bounds" (book/10_richer_posteriors.ipynb).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _checks
from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family
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

    @validated(**kinds.flow)
    def __init__(self, loc, log_scale, u, w, bias):
        self.loc, self.log_scale, self.u, self.w, self.bias = loc, log_scale, u, w, bias
        self._last = None  # the last draws: with log q (rsample) or their path (sample)

    @classmethod
    @validated(q=kinds.diagonal_q(DiagonalGaussian), num_layers=kinds.count)
    def from_diagonal(cls, q: DiagonalGaussian, num_layers: int) -> PlanarFlow:
        """q itself, followed by num_layers layers that do nothing yet (û = 0: u = a w / ‖w‖²
        with a = log(e − 1), where m(a) = 0), a starting point for fit_local. w starts as a
        small fixed direction, so that the layers' gradients are not 0."""
        n, k = q.loc.shape
        w = q.loc.new_full((n, num_layers, k), 0.1 / k**0.5)
        u = math.log(math.e - 1) * w / w.square().sum(-1, keepdim=True)
        return cls(q.loc, q.log_scale, u, w, q.loc.new_zeros(n, num_layers))

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

    @validated()
    def u_hat(self) -> torch.Tensor:
        """û, u moved along w so that wᵀû ≥ −1 (each layer then invertible).   (N, L, K)."""
        wu = (self.w * self.u).sum(-1, keepdim=True)
        return self.u + (F.softplus(wu) - 1 - wu) * self.w / self.w.square().sum(-1, keepdim=True)

    @validated(z=kinds.draws_of_q, index=kinds.layer_index, u_hat=kinds.u_hat)
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

    def _forward(self, num_samples: int, generator) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The path z₀, …, z_L of new draws through the layers, and log q(z_L)."""
        z = DiagonalGaussian(self.loc, self.log_scale).rsample(num_samples, generator=generator)
        log_q = normal_log_prob(z, self.loc, self.log_scale)
        path, u_hat = [z], self.u_hat()
        for index in range(self.num_layers):
            z, log_det = self.layer(z, index, u_hat)
            log_q = log_q - log_det
            path.append(z)
        return path, log_q

    @validated(**kinds.drawing)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws z_L through the layers, differentiable in every parameter; log_prob of them is
        remembered.   Shapes: (S, N, K)."""
        path, log_q = self._forward(num_samples, generator)
        # under torch.no_grad() log_q has no graph: keep the path, to pull back with one later
        self._last = self._remember(path[-1], log_q if torch.is_grad_enabled() else path)
        return path[-1]

    @validated(**kinds.drawing)
    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The draws of rsample with the same generator state, cut from the graph; their path
        is remembered, from which log_prob has its gradient in the parameters (the module)."""
        with torch.no_grad():
            path, _ = self._forward(num_samples, generator)
        self._last = self._remember(path[-1], path)
        return path[-1]

    @validated(z=kinds.draws_of_q)
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z): for the last draws, remembered (rsample) or pulled back along their path
        with the gradient at the fixed z (sample); otherwise by inverting the layers (no
        gradient with respect to the parameters).   Shapes: (S, N, K) -> (S, N)."""
        remembered = self._recall(self._last, z)
        if isinstance(remembered, torch.Tensor):
            return remembered
        if remembered is not None:
            return self._pulled_back(remembered)
        wanted = [z, *self.params().values()]
        if torch.is_grad_enabled() and any(t.requires_grad for t in wanted):
            _no_gradient()  # a refusal that teaches: the message is in the helper
        with torch.no_grad():
            total_log_det = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
            u_hat = self.u_hat()
            for index in reversed(range(self.num_layers)):
                z = self._invert(z, index, u_hat)
                total_log_det = total_log_det + self.layer(z, index, u_hat)[1]
            return normal_log_prob(z, self.loc, self.log_scale) - total_log_det

    def _pulled_back(self, path: list[torch.Tensor]) -> torch.Tensor:
        """log q(z_L) from the exact path of a draw, differentiable in the parameters with z_L
        held fixed: each z_{l−1} is the exact point plus a Newton step that is 0 in value."""
        u_hat = self.u_hat()
        z, total_log_det = path[-1], 0.0
        for index in reversed(range(self.num_layers)):
            z = self._newton_step(path[index], z, index, u_hat)
            total_log_det = total_log_det + self.layer(z, index, u_hat)[1]
        return normal_log_prob(z, self.loc, self.log_scale) - total_log_det

    def _newton_step(self, exact, target, index: int, u_hat: torch.Tensor) -> torch.Tensor:
        """exact − J⁻¹(layer(exact) − target), J = I + û ψᵀ at `exact`, held constant: the value
        of `exact` (layer(exact) = target), with the gradient of the z that layer maps to
        target, J⁻¹(d target − ∂layer/∂φ dφ). J⁻¹ r = r − û ψᵀr / (1 + ψᵀû) (Sherman–Morrison)."""
        residual = self.layer(exact, index, u_hat)[0] - target
        with torch.no_grad():
            w, u = self.w[:, index], u_hat[:, index]
            act = torch.tanh((exact * w).sum(-1) + self.bias[:, index])
            psi = (1 - act.square()).unsqueeze(-1) * w
            denominator = 1 + (psi * u).sum(-1)
        along = ((psi * residual).sum(-1) / denominator).unsqueeze(-1)
        return exact - (residual - u * along)

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

    @validated()
    def entropy(self) -> torch.Tensor:
        _no_entropy()  # a refusal that teaches: the message is in the helper


def _no_gradient():
    _checks.fail(
        "z",
        "draws of this q (q.rsample or q.sample), or a call under torch.no_grad()",
        "another z, while it or q's parameters require gradients",
        "log q of a z it did not draw inverts the layers numerically and has no "
        "gradient: draw z = q.rsample(S) for an ELBO you differentiate",
    )


def _no_entropy():
    _checks.fail(
        "q",
        "a family with a closed-form entropy",
        "a PlanarFlow, whose entropy has none",
        "estimate it as −log q(z) averaged over draws z = q.rsample(S)",
    )
