# Sourced by build_site.sh, test.sh, lab.sh, assign.sh, release.sh and run, from the checkout's root: sets PYTHON,
# then installs what the book and the tests need into it. Which Python: $PYTHON when set; else
# python3 when an environment is active (venv, conda, Colab); else .venv/ in the checkout, made on
# first use and reused after, since a system Python may refuse `pip install` (PEP 668).

vicourse_fail() { printf '%s\n' "$*" >&2; exit 1; }
vicourse_python_set=${PYTHON:+1}
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || vicourse_fail "No $PYTHON found: install Python 3.11 or newer, or set PYTHON=/path/to/python."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    vicourse_fail "vicourse needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1). Install a newer one, then" \
        "activate an environment that has it or set PYTHON=/path/to/python."
# Active: an activated venv or conda, Colab, or a python3 that itself runs inside a venv.
if [ -z "$vicourse_python_set" ] && [ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}${COLAB_RELEASE_TAG:-}" ] &&
    ! "$PYTHON" -c 'import sys, importlib.util as u
sys.exit(sys.prefix == sys.base_prefix and not (u.find_spec("google") and u.find_spec("google.colab")))'; then
    echo "No Python environment is active: installing into .venv/ (activate it with: source .venv/bin/activate)"
    # a usable .venv/ has Python >= 3.11 and pip; where venv cannot bootstrap pip (Debian and Ubuntu
    # without python3-venv), it is made without pip and the system's pip installs pip into it
    if ! { .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null &&
        .venv/bin/python -m pip --version >/dev/null 2>&1; }; then
        "$PYTHON" -m venv --clear .venv >/dev/null 2>&1 || {
            "$PYTHON" -m venv --clear --without-pip .venv >/dev/null 2>&1 &&
                "$PYTHON" -m pip --python .venv/bin/python install --quiet --disable-pip-version-check pip
        } || {
            rm -rf .venv
            vicourse_fail "Could not make .venv/ with $PYTHON -m venv: this Python lacks venv's pip bootstrap" \
                "(ensurepip) and has no pip to fall back on. On Debian or Ubuntu, install it with: sudo apt-get" \
                "install python3-venv (or python3.X-venv for your version), then run this command again. Or" \
                "activate any environment with Python 3.11 or newer, or set PYTHON=/path/to/python."
        }
    fi
    PYTHON=.venv/bin/python
fi
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')  # absolute, so it still works after a cd

# VICOURSE_INSTALLED=<that python>: installed already, in this same run (.ci/run installs once, then builds
# and tests at the same time, and two pip runs at once would reinstall vicourse under each other).
if [ "${VICOURSE_INSTALLED:-}" != "$PYTHON" ]; then
    # torch first, pinned, and only when missing: an unpinned "torch" would pull a multi-GB CUDA build,
    # and an existing torch (Colab's, a CUDA build you installed) is never replaced.
    # VICOURSE_TORCH_INDEX names the index to take it from: the workflows in .github/ set
    # https://download.pytorch.org/whl/cpu, since PyPI's Linux torch is a CUDA build of several GB.
    # --no-compile: Python compiles each module the first time it is imported, so only what is used
    # gets compiled (torch alone installs in 8 s instead of 20).
    if ! "$PYTHON" -c "import torch" 2>/dev/null; then
        "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile \
            ${VICOURSE_TORCH_INDEX:+--index-url "$VICOURSE_TORCH_INDEX"} torch==2.13.0
    fi
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt -e .
fi
