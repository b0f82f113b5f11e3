"""`python autograder.py [FOLDER]`: grade the chapter's notebook, alone in the working directory,
with the chapter's zip in FOLDER (by default this file's, as in a Classroom 50 bundle) as
Gradescope would, by gradescope.py beside this file; the points go to result.json (Classroom 50's
format) and the job's summary. Made by vicourse's .ci/assign.py."""

import os
import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
folder = Path(sys.argv[1]) if len(sys.argv) > 1 else here
zips = list(folder.glob("*.zip"))
if len(zips) != 1:
    sys.exit(f"{folder} holds {len(zips)} zips: put the chapter's autograder zip there, alone")
pip = [sys.executable, "-m", "pip", "install", "--quiet", "pyyaml", "psutil"]
if subprocess.run(pip).returncode != 0:
    sys.exit("could not install pyyaml and psutil, which grading needs (pip's message above)")
work = Path(os.environ.get("RUNNER_TEMP", folder)) / "grading"
command = [here / "gradescope.py", "--zip", zips[0], "--submissions", ".", "--work", work]
sys.exit(subprocess.run([sys.executable, *map(str, command), "--result", "result.json"]).returncode)
