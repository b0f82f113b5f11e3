"""The chapters as coursework: each is an otter-grader master notebook with three kinds of
exercise (a derivation, code, and an experiment whose number is autograded and whose
interpretation is marked by hand); the instructors' table agrees with the notebooks; and the one
command, .ci/assign.py, makes student notebooks and autograders whose tests are the ones the
site build ran on the solutions (chapter 7's zip is graded in Gradescope's environment, the
solution full, the student notebook zero and one answer in between: test_gradescope.py;
every chapter's in .ci/release.sh). Each autograded question has a public test and a hidden
one, which the student's copy does not hold and on which the grade rests
(test_grading_integrity.py)."""

import ast
import importlib.util
import json
import os
import re
import zipfile

import nbformat
import pytest
from conftest import (
    ROOT,
    functions_defined,
    graded_questions,
    load_tool,
    require,
    solution_lines,
    visible_text,
)
from filelock import FileLock

assign = load_tool("assign")
CHAPTERS = assign.chapters()
PROMPT = re.compile(r"\*\*Exercise (\d+)\.(\d+) \((derivation|code|experiment), (\d+) min\)\.\*\*")
# an experiment's second question: the interpretation, marked by hand
CONTINUED = re.compile(r"\*\*Exercise (\d+)\.(\d+), continued \(written\)\.\*\*")


def load_path(path):
    """A Python file as a module, by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cells(path):
    return nbformat.read(path, as_version=4).cells


def exercises(path):
    """(number, kind, minutes, points, question name) for each exercise of a chapter; an
    experiment's points are those of its two questions, the number's and the written part's."""
    found, spec = [], None
    for cell in cells(path):
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            spec = {
                k.strip(): v.strip()
                for k, v in (line.split(":", 1) for line in cell.source.splitlines()[1:])
            }
        elif spec is not None and cell.cell_type == "markdown" and CONTINUED.search(cell.source):
            match = CONTINUED.search(cell.source)
            number, kind, minutes, points, name = found[-1]
            assert (number, kind) == (f"{match[1]}.{match[2]}", "experiment"), spec["name"]
            assert spec.get("manual") == "true" and spec["name"] == f"{name}_written"
            found[-1] = (number, kind, minutes, points + int(spec["points"]), name)
            spec = None
        elif spec is not None and cell.cell_type == "markdown":
            match = PROMPT.search(cell.source)
            assert match, f"{path.name}: question {spec['name']} has no '**Exercise n.m (…)**'"
            number = f"{match[1]}.{match[2]}"
            found.append((number, match[3], int(match[4]), int(spec["points"]), spec["name"]))
            assert (match[3] == "derivation") == (spec.get("manual") == "true"), number
            spec = None
    return found


def test_every_chapter_is_a_master_notebook_with_three_kinds_of_exercise():
    """A derivation, code and an experiment in every chapter, in that order."""
    assert len(CHAPTERS) == 11
    for path in CHAPTERS:
        first = cells(path)[0]
        assert first.cell_type == "raw" and first.source.startswith("# ASSIGNMENT CONFIG")
        found = exercises(path)
        assert [n for n, *_ in found] == [
            f"{int(path.name[:2])}.{i}" for i in range(1, len(found) + 1)
        ]
        kinds = [kind for _, kind, *_ in found]
        assert kinds[0] == "derivation" and kinds[-1] == "experiment", path.name
        assert set(kinds[1:-1]) == {"code"} and kinds.count("experiment") == 1, path.name


def test_solutions_are_behind_toggles_and_tests_are_hidden():
    for path in CHAPTERS:
        inside = None
        for cell in cells(path):
            if cell.cell_type == "raw":
                marker = cell.source.strip()
                if marker in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                    inside = marker.split()[-1].lower()
                elif marker.startswith("# END"):
                    inside = None
                continue
            tags = set(cell.metadata.get("tags", []))
            if inside == "solution" and cell.cell_type == "code":
                assert {"hide-input", "solution"} <= tags, (path.name, cell.source[:60])
                assert "# BEGIN SOLUTION" in cell.source, (path.name, cell.source[:60])
            if inside == "solution" and cell.cell_type == "markdown":
                assert cell.source.startswith(":::{dropdown} Solution\n:class-container: solution")
            if inside == "tests":
                assert "remove-cell" in tags and "exercises.verify" in cell.source


def test_every_code_solution_has_lines_a_student_copy_would_betray():
    """The leak checks (the student notebook here, the student edition in tests/site) look for
    a solution's lines that the rest of the chapter does not also show: each solution has some."""
    for path in CHAPTERS:
        visible = visible_text(cells(path))
        for cell in cells(path):
            if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source:
                assert solution_lines(cell.source, visible), (path.name, cell.source[:60])


def test_every_code_answer_is_kept_under_its_exercise_number():
    """The answer cell ends with answer_N_M = <the function>; the grader's test and the check
    after the question take answer_N_M, so a later cell that defines the name again changes
    neither (tests/book/test_gradescope.py and the end-to-end tests grade such a notebook)."""
    for path in CHAPTERS:
        sources = [c.source for c in cells(path) if c.cell_type == "code"]
        for number, kind, _, _, _ in exercises(path):
            if kind != "code":
                continue
            name = f"answer_{number.replace('.', '_')}"
            (answer,) = [s for s in sources if "# BEGIN SOLUTION" in s and f"\n{name} = " in s]
            fn = re.match(r"def (\w+)\(", answer)[1]
            assert answer.endswith(f"\n{name} = {fn}  # graded: this function, as written here")
            assert sum(f'exercises.verify("{fn}", {name})' in s for s in sources) == 1
            assert f'exercises.check("{fn}", {name})' in sources


def test_every_experiment_stores_its_number_for_the_grader():
    """The experiment's answer cell ends with experiment_N_M = <the number>  # SOLUTION, which
    otter turns into `experiment_N_M = ...` for the student; its test compares that name with
    a reference run (exercises.verify_number); its written part is a manual question."""
    for path in CHAPTERS:
        sources = [c.source for c in cells(path) if c.cell_type == "code"]
        ((number, *_),) = [e for e in exercises(path) if e[1] == "experiment"]
        name = f"experiment_{number.replace('.', '_')}"
        (answer,) = [s for s in sources if "# BEGIN SOLUTION" in s and f"\n{name} = " in s]
        assert re.search(rf"\n{name} = [^\n]+  # SOLUTION$", answer), path.name
        (test,) = [s for s in sources if s.startswith(f"def test_{name}({name}")]
        assert re.search(rf'exercises\.verify_number\(\s*"{name}", {name},', test), path.name
        assert test.rstrip().splitlines()[-1].startswith(f"test_{name}({name}")


def test_the_instructors_table_agrees_with_the_notebooks():
    text = (ROOT / "book" / "instructors.md").read_text()
    rows = re.findall(
        r"^\| (\d+\.\d+) \| (\d+) \| (derivation|code|experiment) \| [^|]+ \| (\d+) \| (\d+) \|$",
        text,
        re.M,
    )
    table = [(n, kind, int(minutes), int(points)) for n, _, kind, minutes, points in rows]
    books = [e[:4] for path in CHAPTERS for e in exercises(path)]
    assert table == books
    per_chapter = {}
    for number, _, minutes, _ in table:
        per_chapter[number.split(".")[0]] = per_chapter.get(number.split(".")[0], 0) + minutes
    total = sum(per_chapter.values())
    claim = re.search(r"take (\d+) to (\d+) minutes; all of them, (\d+) minutes", text)
    assert claim, "the sentence on the time the exercises take is gone"
    assert (min(per_chapter.values()), max(per_chapter.values()), total) == tuple(
        map(int, claim.groups())
    )
    assert 12 * 60 + 10 <= total <= 12 * 60 + 20  # "about twelve hours and a quarter"
    # every experiment has its rubric
    for number, kind, _, _ in table:
        if kind == "experiment":
            assert re.search(rf"^- \*\*{re.escape(number)}\*\* ", text, re.M), number


def grader_cells(nb) -> list:
    """The code cells between a question's BEGIN TESTS and END TESTS: the autograder's tests,
    each question's public test and then its hidden one (first line `# HIDDEN`)."""
    return [cell for _, cells in graded_questions(nb) for cell in cells]


def grader_tests(path):
    """{exercise: the test function of each code question}, from the chapter's BEGIN TESTS
    cells: the functions that otter assign copies into the autograder's tests/ (a hidden
    test's exercise is named with _unseen after it)."""
    sources = [cell.source for cell in grader_cells(nbformat.read(path, as_version=4))]
    tests = functions_defined(sources, path.name)
    return {key.removeprefix("test_"): fn for key, fn in tests.items()}


def test_check_and_the_grader_agree_on_the_solution_and_every_wrong_answer(capsys):
    """What a student sees from check() is what the grader gives: the solution passes both,
    and each wrong answer of tests/unit/test_exercises.py fails both, the hidden test too."""
    from vicourse.exercises import EXERCISES, check

    wrong = load_path(ROOT / "tests" / "unit" / "test_exercises.py").WRONG
    solutions = load_tool("expected").solutions()
    graded = {
        name: fn
        for path in CHAPTERS
        for name, fn in grader_tests(path).items()
        if not name.startswith("experiment_")  # a number, not a function (verify_number)
    }
    public = {name: fn for name, fn in graded.items() if not name.endswith("_unseen")}
    assert set(public) == set(EXERCISES) == set(wrong) == set(solutions)
    assert set(graded) == set(public) | {f"{name}_unseen" for name in public}
    for name, grader_test in public.items():
        assert check(name, solutions[name])
        grader_test(solutions[name])  # passes: full marks
        graded[f"{name}_unseen"](solutions[name])
        answer, _ = wrong[name]
        assert not check(name, answer)
        for test in grader_test, graded[f"{name}_unseen"]:
            with pytest.raises(AssertionError, match="differs from the reference"):
                test(answer)  # fails: no marks
    capsys.readouterr()


# ---------------------------------------------------------------- what the zips grade


def defined_tests(source: str) -> dict[str, str]:
    """{name: its AST, dumped} of the test_ functions a cell or a zip's test file defines
    (otter assign rewrites their source and adds its @test_case decorator, not what they do)."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            node.decorator_list = []
            found[node.name] = ast.dump(node)
    return found


def test_the_site_build_ran_every_grader_test_on_the_solution():
    """Grading the solution, without executing it again: the site build executed each master
    notebook top to bottom, and every cell of its autograder's tests ran there, on the
    solution, without error (test_the_zips_grade_with_the_tests_the_site_build_ran: the zip
    holds those same tests)."""
    from conftest import executed

    for path in CHAPTERS:
        ran = executed(path)
        require(ran is not None, f"the site build has not executed {path.name}; build it first")
        cells = grader_cells(ran)
        assert len(cells) == 2 * len(code_questions(path)), path.name  # public and hidden
        for cell in cells:
            name = next(iter(defined_tests(cell.source)))
            assert cell.source.rstrip().splitlines()[-1].startswith(f"{name}("), (path.name, name)
            assert cell.execution_count is not None, (path.name, name)
            assert not [o for o in cell.outputs if o.output_type == "error"], (path.name, name)


@pytest.fixture(scope="session")
def coursework(tmp_path_factory):
    """.ci/assign.py's output for every chapter, made once per test run: under pytest-xdist the
    first worker to get here makes it in the run's shared temporary folder, the others wait."""
    pytest.importorskip("otter", reason="otter-grader is not installed (requirements.txt)")
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.getbasetemp()
    out = root / "coursework"
    with FileLock(str(root / "coursework.lock")):
        if not (out / "made").is_file():
            # otter's own run of each chapter's tests against its solution is left out: the site
            # build ran those tests on the solution (test_the_site_build_ran_every_grader_test_
            # on_the_solution), and the zips hold the same tests
            assert assign.main(["--out", str(out), "--no-run-tests"]) == 0
            (out / "made").touch()
    return out


def code_questions(path):
    """{question: points} of the autograded questions: code, and experiments' numbers."""
    return {q["name"]: q["points"] for q in assign.questions(path) if not q["manual"]}


@pytest.mark.end_to_end
def test_assign_makes_a_student_notebook_and_an_autograder_for_every_chapter(coursework):
    for path in CHAPTERS:
        student = coursework / "student" / path.name
        assert student.is_file() and (coursework / "autograder" / f"{path.stem}.zip").is_file()
        workflow = coursework / "github" / path.stem / ".github" / "workflows" / "grade.yml"
        assert workflow.is_file() and (workflow.parents[2] / path.name).is_file()
        text = student.read_text()
        visible = visible_text(cells(path))
        for cell in cells(path):
            for line in solution_lines(cell.source, visible) if cell.cell_type == "code" else []:
                assert json.dumps(line)[1:-1] not in text, (path.name, line)
        assert "exercises.verify(" not in text and "import otter" not in text
        assert "# HIDDEN" not in text and "verify_unseen" not in text and "_unseen(" not in text
        assert "Type your answer here" in text


@pytest.mark.end_to_end
def test_the_zips_grade_with_the_tests_the_site_build_ran(coursework):
    """Each autograded question of each zip is worth the points its notebook gives it, all or
    nothing, and grades with the test functions the master notebook ran in the site build, its
    hidden test among them, marked hidden (otter leaves it out of the student's copy). Grading the
    untouched student notebooks to zero executes every chapter again: .ci/release.sh does it
    for every chapter (.ci/gradescope.py), as does the weekly coursework workflow, and
    test_gradescope.py for chapter 7 in every CI run."""
    for path in CHAPTERS:
        with zipfile.ZipFile(coursework / "autograder" / f"{path.stem}.zip") as zf:
            files = {
                n.removeprefix("tests/").removesuffix(".py"): zf.read(n).decode()
                for n in zf.namelist()
                if n.startswith("tests/") and n.endswith(".py")
            }
        assert set(files) == set(code_questions(path)), path.name
        master = nbformat.read(path, as_version=4)
        ran = {}
        for cell in grader_cells(master):
            ran.update(defined_tests(cell.source))
        for question, points in code_questions(path).items():
            assert re.search(rf"^points = {points}$", files[question], re.M), (path.name, question)
            assert re.search(r"^all_or_nothing = True$", files[question], re.M), question
            graded = defined_tests(files[question])
            assert graded and all(ran.get(k) == v for k, v in graded.items()), (path, question)
            hidden = {
                node.name: [
                    k.value.value for k in node.decorator_list[0].keywords if k.arg == "hidden"
                ]
                for node in ast.parse(files[question]).body
                if isinstance(node, ast.FunctionDef)
            }
            assert sorted(hidden.values()) == [[False], [True]], (path.name, question)
            assert next(k for k, v in hidden.items() if v == [True]).endswith("_unseen")
