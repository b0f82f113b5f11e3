#!/usr/bin/env bash
# Build the site: install what it needs, execute every chapter, build HTML with warnings as errors.
# --student builds the student edition instead (exercise solutions removed) into _build/student/.
set -euo pipefail
output=()
html=_build/html
if [ "${1:-}" = "--student" ]; then
    export VICOURSE_EDITION=student
    output=(--path-output _build/student)
    html=_build/student/_build/html
    shift
fi
cd "$(dirname "$0")/.."
source .ci/install.sh
# The full edition executes every chapter afresh into MyST-NB's cache (_config.yml), one per core
# with torch on one thread, by jupyter-cache's parallel executor; the build takes them from there,
# and so does the student edition, which removes solutions only after execution. A chapter that
# fails (or hangs past the per-cell timeout) is left out of the cache, and the build executes it
# again itself and reports it. VICOURSE_EXECUTION_CACHE=keep keeps the cache and executes only the
# chapters whose code it lacks: for a cache restored under a key of everything the executions
# depend on (.github/workflows/ci.yml), since the cache matches a chapter by its code alone.
# book/status.ipynb, which describes the build itself, is executed by every build (its metadata
# says execution_mode: force), so it is not executed here as well.
if [ -z "${output[*]}" ]; then
    [ "${VICOURSE_EXECUTION_CACHE:-}" = keep ] || rm -rf _build/.jupyter_cache
    OMP_NUM_THREADS=1 "$PYTHON" - <<'PY'
import json
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

config = yaml.safe_load(open("_config.yml"))["execute"]
cache = get_cache(config["cache"])
toc = yaml.safe_load(open("_toc.yml"))
chapters = [c["file"] for part in toc["parts"] for c in part["chapters"]]
for name in reversed(chapters):  # the later chapters train longer: started first
    path = Path(f"{name}.ipynb")
    # a notebook the build executes anyway (execution_mode: force, the status page) is left out
    mystnb = json.loads(path.read_text())["metadata"].get("mystnb", {}) if path.is_file() else None
    if mystnb is not None and mystnb.get("execution_mode") != "force":
        cache.add_nb_to_project(str(path))
load_executor("local-parallel", cache).run_and_cache(timeout=config["timeout"])
print("Executed (budget: 60 s per chapter on a 2-core CPU):")
for record in sorted(cache.list_cache_records(), key=lambda r: -r.data["execution_seconds"]):
    print(f"  {record.uri.split('/book/')[-1]}: {record.data['execution_seconds']:.1f} s")
PY
fi
log=$(mktemp)
status=0
"$PYTHON" -c "from jupyter_book.cli.main import main; main()" build . "${output[@]}" -W -n --keep-going 2>&1 | tee "$log" || status=$?
if grep -q "Executed notebook in" "$log"; then
    echo
    echo "Executed by the build itself:"
    grep -o "book/[0-9A-Za-z_]*\.ipynb: Executed notebook in [0-9.]* seconds" "$log" | sed 's/^/  /'
fi
rm -f "$log"
if [ "$status" -ne 0 ]; then
    echo "The site build failed (exit $status): see the warnings above." >&2
    exit "$status"
fi
echo "The site is at: $(pwd)/$html/index.html"
