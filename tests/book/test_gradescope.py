"""An autograder zip grades on its own, as Gradescope runs it: unpacked in /autograder's layout,
in a fresh environment built from the zip's own requirements (vicourse from the wheel inside the
zip, everything else from the package index), it gives the solution full marks, the untouched
student notebook zero and a notebook with one of its three autograded questions answered that
question's points, kept when a later cell defines the answer's name again, wrongly; `otter run
-a <zip>` in that environment gives the same; the vicourse installed there holds no solution.
The GitHub template (.ci/coursework/), its workflow's commands run as a runner runs them in a
student's repository (the zip where its fetch step puts it), gives the solution full marks and
the untouched notebook zero in result.json and the job summary; run as Classroom 50's runner
runs it, its bundle's autograder.py gives the partial notebook its points in a result.json
that Classroom 50 accepts; and no file of the template holds a graded test.
Chapter 7, whose two code exercises and experiment allow a partial score; .ci/release.sh checks
every chapter with .ci/gradescope.py.

An end-to-end test (otter assign, a fresh environment of about 2 GB from the package index,
seven gradings: about four minutes): CI runs it in `bash .ci/run end-to-end`."""

import csv
import json
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
CLASSROOM50 = {  # what Classroom 50's runner gives its autograder.py
    "CLASSROOM": "vi-2027",
    "ASSIGNMENT": "reparameterization",
    "SUBMISSION_TAG": "submit/2027-03-01T10-00-00Z-c0ffee0",
    "COMMIT_URL": "https://github.com/school/vi-2027-reparameterization-ada/commit/c0ffee",
    "RELEASE_URL": "https://github.com/school/vi-2027-reparameterization-ada/releases/tag/submit",
    "REVIEW_URL": "https://github.com/school/vi-2027-reparameterization-ada/compare/a...c0ffee",
}


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
    # the GitHub template's grading, run in a student's repository as a runner runs it: the
    # workflow's commands, or Classroom 50's runner running the bundle's autograder.py
    template, bundle = out / "github" / CHAPTER, out / "classroom50" / CHAPTER
    workflow = yaml.safe_load((template / ".github" / "workflows" / "grade.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    gh = folder / "bin" / "gh"  # GitHub's CLI, answering the fetch step with the zip
    gh.parent.mkdir()
    calls = folder / "gh-calls"
    gh.write_text(f'#!/bin/sh\necho "$GH_TOKEN $*" >> "{calls}"\nexec cat "{zip_path}"\n')
    gh.chmod(0o755)
    runner_python = folder / "runner-python"  # a bare Python 3.11, as actions/setup-python leaves
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", runner_python], check=True)
    github = {}
    for who, notebook in [
        ("solution", submissions / "solution.ipynb"),
        ("student", student),
        ("partial", partial),
    ]:
        repo, runner_temp = folder / "repos" / who, folder / "runner" / who
        shutil.copytree(template, repo)
        shutil.copy2(notebook, repo / f"{CHAPTER}.ipynb")  # the notebook pushed
        (runner_temp / "grading").mkdir(parents=True)  # the environment built above, reused
        (runner_temp / "grading" / "envs").symlink_to(folder / "gradescope" / "envs")
        env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "CHAPTER": workflow["env"]["CHAPTER"]}
        env |= {"GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md")}
        env |= {"GITHUB_REPOSITORY_OWNER": "school", "GITHUB_REPOSITORY": f"school/{who}"}
        env |= {"GITHUB_SHA": "c0ffee", "GITHUB_RUN_ID": "1"}
        env["PATH"] = os.pathsep.join([str(gh.parent), str(runner_python / "bin"), env["PATH"]])
        env.pop("VIRTUAL_ENV", None)
        if who == "partial":  # Classroom 50: its bundle, fetched and unpacked; its variables
            env |= CLASSROOM50 | {"CLASSROOM50_BUNDLE_DIR": str(runner_temp / "bundle")}
            shutil.copytree(bundle, runner_temp / "bundle")
            commands = [f"python {runner_temp / 'bundle' / 'autograder.py'}"]
        else:  # the workflow's commands, its fetch step's among them
            env |= {"GH_TOKEN": "a-token", "AUTOGRADERS": "school/vicourse-autograders"}
            commands = [s["run"] for s in steps if "run" in s]
        for command in commands:
            subprocess.run(["bash", "-c", command], cwd=repo, env=env, check=True, timeout=900)
        summary = runner_temp / "summary.md"  # none under Classroom 50, whose runner writes it
        summary = summary.read_text() if summary.is_file() else ""
        github[who] = (json.loads((repo / "result.json").read_text()), summary)
    yield dict(
        gh_calls=calls.read_text().splitlines(),
        fetch=next(s for s in steps if s.get("id") == "fetch")["run"],
        zip=zip_path,
        python=python,
        scores=scores,
        table=table,
        otter_run=otter_run,
        where=where,
        scan=scan,
        template=template,
        bundle=bundle,
        workflow=workflow,
        github=github,
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


def test_the_github_template_holds_the_notebook_the_workflow_and_the_grader_not_the_zip(graded):
    template, bundle = graded["template"], graded["bundle"]
    files = sorted(str(p.relative_to(template)) for p in template.rglob("*") if p.is_file())
    assert files == [
        ".github/autograder.py",
        ".github/gradescope.py",
        ".github/workflows/grade.yml",
        f"{CHAPTER}.ipynb",
    ]
    for folder in template / ".github", bundle:
        assert (folder / "gradescope.py").read_text() == (
            ROOT / ".ci" / "gradescope.py"
        ).read_text()
        assert (folder / "autograder.py").read_text() == (
            ROOT / ".ci" / "coursework" / "autograder.py"
        ).read_text()
    assert (bundle / f"{CHAPTER}.zip").read_bytes() == graded["zip"].read_bytes()
    assert sorted(p.name for p in bundle.iterdir()) == [
        f"{CHAPTER}.zip",
        "autograder.py",
        "gradescope.py",
    ]
    workflow = graded["workflow"]
    assert workflow["env"]["CHAPTER"] == CHAPTER
    steps = workflow["jobs"]["grade"]["steps"]
    (setup,) = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["python-version"] == assign.PYTHON_VERSION
    (fetch,) = [s for s in steps if s.get("id") == "fetch"]
    assert fetch["env"]["GH_TOKEN"] == "${{ secrets.AUTOGRADERS_TOKEN }}"
    assert not [s for s in steps if "classroom" in s.get("uses", "")]


def test_the_fetch_step_reads_the_chapters_zip_from_the_autograders_repository(graded, tmp_path):
    url = f"repos/school/vicourse-autograders/contents/{CHAPTER}.zip"
    call = f"a-token api -H Accept: application/vnd.github.raw {url}"
    assert graded["gh_calls"] == [call, call]  # the solution's run and the student's
    env = {**os.environ, "GH_TOKEN": "", "RUNNER_TEMP": str(tmp_path), "CHAPTER": CHAPTER}
    done = subprocess.run(["bash", "-c", graded["fetch"]], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "No secret AUTOGRADERS_TOKEN" in done.stdout


def test_no_file_of_the_template_holds_a_graded_test(graded):
    """The student's repository has neither the zip nor any line of its tests but their imports,
    which the notebook shares (a test's references, its checks, its definition)."""
    with zipfile.ZipFile(graded["zip"]) as zf:
        tests = [zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/")]
    lines = {line.strip() for test in tests for line in test.splitlines()}
    lines = {x for x in lines if len(x) > 30 and not x.startswith(("import ", "from "))}
    assert len(tests) == len(POINTS) and lines
    for path in (p for p in graded["template"].rglob("*") if p.is_file()):
        assert graded["zip"].read_bytes() not in path.read_bytes()
        text = path.read_text()
        assert not [line for line in lines if line in text], path


def test_the_workflow_gives_full_marks_and_zero_in_result_json_and_the_job_summary(graded):
    for who, score in [("solution", 7), ("student", 0)]:
        result, summary = graded["github"][who]
        assert well_formed(result)  # shaped like Classroom 50's (its submission is a commit here)
        assert (result["score"], result["max-score"]) == (score, 7)
        points = {t["test-name"]: (t["score"], t["passed"]) for t in result["tests"]}
        assert points == {q: (int(p) if score else 0, bool(score)) for q, p in POINTS.items()}
        assert (result["assignment"], result["submission"]) == (who, "c0ffee")
        assert result["commit"] == f"https://github.com/school/{who}/commit/c0ffee"
        assert f"| ex7_3 | {3 if score else 0} | 3 |" in summary
        assert f"| **total** | {score} | 7 |" in summary


def test_classroom_50s_runner_gives_the_answered_question_its_points(graded):
    result, summary = graded["github"]["partial"]
    assert well_formed(result) and result["submission"].startswith("submit/")
    assert {k: result[k] for k in ("classroom", "assignment", "submission")} == {
        "classroom": "vi-2027",
        "assignment": "reparameterization",
        "submission": CLASSROOM50["SUBMISSION_TAG"],
    }
    assert (result["commit"], result["release"], result["review"]) == (
        CLASSROOM50["COMMIT_URL"],
        CLASSROOM50["RELEASE_URL"],
        CLASSROOM50["REVIEW_URL"],
    )
    assert (result["score"], result["max-score"]) == (2, 7)
    assert result["tests"] == [
        {"test-name": "ex7_2", "passed": True, "score": 2, "max-score": 2},
        {"test-name": "ex7_3", "passed": False, "score": 0, "max-score": 3},
        {"test-name": "ex7_4", "passed": False, "score": 0, "max-score": 2},
    ]
    assert summary == ""  # Classroom 50's runner writes the job's summary from result.json


def well_formed(result: dict) -> bool:
    """What Classroom 50's runner checks of an autograder's result.json (its validate_result),
    but the fields it stamps itself (owner, assignment_type, datetime) and the submission's tag,
    which only its runs have."""

    def count(x):
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    tests = result["tests"]
    return (
        result["schema"] == "classroom50/result/v1"
        and all(isinstance(result[k], str) and result[k] for k in ("commit", "release", "review"))
        and all(isinstance(result[k], str) and result[k] for k in ("classroom", "assignment"))
        and count(result["score"])
        and count(result["max-score"])
        and result["score"] == sum(t["score"] for t in tests) <= result["max-score"]
        and all(isinstance(t["test-name"], str) and t["test-name"] for t in tests)
        and all(isinstance(t["passed"], bool) for t in tests)
        and all(count(t["score"]) and count(t["max-score"]) for t in tests)
        and all(t["score"] <= t["max-score"] for t in tests)
    )


def test_the_student_notebook_grades_the_answer_cells_name(graded):
    """The stub says what is graded: the function as written in that cell, which is why the
    partial notebook's later, wrong definition does not take its points away."""
    assert graded["stub"].endswith(
        "answer_7_2 = reparameterized_sample  # graded: this function, as written here"
    )
