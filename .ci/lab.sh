#!/usr/bin/env bash
# Run the chapters yourself: install what they need (as build_site.sh and test.sh do), add JupyterLab if it is
# missing, then start it in book/. Extra arguments go to jupyter lab, e.g. --no-browser --port 8899.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/install.sh
if ! "$PYTHON" -c "import jupyterlab" 2>/dev/null; then
    echo "Installing JupyterLab into the environment of $PYTHON"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check jupyterlab
fi
# Jupyter refuses to run as root without --allow-root; in a container, root is the usual user.
if [ "$(id -u)" -eq 0 ]; then
    set -- --allow-root "$@"
fi
cd book
exec "$PYTHON" -m jupyterlab "$@"
