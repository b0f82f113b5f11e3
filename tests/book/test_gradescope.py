"""An autograder zip grades on its own, as Gradescope runs it: unpacked in /autograder's layout,
in a fresh environment built from the zip's own requirements (vicourse from the wheel inside the
zip, everything else from the package index), it gives the solution full marks, the untouched
student notebook zero and a notebook with one of its three autograded questions answered that
question's points, kept when a later cell defines the answer's name again, wrongly; `otter run
-a <zip>` in that environment gives the same; the vicourse installed there holds no solution;
and the GitHub Classroom template's commands, run as its workflow runs them on that notebook,
pass for the answered question and fail for the two others.
Chapter 7, whose two code exercises and experiment allow a partial score; .ci/release.sh checks
every chapter with .ci/gradescope.py.

An end-to-end test (otter assign, a fresh environment of about 2 GB from the package index,
five gradings: about three minutes): CI runs it in `bash .ci/run end-to-end`."""

import csv
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest
import yaml
from conftest import ROOT, load_tool

import vicourse

assign = load_tool("assign")
gradescope = load_tool("gradescope")
CHAPTER = "07_reparameterization"
ANSWERED = """def reparameterized_sample(mu, sigma, eps):
    return mu + sigma * eps


answer_7_2 = reparameterized_sample
"""
LATER = """def reparameterized_sample(mu, sigma, eps):
    return mu  # a later cell, wrong
"""
POINTS = {"ex7_2": 2.0, "ex7_3": 3.0, "ex7_4": 2.0}  # the autograded questions' points


# one module-scoped environment: its tests stay on one worker when the tests run in parallel
pytestmark = [pytest.mark.end_to_end, pytest.mark.xdist_group("gradescope")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pytest.importorskip("otter", reason="otter-grader is not installed (requirements.txt)")
    folder = tmp_path_factory.mktemp("gradescope")
    out = folder / "coursework"
    # the solution is graded below, so otter's own run of the tests is left out
    assert assign.main(["--out", str(out), "--chapters", CHAPTER[:2], "--no-run-tests"]) == 0
    zip_path = out / "autograder" / f"{CHAPTER}.zip"
    student = out / "student" / f"{CHAPTER}.ipynb"
    nb = nbformat.read(student, as_version=4)
    (stub,) = [c for c in nb.cells if c.source.startswith("def reparameterized_sample(")]
    stub_source = stub.source
    stub.source = ANSWERED
    nb.cells.append(nbformat.v4.new_code_cell(LATER))  # the grader grades answer_7_2
    partial = folder / "partial" / student.name
    partial.parent.mkdir()
    nbformat.write(nb, partial)
    submissions = folder / "submissions"  # a class of three, graded as one folder
    submissions.mkdir()
    for who, path in [
        ("solution", out / CHAPTER / "autograder" / f"{CHAPTER}.ipynb"),
        ("student", student),
        ("partial", partial),
    ]:
        shutil.copy2(path, submissions / f"{who}.ipynb")
    rows, python = gradescope.grade_folder(zip_path, submissions, folder / "gradescope")
    scores = {row.pop("notebook").removesuffix(".ipynb"): row for row in rows}
    with open(submissions / "scores.csv") as f:
        table = list(csv.DictReader(f))
    run_out = folder / "otter-run"

    def fresh_output():
        shutil.rmtree(run_out, ignore_errors=True)
        run_out.mkdir()

    command = ["-m", "otter", "run", "-a", zip_path, "-o", run_out, partial, "--no-logo"]
    status, output = gradescope.run_patiently(  # a run that hangs is killed and run again
        [str(python), *map(str, command)],
        folder,
        gradescope.activated(python),
        label="otter run",
        prepare=fresh_output,
    )
    assert status == 0, output[-3000:]
    otter_run = gradescope.scores(run_out / "results.json")
    where = subprocess.run(
        [python, "-c", "import vicourse; print(vicourse.__file__, vicourse.__version__)"],
        cwd=folder,  # not the checkout, whose vicourse/ would come first
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    scan = subprocess.run(  # every function of the installed vicourse, tried on every exercise
        [python, ROOT / ".ci" / "expected.py", "--scan"], cwd=folder, capture_output=True, text=True
    )
    # the GitHub Classroom template's commands, run as its workflow runs them
    template = out / "classroom" / CHAPTER
    workflow = yaml.safe_load((template / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    runner_temp = folder / "runner"
    (runner_temp / "grading").mkdir(parents=True)  # the environment built above, reused
    (runner_temp / "grading" / "envs").symlink_to(folder / "gradescope" / "envs")
    # a bare Python 3.11 first on PATH as `python`, as actions/setup-python leaves it
    runner_python = folder / "runner-python"
    subprocess.run(
        [getattr(sys, "_base_executable", sys.executable), "-m", "venv", runner_python],
        check=True,
    )
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp)}
    env["PATH"] = f"{runner_python / 'bin'}{os.pathsep}{env['PATH']}"
    env.pop("VIRTUAL_ENV", None)
    repo = folder / "classroom"  # one student's repository, with the partial answer pushed
    shutil.copytree(template, repo)
    shutil.copy2(partial, repo / f"{CHAPTER}.ipynb")
    for step in steps:
        if "run" in step:
            subprocess.run(["bash", "-c", step["run"]], cwd=repo, env=env, check=True, timeout=900)
    classroom = {
        s["id"]: subprocess.run(["bash", "-c", s["with"]["command"]], cwd=repo, env=env).returncode
        for s in steps
        if "autograding-command-grader" in s.get("uses", "")
    }
    yield dict(
        zip=zip_path,
        python=python,
        scores=scores,
        table=table,
        otter_run=otter_run,
        where=where,
        scan=scan,
        template=template,
        workflow=workflow,
        classroom=classroom,
        stub=stub_source,
    )
    shutil.rmtree(folder / "gradescope" / "envs")  # about 2 GB


def test_the_zip_asks_for_python_torch_on_the_cpu_and_this_vicourse(graded):
    with zipfile.ZipFile(graded["zip"]) as zf:
        env = yaml.safe_load(zf.read("environment.yml"))
        wheels = [n for n in zf.namelist() if n.startswith("files/vicourse-")]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    assert any(line.startswith("torch==") and line.endswith("+cpu") for line in pip)
    assert wheels == [f"files/vicourse-{vicourse.__version__}-py3-none-any.whl"]
    assert f"/autograder/source/{wheels[0]}" in pip
    assert not any("vicourse" in line and "/autograder/" not in line for line in pip)


def test_the_fresh_environment_imports_vicourse_from_the_zips_wheel(graded):
    path, version = graded["where"]
    assert path.startswith(str(graded["python"].parents[1]))  # inside it, not the checkout
    assert not path.startswith(str(ROOT)) and version == vicourse.__version__


def test_the_package_installed_from_the_wheel_holds_no_solution(graded):
    """Installed by pip from the wheel, as a student's environment gets it, vicourse has the
    expected answers that check() compares with and no function that solves an exercise."""
    scan = graded["scan"]
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert f"at {graded['python'].parents[1]}" in scan.stdout  # the environment's copy
    assert "no function in it solves an exercise" in scan.stdout


def test_gradescope_gives_full_marks_zero_and_the_answered_questions_points(graded):
    scores = graded["scores"]
    assert scores["solution"] == {**POINTS, "total": 7.0}
    assert scores["student"] == {"ex7_2": 0, "ex7_3": 0, "ex7_4": 0, "total": 0}
    assert scores["partial"] == {"ex7_2": 2.0, "ex7_3": 0, "ex7_4": 0, "total": 2.0}
    assert [(r["notebook"], float(r["total"])) for r in graded["table"]] == [
        ("partial.ipynb", 2.0),
        ("solution.ipynb", 7.0),
        ("student.ipynb", 0.0),
    ]


def test_otter_run_in_that_environment_gives_the_same_partial_score(graded):
    assert graded["otter_run"] == {"ex7_2": (2.0, 2.0), "ex7_3": (0, 3.0), "ex7_4": (0, 2.0)}


def test_the_classroom_template_holds_the_notebook_the_zip_and_the_grader(graded):
    template = graded["template"]
    assert sorted(p.name for p in template.glob("*.ipynb")) == [f"{CHAPTER}.ipynb"]
    assert (template / ".github" / "autograder.zip").read_bytes() == graded["zip"].read_bytes()
    assert (template / ".github" / "gradescope.py").read_text() == (
        ROOT / ".ci" / "gradescope.py"
    ).read_text()
    steps = graded["workflow"]["jobs"]["run-autograding-tests"]["steps"]
    graders = {s["id"]: s["with"] for s in steps if "command-grader" in s.get("uses", "")}
    assert {k: v["max-score"] for k, v in graders.items()} == {"ex7_2": 2, "ex7_3": 3, "ex7_4": 2}
    (reporter,) = [s for s in steps if "grading-reporter" in s.get("uses", "")]
    assert reporter["with"]["runners"] == "ex7_2,ex7_3,ex7_4"
    assert set(reporter["env"]) == {"EX7_2_RESULTS", "EX7_3_RESULTS", "EX7_4_RESULTS"}


def test_the_classroom_commands_pass_the_answered_question_and_fail_the_others(graded):
    """Exit status 0 gives a question its points in Classroom; any other, none."""
    assert graded["classroom"] == {"ex7_2": 0, "ex7_3": 1, "ex7_4": 1}


def test_the_student_notebook_grades_the_answer_cells_name(graded):
    """The stub says what is graded: the function as written in that cell, which is why the
    partial notebook's later, wrong definition does not take its points away."""
    assert graded["stub"].endswith(
        "answer_7_2 = reparameterized_sample  # graded: this function, as written here"
    )
