"""The kinds of argument the public functions declare with `@validated` (_checks_spec.py).

Each kind is a `Kind(sweep_name, check)`; the check takes (argument name, value, the arguments
checked before it) and returns the value to use. The messages come from _checks*.py; a kind
only picks which check, and which other argument it is judged against ("model", "x", "q").

One table, in files of a few hundred lines by the modules that use them: general.py (numbers,
devices, models, data, draws, q, estimators), families.py, relaxed.py, richer.py (FullGaussian
and PlanarFlow), models.py, mle_kl.py, fitting.py (local VI, gaps, SNR), trainer.py,
networks.py (nets, amortized fits, the VAE), exercises.py (and runtime, data, the switch). A
module reads them as `from . import _checks_kinds as kinds; kinds.count`.
"""

from __future__ import annotations

from .._checks_spec import Kind, optional  # noqa: F401
from .exercises import (  # noqa: F401
    choice_of,
    folder,
    learner_fn,
    measured,
    nonnegative,
    seed,
    variable_name,
)
from .families import (  # noqa: F401
    categorical_logits,
    categorical_probs,
    diagonal_q,
    drawing,
    draws_of_q,
    gaussian_loc,
    gaussian_log_scale,
    gaussian_scale,
    labels_of_q,
    own_generator,
    to_arguments,
    unchecked,
)
from .fitting import (  # noqa: F401
    count_zero_or_default,
    differentiable_model,
    encoder_for,
    estimate_count,
    estimator,
    estimator_baseline,
    fit_data_for,
    fitted_q_for,
    sample_counts,
)
from .general import (  # noqa: F401
    baseline_for,
    callback,
    count,
    data_for,
    device,
    draws_count,
    draws_for,
    draws_of_values,
    dtype,
    family,
    flag,
    generator_for,
    instance,
    log_w,
    model,
    positive,
    q_for,
    real,
    scored_family,
)
from .mle_kl import (  # noqa: F401
    finite_parameters,
    fit_data,
    fitted_model,
    kl_family,
    log_p,
    p_like_q,
    responsibilities,
    standard_error_count,
)
from .models import (  # noqa: F401
    any_labels,
    bernoulli_logits,
    closed_form_q,
    image_logits,
    labels_for,
    labels_or_points,
    latent_for,
    linear_bias,
    linear_weight,
    mixture_loc,
    mixture_log_scale,
    mixture_logits,
    real_in,
    scale_in,
)
from .networks import (  # noqa: F401
    activation,
    covariance,
    decoder_input,
    encoder_input,
    flow_layers,
    free_bits,
    images_to_standardize,
    input_standardization,
    kl_weight,
    one_of,
    rows_to_standardize,
    vae_data,
    vae_images,
    vae_latent,
    widths,
)
from .relaxed import (  # noqa: F401
    check_points,
    gumbel_noise,
    relaxed_logits,
    relaxed_points,
    temperature,
)
from .richer import (  # noqa: F401
    flow,
    full_loc,
    full_scale_tril,
    full_tril,
    layer_index,
    u_hat,
)
from .trainer import (  # noqa: F401
    batch_for,
    checkpoint_path,
    cuda_graph_for,
    kl_warmup,
    train_free_bits,
)
