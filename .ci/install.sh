# Sourced by build_site.sh, test.sh and lab.sh, from the checkout's root: sets PYTHON, then installs what the
# book and the tests need into it.
#
# Which Python: $PYTHON when set; else python3 when an environment is active (venv, conda, Colab); else
# .venv/ in the checkout, made on first use and reused after, since a system Python may refuse
# `pip install` (PEP 668). VICOURSE_PRINT_PYTHON=1 prints the choice and stops before installing.

vicourse_fail() { printf '%s\n' "$*" >&2; exit 1; }

# Active: an activated venv or conda, Colab, or a python3 that itself runs inside a venv.
vicourse_env_is_active() {
    [ -n "${VIRTUAL_ENV:-}" ] || [ -n "${CONDA_PREFIX:-}" ] || [ -n "${COLAB_RELEASE_TAG:-}" ] || "$1" - <<'EOF'
import importlib.util, sys
try:
    colab = importlib.util.find_spec("google.colab") is not None
except ImportError:
    colab = False
sys.exit(0 if colab or sys.prefix != sys.base_prefix else 1)
EOF
}

# A usable .venv/: Python >= 3.11 with pip.
vicourse_venv_works() {
    .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null &&
        .venv/bin/python -m pip --version >/dev/null 2>&1
}

# Make .venv/ with $1. Where venv cannot bootstrap pip (Debian and Ubuntu without python3-venv), make it
# without pip and let the system's pip install pip into it.
vicourse_make_venv() {
    "$1" -m venv --clear .venv >/dev/null 2>&1 && return
    "$1" -m venv --clear --without-pip .venv >/dev/null 2>&1 &&
        "$1" -m pip --python .venv/bin/python install --quiet --disable-pip-version-check pip && return
    rm -rf .venv
    vicourse_fail "Could not make .venv/ with $1 -m venv: this Python lacks venv's pip bootstrap (ensurepip)" \
        "and has no pip to fall back on. On Debian or Ubuntu, install it with: sudo apt-get install python3-venv" \
        "(or python3.X-venv for your version), then run this command again. Or activate any environment with" \
        "Python 3.11 or newer, or set PYTHON=/path/to/python."
}

vicourse_python_set=${PYTHON:+1}
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || vicourse_fail "No $PYTHON found: install Python 3.11 or newer, or set PYTHON=/path/to/python."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    vicourse_fail "vicourse needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1). Install a newer one, then" \
        "activate an environment that has it or set PYTHON=/path/to/python."
if [ -z "$vicourse_python_set" ] && ! vicourse_env_is_active "$PYTHON"; then
    echo "No Python environment is active: installing into .venv/ (activate it with: source .venv/bin/activate)"
    vicourse_venv_works || vicourse_make_venv "$PYTHON"
    PYTHON=.venv/bin/python
fi
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')  # absolute, so it still works after a cd
if [ -n "${VICOURSE_PRINT_PYTHON:-}" ]; then
    echo "$PYTHON"
    exit 0
fi

# VICOURSE_INSTALLED=<that python>: installed already, in this same run (.ci/run installs once, then builds
# and tests at the same time, and two pip runs at once would reinstall vicourse under each other).
if [ "${VICOURSE_INSTALLED:-}" != "$PYTHON" ]; then
    # torch first, pinned, and only when missing: an unpinned "torch" would pull a multi-GB CUDA build,
    # and an existing torch (Colab's, a CUDA build you installed) is never replaced.
    # VICOURSE_TORCH_INDEX names the index to take it from: the workflows in .github/ set
    # https://download.pytorch.org/whl/cpu, since PyPI's Linux torch is a CUDA build of several GB.
    if ! "$PYTHON" -c "import torch" 2>/dev/null; then
        "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile \
            ${VICOURSE_TORCH_INDEX:+--index-url "$VICOURSE_TORCH_INDEX"} torch==2.13.0
    fi
    # --no-compile: Python compiles each module the first time it is imported, so only what is used
    # gets compiled (torch alone installs in 8 s instead of 20).
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt -e .
fi
