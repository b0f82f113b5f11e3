"""The principle behind test_checks.py, tested with hypothesis: every public function, fed one
malformed argument at a time (a wrong type, dtype, shape or device; nan or inf at any position; a
count, scale or number out of range; an object of the wrong kind), either returns a result free of
nan or raises the project's ArgumentError with its message: '{name} must be …, got …; {fix}.' It
never returns nan and never lets a raw torch or Python exception through. Malformations that can
never be valid (nan, a wrong type, a wrong dtype, a label out of range, …) must raise.

Derandomized, so CI runs the same cases every time; VICOURSE_SWEEP_EXAMPLES sets the number of
cases per function (default 40) for a deeper local run.
"""

import inspect
import math
import os
import re
import sys
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_specs import CALLABLES, abstract

import vicourse
from vicourse import (
    ArgumentError,
    DiagonalGaussian,
    GaussianMean,
    GaussianMixture,
    LinearGaussian,
    plots,
)
from vicourse._checks_spec import specs_of
from vicourse.estimators import gradient_samples

DTYPE = torch.float64  # of the valid cases; test_every_valid_case_works_in_float32 sets float32
EXAMPLES = int(os.environ.get("VICOURSE_SWEEP_EXAMPLES", "40"))
MESSAGE = re.compile(r"^\S.* must be .+, got .+; .+\.( \(.*\))?$", re.DOTALL)


def gen():
    return torch.Generator().manual_seed(0)


def conjugate():
    return GaussianMean(2, 0.3, 1.2, 0.6, dtype=DTYPE)


def linear():
    weight = torch.tensor([[1.0, 0.5], [0.3, -0.7], [0.2, 0.1]], dtype=DTYPE)
    return LinearGaussian(weight, torch.tensor([0.1, -0.2, 0.3], dtype=DTYPE), 0.5)


def mixture():
    return GaussianMixture(
        torch.zeros(3, dtype=DTYPE),
        torch.tensor([[-2.0], [0.0], [2.0]], dtype=DTYPE),
        torch.full((3, 1), -0.3, dtype=DTYPE),
    )


def q(n=3, k=2, dtype=None):
    dtype = dtype or DTYPE
    return DiagonalGaussian(
        torch.linspace(-1, 1, n * k, dtype=dtype).reshape(n, k),
        torch.full((n, k), -0.2, dtype=dtype),
    )


def bernoulli_mixture():
    return vicourse.BernoulliMixture(
        torch.zeros(3, dtype=DTYPE), torch.linspace(-2, 2, 12, dtype=DTYPE).reshape(3, 4)
    )


def binary(n=3):
    return (torch.arange(4 * n, dtype=DTYPE).reshape(n, 4) % 3 == 0).to(DTYPE)


def categorical(n=3, c=3):
    return vicourse.Categorical(torch.linspace(-1, 1, n * c, dtype=DTYPE).reshape(n, c))


def encoder():
    torch.manual_seed(0)
    return vicourse.GaussianEncoder(3, 2, hidden=(4,)).to(DTYPE)


def x2(n=3):
    return torch.linspace(-1, 1, 2 * n, dtype=DTYPE).reshape(n, 2)


def x3(n=3):
    return torch.linspace(-1, 1, 3 * n, dtype=DTYPE).reshape(n, 3)


def x1(n=3):
    return torch.linspace(-1, 1, n, dtype=DTYPE)[:, None]


@dataclass
class Case:
    """A public callable and a factory of valid arguments. Each argument's kind comes from the
    callable's spec (`@validated`, vicourse/_checks_spec.py); `kinds` is for the callables that
    have none (the plots, which a learner does not call)."""

    call: object
    valid: object  # () -> dict of keyword arguments
    hand_kinds: dict = field(default_factory=dict)

    @property
    def kinds(self) -> dict:
        target = getattr(self.call, "target", None)
        specs = specs_of(target() if target else self.call)
        if specs is None:
            return self.hand_kinds
        return {  # an argument declared "unchecked" takes any value: there is nothing to feed it
            arg: specs[arg].name
            for arg in self.valid()
            if arg in specs and specs[arg].name != "unchecked"
        }


def method(factory, name):
    """Call `name` on a fresh object made by `factory`."""

    def call(**kwargs):
        return getattr(factory(), name)(**kwargs)

    call.__name__ = f"{factory.__name__}().{name}"
    call.target = lambda: getattr(type(factory()), name)
    return call


GEN = dict(generator="generator")
CASES = {
    "DiagonalGaussian": Case(
        DiagonalGaussian,
        lambda: dict(loc=torch.zeros(3, 2, dtype=DTYPE), log_scale=torch.zeros(3, 2, dtype=DTYPE)),
        dict(loc="data", log_scale="data"),
    ),
    "DiagonalGaussian.from_scale": Case(
        DiagonalGaussian.from_scale,
        lambda: dict(loc=torch.zeros(3, 2, dtype=DTYPE), scale=torch.ones(3, 2, dtype=DTYPE)),
        dict(loc="data", scale="data"),
    ),
    "FullGaussian": Case(
        vicourse.FullGaussian,
        lambda: dict(loc=torch.zeros(3, 2, dtype=DTYPE), tril=torch.zeros(3, 2, 2, dtype=DTYPE)),
        dict(loc="data", tril="data"),
    ),
    "FullGaussian.from_scale_tril": Case(
        vicourse.FullGaussian.from_scale_tril,
        lambda: dict(
            loc=torch.zeros(3, 2, dtype=DTYPE), scale_tril=torch.eye(2, dtype=DTYPE).repeat(3, 1, 1)
        ),
        dict(loc="data", scale_tril="data"),
    ),
    "FullGaussian.from_diagonal": Case(
        vicourse.FullGaussian.from_diagonal, lambda: dict(q=q()), dict(q="any_q")
    ),
    "FullGaussian().log_prob": Case(
        method(lambda: vicourse.FullGaussian.from_diagonal(q()), "log_prob"),
        lambda: dict(z=torch.zeros(5, 3, 2, dtype=DTYPE)),
        dict(z="data"),
    ),
    "PlanarFlow": Case(
        vicourse.PlanarFlow,
        lambda: vicourse.PlanarFlow.from_diagonal(q(), 2).params(),
        dict(loc="data", log_scale="data", u="data", w="data", bias="data"),
    ),
    "PlanarFlow.from_diagonal": Case(
        vicourse.PlanarFlow.from_diagonal,
        lambda: dict(q=q(), num_layers=2),
        dict(q="any_q", num_layers="count"),
    ),
    "PlanarFlow().log_prob": Case(
        method(lambda: vicourse.PlanarFlow.from_diagonal(q(), 2), "log_prob"),
        lambda: dict(z=torch.zeros(5, 3, 2, dtype=DTYPE)),
        dict(z="data"),
    ),
    "RelaxedCategorical": Case(
        vicourse.RelaxedCategorical,
        lambda: dict(logits=torch.zeros(3, 3, dtype=DTYPE), temperature=0.5),
        dict(logits="data", temperature="positive"),
    ),
    "StraightThroughCategorical": Case(
        vicourse.StraightThroughCategorical,
        lambda: dict(logits=torch.zeros(3, 3, dtype=DTYPE), temperature=0.5),
        dict(logits="data", temperature="positive"),
    ),
    "RelaxedCategorical().log_prob": Case(
        method(lambda: vicourse.RelaxedCategorical(categorical().logits, 0.5), "log_prob"),
        lambda: dict(y=torch.full((4, 3, 3), 1 / 3, dtype=DTYPE)),
        dict(y="data"),
    ),
    "RelaxedCategorical().rsample": Case(
        method(lambda: vicourse.RelaxedCategorical(categorical().logits, 0.5), "rsample"),
        lambda: dict(num_samples=4, generator=gen()),
        dict(num_samples="count", **GEN),
    ),
    "StraightThroughCategorical().rsample": Case(
        method(lambda: vicourse.StraightThroughCategorical(categorical().logits, 0.5), "rsample"),
        lambda: dict(num_samples=4, generator=gen()),
        dict(num_samples="count", **GEN),
    ),
    "BernoulliMixture": Case(
        vicourse.BernoulliMixture,
        lambda: dict(
            logits=torch.zeros(3, dtype=DTYPE), image_logits=torch.zeros(3, 4, dtype=DTYPE)
        ),
        dict(logits="data", image_logits="data"),
    ),
    "BernoulliMixture.log_likelihood(points)": Case(
        method(bernoulli_mixture, "log_likelihood"),
        lambda: dict(x=binary(), z=torch.full((4, 3, 3), 1 / 3, dtype=DTYPE)),
        dict(x="data", z="data"),
    ),
    "BernoulliMixture.elbo_exact": Case(
        method(bernoulli_mixture, "elbo_exact"),
        lambda: dict(q=categorical(), x=binary()),
        dict(q="categorical", x="data"),
    ),
    "q.rsample": Case(
        method(q, "rsample"),
        lambda: dict(num_samples=4, generator=gen()),
        dict(num_samples="count", **GEN),
    ),
    "q.sample": Case(
        method(q, "sample"),
        lambda: dict(num_samples=4, generator=gen()),
        dict(num_samples="count", **GEN),
    ),
    "q.log_prob": Case(
        method(q, "log_prob"), lambda: dict(z=torch.zeros(5, 3, 2, dtype=DTYPE)), dict(z="data")
    ),
    "GaussianMean": Case(
        GaussianMean,
        lambda: dict(
            dim=2, prior_loc=0.3, prior_scale=1.2, noise_scale=0.6, dtype=DTYPE, device="cpu"
        ),
        dict(
            dim="count",
            prior_loc="real",
            prior_scale="positive",
            noise_scale="positive",
            dtype="dtype",
            device="device",
        ),
    ),
    "LinearGaussian": Case(
        LinearGaussian,
        lambda: dict(
            weight=torch.ones(3, 2, dtype=DTYPE), bias=torch.zeros(3, dtype=DTYPE), noise_scale=0.5
        ),
        dict(weight="data", bias="optional_data", noise_scale="positive"),
    ),
    "GaussianMixture": Case(
        GaussianMixture,
        lambda: dict(
            logits=torch.zeros(3, dtype=DTYPE),
            loc=torch.zeros(3, 1, dtype=DTYPE),
            log_scale=torch.zeros(3, 1, dtype=DTYPE),
        ),
        dict(logits="data", loc="data", log_scale="data"),
    ),
    "elbo": Case(
        vicourse.elbo, lambda: dict(log_w=-torch.ones(4, 3, dtype=DTYPE)), dict(log_w="data")
    ),
    "monte_carlo": Case(
        vicourse.monte_carlo,
        lambda: dict(values=torch.ones(4, 3, dtype=DTYPE)),
        dict(values="data"),
    ),
    "kl_diag_gaussians": Case(
        vicourse.kl_diag_gaussians, lambda: dict(q=q(), p=q()), dict(q="q", p="q")
    ),
    "kl_diag_to_full": Case(
        vicourse.kl_diag_to_full,
        lambda: dict(q=q(), p=linear().posterior(x3())),
        dict(q="q", p="mvn"),
    ),
    "kl_monte_carlo": Case(
        vicourse.kl_monte_carlo,
        lambda: dict(q=q(), log_p=q().log_prob, num_samples=8, generator=gen()),
        dict(q="q", log_p="callable", num_samples="count", **GEN),
    ),
    "fit_gradient": Case(
        vicourse.fit_gradient,
        lambda: dict(model=mixture(), x=x1(), num_steps=2, lr=0.05),
        dict(model="model", x="data", num_steps="count", lr="positive"),
    ),
    "fit_em": Case(
        vicourse.fit_em,
        lambda: dict(model=mixture(), x=x1(6), num_steps=2, min_scale=1e-3),
        dict(model="model", x="data", num_steps="count", min_scale="positive"),
    ),
    "em_step": Case(
        vicourse.em_step,
        lambda: dict(model=mixture(), x=x1(6), min_scale=1e-3),
        dict(model="model", x="data", min_scale="positive"),
    ),
    "expected_log_joint": Case(
        vicourse.expected_log_joint,
        lambda: dict(
            model=mixture(), x=x1(), responsibilities=torch.full((3, 3), 1 / 3, dtype=DTYPE)
        ),
        dict(model="model", x="data", responsibilities="data"),
    ),
    "make_generator": Case(
        vicourse.make_generator,
        lambda: dict(seed=3, device="cpu"),
        dict(seed="seed", device="device"),
    ),
    "seed_everything": Case(
        vicourse.seed_everything,
        lambda: dict(seed=3, device="cpu"),
        dict(seed="seed", device="device"),
    ),
    "describe": Case(
        vicourse.describe,
        lambda: dict(device="cpu", width=79),
        dict(device="optional_device", width="count"),
    ),
    "default_device": Case(
        vicourse.default_device, lambda: dict(need_float64=True), dict(need_float64="flag")
    ),
    "plots.point_q": Case(
        plots.point_q,
        lambda: dict(model=conjugate(), loc=0.3, scale=0.8),
        dict(model="model", loc="real", scale="positive"),
    ),
    "plots.bound_summary": Case(
        plots.bound_summary,
        lambda: dict(model=conjugate(), x=x2(1), q=q(1)),
        dict(model="model", x="data", q="q"),
    ),
    "plots.plot_trace": Case(
        plots.plot_trace, lambda: dict(trace=torch.ones(5, dtype=DTYPE)), dict(trace="data")
    ),
    "plots.plot_landscape": Case(
        plots.plot_landscape,
        lambda: dict(
            locs=torch.linspace(-1, 1, 4, dtype=DTYPE),
            log_scales=torch.linspace(-1, 0, 3, dtype=DTYPE),
            values=torch.ones(4, 3, dtype=DTYPE),
        ),
        dict(locs="data", log_scales="data", values="data"),
    ),
    "plots.plot_posterior_and_q": Case(
        plots.plot_posterior_and_q,
        lambda: dict(model=GaussianMean(1, dtype=DTYPE), x=x1(1), q=q(1, 1), z_range=(-3.0, 3.0)),
        dict(model="model", x="data", q="q", z_range="pair"),
    ),
    "plots.plot_marginal_1d": Case(
        plots.plot_marginal_1d,
        lambda: dict(model=mixture(), x_samples=x1(20)),
        dict(model="model", x_samples="data"),
    ),
    "plots.plot_gaussians_2d": Case(
        plots.plot_gaussians_2d,
        lambda: dict(posterior=linear().posterior(x3(1)), q=q(1)),
        dict(posterior="mvn", q="q"),
    ),
    "plots.animate_q": Case(
        plots.animate_q,
        lambda: dict(
            model=GaussianMean(1, dtype=DTYPE), x=x1(1), locs=[0.0, 0.5], log_scales=[0.0, -0.5]
        ),
        dict(model="model", x="data", locs="sequence", log_scales="sequence"),
    ),
    "plots.animation_html": Case(
        plots.animation_html,
        lambda: dict(
            anim=plots.animate_q(GaussianMean(1, dtype=DTYPE), x1(1), [0.0], [0.0]),
            alt="q moves onto the posterior, closing the gap",
        ),
        dict(anim="animation", alt="choice"),
    ),
}

# Methods of the three models, with data of the right width for each.
for name, factory, x, z, k in [
    ("GaussianMean", conjugate, x2, lambda: torch.zeros(4, 3, 2, dtype=DTYPE), 2),
    ("LinearGaussian", linear, x3, lambda: torch.zeros(4, 3, 2, dtype=DTYPE), 2),
    ("GaussianMixture", mixture, x1, lambda: torch.zeros(4, 3, dtype=torch.long), 1),
    ("BernoulliMixture", bernoulli_mixture, binary, lambda: torch.zeros(4, 3, dtype=torch.long), 1),
]:
    z_kind = "labels" if k == 1 else "data"
    CASES[f"{name}.log_prior"] = Case(
        method(factory, "log_prior"), lambda z=z: dict(z=z()), dict(z=z_kind)
    )
    CASES[f"{name}.log_likelihood"] = Case(
        method(factory, "log_likelihood"),
        lambda x=x, z=z: dict(x=x(), z=z()),
        dict(x="data", z=z_kind),
    )
    CASES[f"{name}.log_joint"] = Case(
        method(factory, "log_joint"), lambda x=x, z=z: dict(x=x(), z=z()), dict(x="data", z=z_kind)
    )
    CASES[f"{name}.log_marginal"] = Case(
        method(factory, "log_marginal"), lambda x=x: dict(x=x()), dict(x="data")
    )
    CASES[f"{name}.posterior"] = Case(
        method(factory, "posterior"), lambda x=x: dict(x=x()), dict(x="data")
    )
    CASES[f"{name}.sample"] = Case(
        method(factory, "sample"), lambda: dict(n=3, generator=gen()), dict(n="count", **GEN)
    )
    CASES[f"{name}.sample_prior"] = Case(
        method(factory, "sample_prior"),
        lambda: dict(num_samples=2, n=3, generator=gen()),
        dict(num_samples="count", n="count", **GEN),
    )
    CASES[f"{name}.sample_likelihood"] = Case(
        method(factory, "sample_likelihood"),
        lambda z=z, k=k: dict(z=z()[0] if k == 1 else z(), generator=gen()),
        dict(z=z_kind, **GEN),
    )
    if k == 2:
        for bound in ("log_weights", "elbo_with_entropy"):
            CASES[f"{bound}({name})"] = Case(
                getattr(vicourse, bound),
                lambda factory=factory, x=x: dict(
                    model=factory(), q=q(), x=x(), z=torch.zeros(4, 3, 2, dtype=DTYPE)
                ),
                dict(model="model", q="q", x="data", z="data"),
            )
        for estimator in ("elbo_pathwise", "elbo_score_function"):
            CASES[f"{estimator}({name})"] = Case(
                getattr(vicourse, estimator),
                lambda factory=factory, x=x: dict(
                    model=factory(), q=q(), x=x(), num_samples=4, generator=gen()
                ),
                dict(model="model", q="q", x="data", num_samples="count", **GEN),
            )
        CASES[f"elbo_value({name})"] = Case(
            vicourse.elbo_value,
            lambda factory=factory, x=x: dict(
                model=factory(), q=q(), x=x(), num_samples=8, generator=gen()
            ),
            dict(model="model", q="q", x="data", num_samples="count", **GEN),
        )
        CASES[f"naive_log_marginal({name})"] = Case(
            vicourse.naive_log_marginal,
            lambda factory=factory, x=x: dict(
                model=factory(), x=x(), num_samples=4, generator=gen()
            ),
            dict(model="model", x="data", num_samples="count", **GEN),
        )
        CASES[f"{name}.elbo_exact"] = Case(
            method(factory, "elbo_exact"), lambda x=x: dict(q=q(), x=x()), dict(q="q", x="data")
        )
CASES["GaussianMean.naive_relative_variance"] = Case(
    method(conjugate, "naive_relative_variance"), lambda: dict(x=x2()), dict(x="data")
)
CASES["LinearGaussian.best_diagonal_q"] = Case(
    method(linear, "best_diagonal_q"), lambda: dict(x=x3()), dict(x="data")
)
CASES["GaussianMixture.component_log_joint"] = Case(
    method(mixture, "component_log_joint"), lambda: dict(x=x1()), dict(x="data")
)

CASES["log_mean_exp"] = Case(
    vicourse.log_mean_exp, lambda: dict(log_w=-torch.ones(4, 3, dtype=DTYPE)), dict(log_w="data")
)
CASES["iwae"] = Case(
    vicourse.iwae, lambda: dict(log_w=-torch.ones(4, 3, dtype=DTYPE)), dict(log_w="data")
)
CASES["pathwise"] = Case(
    vicourse.pathwise,
    lambda: dict(q=q(), f=lambda z: z.square().sum(-1), num_samples=4, generator=gen()),
    dict(q="any_q", f="callable", num_samples="count", **GEN),
)
CASES["score_function"] = Case(
    vicourse.score_function,
    lambda: dict(
        q=q(),
        f=lambda z: z.square().sum(-1),
        num_samples=4,
        baseline="leave-one-out",
        generator=gen(),
    ),
    dict(q="any_q", f="callable", num_samples="count", baseline="baseline", **GEN),
)
CASES["elbo_score_function(baseline)"] = Case(
    vicourse.elbo_score_function,
    lambda: dict(model=conjugate(), q=q(), x=x2(), num_samples=4, baseline=0.5, generator=gen()),
    dict(baseline="baseline"),
)
CASES["fit_local"] = Case(
    vicourse.fit_local,
    lambda: dict(
        model=linear(),
        x=x3(),
        num_steps=2,
        num_samples=2,
        lr=0.05,
        estimator=vicourse.elbo_pathwise,
        init=q(),
        fit_model=True,
        generator=gen(),
    ),
    dict(
        model="model",
        x="data",
        num_steps="count",
        num_samples="count",
        lr="positive",
        estimator="estimator_fn",
        init="optional_q",
        fit_model="flag",
        **GEN,
    ),
)
CASES["fit_local(mixture)"] = Case(
    vicourse.fit_local,
    lambda: dict(
        model=mixture(),
        x=x1(),
        num_steps=2,
        estimator=vicourse.elbo_score_function,
        init=categorical(),
        generator=gen(),
    ),
    dict(init="optional_categorical", estimator="estimator_fn"),
)
CASES["GaussianEncoder"] = Case(
    vicourse.GaussianEncoder,
    lambda: dict(data_dim=3, latent_dim=2, hidden=(4,), shared_scale=True),
    dict(data_dim="count", latent_dim="count", hidden="widths", shared_scale="flag"),
)
CASES["GaussianEncoder(input)"] = Case(
    vicourse.GaussianEncoder,
    lambda: dict(data_dim=3, latent_dim=2, input_loc=torch.zeros(3), input_scale=torch.ones(3)),
    dict(input_loc="optional_data", input_scale="optional_data"),
)
CASES["GaussianEncoder(full)"] = Case(
    vicourse.GaussianEncoder,
    lambda: dict(data_dim=3, latent_dim=2, hidden=(4,), covariance="full"),
    dict(covariance="choice"),
)
CASES["GaussianEncoder(full).forward"] = Case(
    method(lambda: vicourse.GaussianEncoder(3, 2, covariance="full").to(DTYPE), "forward"),
    lambda: dict(x=x3()),
    dict(x="data"),
)
CASES["GaussianEncoder(flow)"] = Case(
    vicourse.GaussianEncoder,
    lambda: dict(data_dim=3, latent_dim=2, hidden=(4,), flow_layers=2),
    dict(flow_layers="count_or_zero"),
)
CASES["GaussianEncoder(flow).forward"] = Case(
    method(lambda: vicourse.GaussianEncoder(3, 2, flow_layers=2).to(DTYPE), "forward"),
    lambda: dict(x=x3()),
    dict(x="data"),
)
CASES["GaussianEncoder.for_data"] = Case(
    vicourse.GaussianEncoder.for_data,
    lambda: dict(x=x3(), latent_dim=2, hidden=(4,), shared_scale=True),
    dict(x="data", latent_dim="count", hidden="widths", shared_scale="flag"),
)
CASES["gradient_samples"] = Case(
    gradient_samples,
    lambda: dict(
        estimator=vicourse.score_function,
        loc=1.0,
        scale=0.5,
        f=lambda z: z.square().sum(-1),
        num_samples=2,
        num_trials=8,
        baseline="leave-one-out",
        generator=gen(),
    ),
    dict(
        estimator="estimator_fn",
        loc="real",
        scale="positive",
        f="callable",
        num_samples="count",
        num_trials="count",
        baseline="baseline",
        **GEN,
    ),
)
CASES["plots.show_images"] = Case(
    plots.show_images,
    lambda: dict(images=torch.rand(5, 4, dtype=DTYPE), shape=(2, 2), ncols=3),
    dict(images="data", ncols="count"),
)
CASES["plots.plot_gradient_spread"] = Case(
    plots.plot_gradient_spread,
    lambda: dict(samples={"a": torch.randn(50, dtype=DTYPE)}, exact=0.5),
    dict(samples="samples", exact="real"),
)
CASES["GaussianEncoder.forward"] = Case(
    method(encoder, "forward"), lambda: dict(x=x3()), dict(x="data")
)
CASES["fit_amortized"] = Case(
    vicourse.fit_amortized,
    lambda: dict(
        model=linear(),
        encoder=encoder(),
        x=x3(),
        num_steps=2,
        batch_size=2,
        num_samples=2,
        lr=0.01,
        estimator=vicourse.elbo_score_function,
        fit_model=True,
        generator=gen(),
    ),
    dict(
        model="model",
        encoder="encoder",
        x="data",
        num_steps="count",
        batch_size="optional_count",
        num_samples="count",
        lr="positive",
        estimator="estimator_fn",
        fit_model="flag",
        **GEN,
    ),
)
CASES["amortization_gap"] = Case(
    vicourse.amortization_gap,
    lambda: dict(model=linear(), encoder=encoder(), x=x3(), num_steps=2, lr=0.05, generator=gen()),
    dict(model="model", encoder="encoder", x="data", num_steps="count", lr="positive", **GEN),
)
CASES["gaps"] = Case(  # amortization_gap's arguments, and the IWAE_k estimate's
    vicourse.gaps,
    lambda: {
        **CASES["amortization_gap"].valid(),
        "elbo_samples": 8,
        "iwae_samples": 4,
        "batch_size": 2,
        "check_steps": 0,  # two steps do not converge: the default test warns
    },
    {
        **CASES["amortization_gap"].hand_kinds,
        "elbo_samples": "count",
        "iwae_samples": "count",
        "batch_size": "count",
        "check_steps": "count_or_zero",
    },
)
CASES["iwae_curve"] = Case(
    vicourse.iwae_curve,
    lambda: dict(model=linear(), q=q(), x=x3(), ks=[1, 4], batch_size=2, generator=gen()),
    dict(model="model", q="q", x="data", ks="counts", batch_size="count", **GEN),
)


def vae():
    torch.manual_seed(0)
    return vicourse.VAE(4, 2, hidden=(3,)).to(DTYPE)


def images(n=3):
    return (torch.arange(4 * n, dtype=DTYPE).reshape(n, 4) % 2).contiguous()


CASES["VAE"] = Case(
    vicourse.VAE,
    lambda: dict(data_dim=4, latent_dim=2, hidden=(3,), activation="relu"),
    dict(data_dim="count", latent_dim="count", hidden="widths", activation="activation"),
)
CASES["VAE(full)"] = Case(
    vicourse.VAE,
    lambda: dict(data_dim=4, latent_dim=2, hidden=(3,), covariance="full"),
    dict(covariance="choice"),
)
CASES["VAE.for_data"] = Case(
    vicourse.VAE.for_data,
    lambda: dict(x=images(), latent_dim=2, hidden=(3,)),
    dict(x="data", latent_dim="count", hidden="widths"),
)
for name in ("loss", "elbo", "terms"):
    CASES[f"VAE.{name}"] = Case(
        method(vae, name),
        lambda: dict(x=images(), num_samples=2, generator=gen()),
        dict(x="data", num_samples="count", **GEN),
    )
CASES["VAE.loss(kl_weight)"] = Case(
    method(vae, "loss"), lambda: dict(x=images(), kl_weight=0.5), dict(kl_weight="real")
)
CASES["VAE.loss(free_bits)"] = Case(
    method(vae, "loss"), lambda: dict(x=images(), free_bits=0.5), dict(free_bits="real")
)
CASES["VAE.unit_activity"] = Case(
    method(vae, "unit_activity"), lambda: dict(x=images()), dict(x="data")
)
CASES["gradient_snr"] = Case(
    vicourse.gradient_snr,
    lambda: dict(model=vae(), x=images(), num_samples=2, num_estimates=3, generator=gen()),
    dict(model="vae_model", x="data", num_samples="count", num_estimates="count", **GEN),
)
CASES["VAE.elbo(kl)"] = Case(
    method(vae, "elbo"), lambda: dict(x=images(), kl="mc"), dict(kl="choice")
)
CASES["VAE.loss(objective)"] = Case(
    method(vae, "loss"), lambda: dict(x=images(), objective="iwae"), dict(objective="choice")
)
CASES["VAE.iwae"] = Case(
    method(vae, "iwae"),
    lambda: dict(x=images(), num_samples=5, batch_size=2, generator=gen()),
    dict(x="data", num_samples="count", batch_size="count", **GEN),
)
CASES["VAE.mean_image"] = Case(
    method(vae, "mean_image"), lambda: dict(z=torch.zeros(3, 2, dtype=DTYPE)), dict(z="data")
)
CASES["train"] = Case(
    vicourse.train,
    lambda: dict(
        model=vae(),
        x_train=images(6),
        epochs=1,
        batch_size=2,
        lr=1e-3,
        num_samples=1,
        objective="elbo",
        kl_warmup=2,
        free_bits=0.1,
        x_test=images(),
        generator=gen(),
        progress=False,
        graph=None,
    ),
    dict(
        model="vae_model",
        x_train="data",
        epochs="count",
        batch_size="count",
        lr="positive",
        num_samples="count",
        objective="choice",
        kl_warmup="count_or_zero",
        free_bits="real",
        x_test="optional_data",
        generator="generator",
        progress="flag",
        graph="optional_flag",
    ),
)
CASES["load_images"] = Case(
    vicourse.load_images,
    lambda: dict(name="digits", device="cpu", dtype=torch.float32),
    dict(name="choice", device="device", dtype="dtype"),
)
CASES["Categorical"] = Case(
    vicourse.Categorical, lambda: dict(logits=torch.zeros(3, 3, dtype=DTYPE)), dict(logits="data")
)
CASES["Categorical.from_probs"] = Case(
    vicourse.Categorical.from_probs,
    # zeros too: their log must stay finite in float32 as well
    lambda: dict(probs=torch.tensor([[0, 0.25, 0.75], [1, 0, 0], [0.5, 0, 0.5]], dtype=DTYPE)),
    dict(probs="data"),
)
CASES["Categorical.sample"] = Case(
    method(categorical, "sample"),
    lambda: dict(num_samples=4, generator=gen()),
    dict(num_samples="count", **GEN),
)
CASES["Categorical.log_prob"] = Case(
    method(categorical, "log_prob"),
    lambda: dict(z=torch.zeros(4, 3, dtype=torch.long)),
    dict(z="labels"),
)
CASES["GaussianMixture.elbo_exact"] = Case(
    method(mixture, "elbo_exact"),
    lambda: dict(q=categorical(), x=x1()),
    dict(q="categorical", x="data"),
)


def _kl_normal(mu_q, sigma_q, mu_p, sigma_p):  # a right answer, in torch's operations
    return (sigma_p / sigma_q).log() + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


for _name in ("check", "verify"):  # the learner's function: any callable is a fair answer
    CASES[f"exercises.{_name}"] = Case(
        getattr(vicourse.exercises, _name),
        lambda: dict(name="kl_normal", fn=_kl_normal),
        dict(name="choice", fn="learner_fn"),
    )


CASES["exercises.verify_unseen"] = Case(  # inputs drawn from a seed, a trusted reference
    vicourse.exercises.verify_unseen,
    lambda: dict(name="kl_normal", fn=_kl_normal, reference=_kl_normal, seed=0),
)


# The rest of the API: each public callable with arguments is the target of a Case, or is listed
# in NO_VALID_CALL (test_every_public_callable_with_arguments_has_a_case).
def flow():
    return vicourse.PlanarFlow.from_diagonal(q(), 2)


def relaxed():
    return vicourse.RelaxedCategorical(categorical().logits, 0.5)


def decoder():
    torch.manual_seed(0)
    return vicourse.BernoulliDecoder(2, 4, hidden=(3,)).to(DTYPE)


def full_q():
    tril = torch.tensor([[0.1, 0.0], [0.4, -0.2]], dtype=DTYPE).repeat(3, 1, 1)
    return vicourse.FullGaussian(x2(), tril)


for name, factory in [
    ("GaussianMean", conjugate),
    ("LinearGaussian", linear),
    ("GaussianMixture", mixture),  # Mixture.prior
    ("VAE", vae),
]:
    CASES[f"{name}.prior"] = Case(method(factory, "prior"), lambda: dict(n=3))
CASES["VAE.log_prior"] = Case(  # LatentModel.log_prior
    method(vae, "log_prior"), lambda: dict(z=torch.zeros(4, 3, 2, dtype=DTYPE))
)
CASES["VAE.log_likelihood"] = Case(
    method(vae, "log_likelihood"),
    lambda: dict(x=images(), z=torch.linspace(-1, 1, 24, dtype=DTYPE).reshape(4, 3, 2)),
)
CASES["VAE.sample_likelihood"] = Case(
    method(vae, "sample_likelihood"),
    lambda: dict(z=torch.linspace(-1, 1, 6, dtype=DTYPE).reshape(3, 2), generator=gen()),
)
CASES["BernoulliDecoder"] = Case(
    vicourse.BernoulliDecoder,
    lambda: dict(latent_dim=2, data_dim=4, hidden=(3,), activation="relu"),
)
CASES["BernoulliDecoder.forward"] = Case(
    method(decoder, "forward"), lambda: dict(z=torch.linspace(-1, 1, 6, dtype=DTYPE).reshape(3, 2))
)
for name in ("component_log_likelihood", "component_log_joint"):
    CASES[f"BernoulliMixture.{name}"] = Case(
        method(bernoulli_mixture, name), lambda: dict(x=binary())
    )
CASES["FullGaussian().rsample"] = Case(
    method(full_q, "rsample"), lambda: dict(num_samples=4, generator=gen())
)
for name in ("rsample", "sample"):
    CASES[f"PlanarFlow().{name}"] = Case(
        method(flow, name), lambda: dict(num_samples=4, generator=gen())
    )
CASES["PlanarFlow().layer"] = Case(
    method(flow, "layer"),
    lambda: dict(
        z=torch.linspace(-1, 1, 24, dtype=DTYPE).reshape(4, 3, 2),
        index=1,
        u_hat=flow().u_hat().detach(),  # the same for every flow() made
    ),
)
for name in ("gumbel", "sample"):
    CASES[f"RelaxedCategorical().{name}"] = Case(
        method(relaxed, name), lambda: dict(num_samples=4, generator=gen())
    )
CASES["RelaxedCategorical().relax"] = Case(
    method(relaxed, "relax"), lambda: dict(gumbel=relaxed().gumbel(4, generator=gen()))
)
CASES["default_estimator"] = Case(vicourse.default_estimator, lambda: dict(q=q()))
CASES["kl_full_to_standard_normal"] = Case(
    vicourse.kl_full_to_standard_normal, lambda: dict(q=full_q())
)
CASES["validation_enabled"] = Case(vicourse.validation_enabled, lambda: dict(enabled=False))


def enable_validation(**kwargs):
    """The switch is global to the process: whatever the call did, checks are on again after."""
    try:
        return vicourse.enable_validation(**kwargs)
    finally:
        vicourse.enable_validation(True)


enable_validation.target = lambda: vicourse.enable_validation
CASES["enable_validation"] = Case(enable_validation, lambda: dict(enabled=False))


def verify_number(**kwargs):
    """verify_number's verdict: True, or False where it raised ExerciseFailed (a number out of
    tolerance is a wrong answer, not a wrong argument)."""
    try:
        vicourse.exercises.verify_number(**kwargs)
    except vicourse.exercises.ExerciseFailed:
        return False
    return True


verify_number.target = lambda: vicourse.exercises.verify_number
CASES["exercises.verify_number"] = Case(
    verify_number, lambda: dict(name="the gap", value=0.52, expected=0.5, tolerance=0.05)
)

# Public callables with arguments but no valid call to sweep: listed, so the test above knows.
NO_VALID_CALL = {
    # always refuses, with the project's message: a straight-through draw has no density
    "StraightThroughCategorical.log_prob",
    # rsample of a family without one (Categorical): always refuses, with the project's message
    "Family.rsample",
    # q.to(*args, **kwargs): declared "unchecked" (torch's Tensor.to tries them): nothing to feed
    "Family.to",
}

OPTIONAL = {
    "generator",
    "optional_flag",
    "optional_device",
    "optional_data",
    "optional_q",
    "optional_categorical",
    "optional_count",
    "baseline",
    "estimator_fn",
}  # kinds for which None is a valid value


def malformations(kind: str, value) -> list[tuple[str, object, bool]]:
    """(description, malformed value, must it raise?) for one argument of `kind`."""
    if kind == "unchecked":  # declared as taking any value
        return []
    if kind == "labels" and value.is_floating_point():  # relaxed points where labels also do
        kind = "data"
    if kind in ("q", "optional_q") and isinstance(value, vicourse.Categorical):
        kind = kind.replace("q", "categorical")
    cases = [
        ("None", None, kind not in OPTIONAL),
        ("a string", "text", True),
        ("an object", object(), True),
    ]
    if kind in ("data", "optional_data"):
        t = value
        cases += [
            ("a list", t.tolist(), True),
            ("a numpy array", t.numpy(), True),
            ("int64", t.long(), True),
            ("bool", t > 0, True),
            ("on the meta device", t.to("meta"), True),
            ("float32", t.float(), False),
            ("float16", t.half(), False),
            ("a trailing axis", t[..., None], False),
            ("one dimension less", t[..., 0], False),
            ("a column more", torch.cat([t, t[..., :1]], -1), False),
            ("no rows", t[:0], False),
            ("transposed", t.mT if t.ndim >= 2 else t, False),
            ("huge values", t + 1e200, False),
            ("tiny values", t * 1e-300, False),
            ("negated", -t, False),
        ]
        cases += [
            (f"{bad} at [{{i}}]", ("inject", bad), True) for bad in (math.nan, math.inf, -math.inf)
        ]
    elif kind == "labels":
        cases += [
            ("label -1", ("label", -1), True),
            ("label C", ("label", 3), True),
            ("float labels", value.double(), True),
            ("a list", value.tolist(), True),
            ("one dimension less", value[0], False),
            ("a trailing axis", value[..., None], False),
        ]
    elif kind == "count":
        cases += [
            ("0", 0, True),
            ("-1", -1, True),
            ("1.5", 1.5, True),
            ("True", True, True),
            ("'3'", "3", True),
            ("2.0", 2.0, True),
            ("numpy int", np.int64(2), False),
            ("2**40", 2**40, True),
        ]
    elif kind == "count_or_zero":  # a count where 0 means "none"
        cases += [
            ("-1", -1, True),
            ("1.5", 1.5, True),
            ("True", True, True),
            ("'3'", "3", True),
            ("0", 0, False),
        ]
    elif kind == "counts":
        cases += [
            ("[]", [], True),
            ("4", 4, True),
            ("[0]", [0], True),
            ("[1, -2]", [1, -2], True),
            ("[1.5]", [1.5], True),
            ("'14'", "14", True),
            ("(1, 4)", (1, 4), False),
        ]
    elif kind == "seed":
        cases += [
            ("-1", -1, True),
            ("1.5", 1.5, True),
            ("True", True, True),
            ("'3'", "3", True),
            ("2**32", 2**32, True),
            ("numpy int", np.int64(2), False),
        ]
    elif kind == "positive":
        cases += [
            ("0", 0.0, True),
            ("-1", -1.0, True),
            ("nan", math.nan, True),
            ("inf", math.inf, True),
            ("True", True, True),
            ("'1'", "1", True),
            ("a vector", torch.tensor([1.0, 2.0]), True),
            ("1e39", 1e39, False),
            ("1e-46", 1e-46, False),
            ("1e-300", 1e-300, False),
            ("1e300", 1e300, False),
        ]
    elif kind == "real":
        cases += [
            ("nan", math.nan, True),
            ("inf", math.inf, True),
            ("-inf", -math.inf, True),
            ("True", True, True),
            ("'0'", "0", True),
            ("1e300", 1e300, False),
            ("a vector", torch.tensor([1.0, 2.0]), True),
        ]
    elif kind == "generator":
        cases += [("0", 0, True), ("a numpy generator", np.random.default_rng(0), True)]
    elif kind in ("categorical", "optional_categorical"):
        cases += [
            ("a DiagonalGaussian", q(), True),
            ("two categories more", categorical(3, 5), True),
            ("one row more", categorical(4, 3), True),
            ("float32", value.to(torch.float32), False),
        ]
    elif kind == "samples":
        cases += [
            ("an empty dict", {}, True),
            ("a tensor", torch.zeros(3), True),
            ("nan inside", {"a": torch.tensor([0.0, math.nan])}, True),
            ("a 2-D tensor inside", {"a": torch.zeros(2, 2)}, True),
        ]
    elif kind == "choice":
        cases += [("'nonsense'", "nonsense", True), ("1", 1, True)]
    elif kind == "activation":
        cases += [("'sigmoid'", "sigmoid", True), ("torch.nn.ReLU", torch.nn.ReLU, True)]
    elif kind == "optional_flag":
        cases += [("1", 1, True), ("'yes'", "yes", True), ("True off CUDA", True, True)]
    elif kind == "vae_model":
        cases += [
            ("the conjugate model", conjugate(), True),
            ("a tensor", torch.zeros(2), True),
            ("a VAE of other width", vicourse.VAE(5, 2, hidden=(3,)).to(DTYPE), True),
        ]
    elif kind == "estimator_fn":  # estimators are passed as functions, never by name
        cases += [("'pathwise'", "pathwise", True), ("'score'", "score", True)]
    elif kind == "baseline":
        cases += [
            ("'mean'", "mean", True),
            ("nan", math.nan, True),
            ("True", True, True),
            ("a (5,) tensor", torch.zeros(5, dtype=DTYPE), True),
            ("a (3,) tensor", torch.zeros(3, dtype=DTYPE), False),
            ("2.0", 2.0, False),
        ]
    elif kind == "widths":
        cases += [
            ("64", 64, True),
            ("(0,)", (0,), True),
            ("(-1,)", (-1,), True),
            ("(True,)", (True,), True),
            ("('a',)", ("a",), True),
            ("()", (), False),
        ]
    elif kind == "optional_count":
        cases += [
            ("0", 0, True),
            ("-1", -1, True),
            ("1.5", 1.5, True),
            ("True", True, True),
            ("a huge batch", 10**6, False),
        ]
    elif kind == "encoder":
        cases += [
            ("a tensor", torch.zeros(2), True),
            ("the wrong widths", vicourse.GaussianEncoder(2, 2).to(DTYPE), True),
            ("float32", vicourse.GaussianEncoder(3, 2), True),
            ("a torch Linear", torch.nn.Linear(3, 4), True),
        ]
    elif kind == "any_q":  # a generic estimator takes any q that f accepts
        cases += [
            ("a torch Normal", torch.distributions.Normal(0.0, 1.0), True),
            ("a tensor", torch.zeros(3, 2, dtype=DTYPE), True),
            ("two rows more", q(5, 2), False),
            ("a Categorical", categorical(), False),
        ]
    elif kind in ("q", "optional_q"):
        cases += [
            ("a torch Normal", torch.distributions.Normal(0.0, 1.0), True),
            ("a tensor", torch.zeros(3, 2, dtype=DTYPE), True),
            ("one latent dimension more", q(value.loc.shape[0], value.latent_dim + 1), True),
            ("two rows more", q(value.loc.shape[0] + 2, value.latent_dim), True),
            ("float32", value.to(torch.float32), False),
        ]
    elif kind == "model":
        cases += [
            ("a tensor", torch.zeros(2), True),
            ("the conjugate model", conjugate(), False),
            ("the linear model", linear(), False),
            ("the mixture", mixture(), False),
        ]
    elif kind == "dtype":
        cases += [
            ("int64", torch.int64, True),
            ("'float32'", "float32", True),
            ("numpy float64", np.float64, True),
            ("float16", torch.float16, False),
        ]
    elif kind in ("device", "optional_device"):
        cases += [
            ("'gpu'", "gpu", True),
            ("3", 3, True),
            ("'meta'", "meta", True),
            ("a missing cuda", "cuda:9", True),
        ]
    elif kind == "flag":
        cases += [("1", 1, True), ("'yes'", "yes", True)]
    elif kind == "animation":
        cases += [("a figure", plt.figure(), True)]
    elif kind == "function":
        cases += [("3", 3, True)]
    elif kind == "learner_fn":
        cases += [("3", 3, True), ("a tensor", torch.zeros(3), True)]
    elif kind == "callable":
        cases += [
            ("3", 3, True),
            ("identity", lambda z: z, True),
            ("nan everywhere", lambda z: z.sum(-1) * math.nan, True),
        ]
    elif kind == "mvn":
        cases += [
            ("a DiagonalGaussian", q(), True),
            (
                "a 3-D posterior",
                torch.distributions.MultivariateNormal(
                    torch.zeros(1, 3, dtype=DTYPE), torch.eye(3, dtype=DTYPE)
                ),
                True,
            ),
        ]
    elif kind == "pair":
        cases += [
            ("reversed", (3.0, -3.0), True),
            ("one number", (0.0,), True),
            ("nan", (math.nan, 1.0), True),
            ("a string", "ab", True),
        ]
    elif kind == "sequence":
        cases += [("empty", [], True), ("one item", [0.0], True), ("nan", [math.nan, 0.0], True)]
    return cases


def injection(spec) -> bool:
    return isinstance(spec, tuple) and len(spec) == 2 and spec[0] in ("inject", "label")


def materialize(spec, value, data) -> tuple[object, str]:
    """Turn ("inject", bad) and ("label", c) into a tensor with that entry at a drawn position."""
    if injection(spec):
        out = value.clone()
        if out.numel() == 0:
            return out, ""
        i = data.draw(st.integers(0, out.numel() - 1), label="position")
        out.view(-1)[i] = spec[1]
        return out, str(i)
    return spec, ""


def tensors(result):
    if isinstance(result, torch.Tensor):
        yield result
    elif isinstance(result, tuple | list):
        for item in result:
            yield from tensors(item)
    elif isinstance(result, DiagonalGaussian):
        yield from (result.loc, result.log_scale)
    elif isinstance(result, torch.distributions.MultivariateNormal):
        yield from (result.loc, result.covariance_matrix)
    elif isinstance(result, torch.nn.Module):
        yield from (*result.parameters(), *result.buffers())
    elif isinstance(result, dict):
        yield from (torch.tensor(v) for v in result.values() if isinstance(v, float))


def check(name: str, kwargs: dict, what: str, must_raise: bool) -> str | None:
    """Call CASES[name] with `kwargs`; return what went wrong, or None."""
    try:
        result = CASES[name].call(**kwargs)
    except (ArgumentError, RuntimeWarning) as error:  # a search that did not converge warns
        if not MESSAGE.match(str(error)):
            return f"{what}: message not in the project's form: {error}"
        return None
    except Exception as error:  # the point: nothing else may escape
        return f"{what} raised a raw {type(error).__name__}: {error}"
    finally:
        plt.close("all")
    if must_raise:
        return f"{what} was accepted; it can never be valid"
    if any(torch.isnan(t).any() for t in tensors(result)):
        return f"{what} returned nan"
    return None


SWEEP = dict(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
QUIET = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@QUIET
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_malformation_of_every_argument(name, monkeypatch):
    """Each listed malformation of each argument once (nan and inf at the first and last entry)."""
    monkeypatch.delenv("VICOURSE_DEVICE", raising=False)
    problems, tried = [], 0
    for argument, kind in CASES[name].kinds.items():
        for label, spec, must_raise in malformations(kind, CASES[name].valid()[argument]):
            for end in (0, -1) if injection(spec) else (None,):
                kwargs = CASES[name].valid()
                if end is not None and kwargs[argument].numel():
                    kwargs[argument] = kwargs[argument].clone()
                    kwargs[argument].view(-1)[end] = spec[1]
                    where = str(end)
                else:
                    kwargs[argument], where = spec, ""
                what = f"{name}({argument}={label.format(i=where)})"
                problems.append(check(name, kwargs, what, must_raise))
                tried += 1
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} of {tried} cases:\n" + "\n".join(problems)


@QUIET
@pytest.mark.parametrize("name", sorted(CASES))
@settings(**SWEEP)
@given(data=st.data())
def test_malformed_argument_gets_a_result_without_nan_or_the_projects_error(
    name, data, monkeypatch
):
    """Hypothesis draws the argument, the malformation and where nan or inf goes."""
    monkeypatch.delenv("VICOURSE_DEVICE", raising=False)
    case = CASES[name]
    kwargs = case.valid()
    argument = data.draw(st.sampled_from(sorted(case.kinds)), label="argument")
    options = malformations(case.kinds[argument], kwargs[argument])
    label, spec, must_raise = data.draw(st.sampled_from(options), label="malformation")
    kwargs[argument], where = materialize(spec, kwargs[argument], data)
    problem = check(name, kwargs, f"{name}({argument}={label.format(i=where)})", must_raise)
    assert problem is None, problem


@QUIET
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_valid_case_works_in_float32(name, monkeypatch):
    """The valid arguments with every tensor, q, model and network in float32 instead of float64
    give a result whose values are all finite (no nan, no inf), and no error."""
    monkeypatch.delenv("VICOURSE_DEVICE", raising=False)
    monkeypatch.setattr(sys.modules[__name__], "DTYPE", torch.float32)
    try:
        result = CASES[name].call(**CASES[name].valid())
    finally:
        plt.close("all")
    for t in tensors(result):
        assert not t.is_floating_point() or torch.isfinite(t).all(), f"{name} gave {t}"


def unwrapped(fn):
    """The function behind a callable, as Case.kinds finds it: a class's __init__, a bound or
    class method's __func__, and whatever @validated and torch.no_grad wrap."""
    fn = fn.__init__ if isinstance(fn, type) else fn
    return inspect.unwrap(getattr(fn, "__func__", fn))


def test_every_public_callable_with_arguments_has_a_case():
    """A public callable (tests/unit/test_specs.py enumerates them) that takes an argument is
    swept by some Case, or is listed in NO_VALID_CALL."""
    targets = set()
    for case in CASES.values():
        target = getattr(case.call, "target", None)
        targets.add(unwrapped(target() if target else case.call))
    assert NO_VALID_CALL <= set(CALLABLES), f"not public: {NO_VALID_CALL - set(CALLABLES)}"
    missing = []
    for name, fn in sorted(CALLABLES.items()):
        takes = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if takes and not abstract(fn) and name not in NO_VALID_CALL:
            if unwrapped(fn) not in targets:
                missing.append(name)
    assert not missing, f"no Case sweeps {missing}: add one to CASES, or to NO_VALID_CALL"


@QUIET
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_valid_case_under_no_grad(name, monkeypatch):
    """Gradients off (torch.no_grad()) around a valid call: the fits compute their own
    gradients, everything else works as before; never a raw autograd error."""
    monkeypatch.delenv("VICOURSE_DEVICE", raising=False)
    with torch.no_grad():
        problem = check(name, CASES[name].valid(), f"{name} under torch.no_grad()", False)
    assert problem is None, problem
