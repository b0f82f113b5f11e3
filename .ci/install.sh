# Sourced by build_site.sh and test.sh: installs what the book and the tests need into the current Python.
# torch first, pinned, and only when missing: an unpinned "torch" would pull a multi-GB CUDA build, and an
# existing torch (Colab's, a CUDA build you installed) is never replaced.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    "$PYTHON" -m pip install --quiet torch==2.13.0
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
