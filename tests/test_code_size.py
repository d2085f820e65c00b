"""The size rules of the code: no module of src/ over 400 lines (migrations aside), no function
over 40 lines unless a comment says why it is long.

The one accepted reason reads "longer than 40 lines because ..." in a comment on the `def`
line, in the comment lines just above the `def` (or its decorators), or first in the body
(after the docstring). That is meant for tables read top to bottom, not for steps.
"""

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MODULE_LIMIT = 400
FUNCTION_LIMIT = 40
REASON = re.compile(r"#.*\blonger than 40 lines because\b", re.IGNORECASE)


def modules(root: Path):
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.relative_to(root).parts:
            yield path


def long_modules(root: Path) -> dict[str, int]:
    lengths = {path: len(path.read_text().splitlines()) for path in modules(root)}
    return {
        path.relative_to(root).as_posix(): length
        for path, length in lengths.items()
        if length > MODULE_LIMIT
    }


def functions(tree: ast.AST, prefix: str = ""):
    """Every function with its qualified name (Class.method, outer.inner), at any depth."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def reason_given(lines: list[str], node: ast.FunctionDef) -> bool:
    """A reason in the comments just above the def, on its header, or first in its body."""
    start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list]) - 1
    above = start
    while above > 0 and lines[above - 1].strip().startswith("#"):
        above -= 1
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]  # the docstring: the reason may follow it
    return any(REASON.search(line) for line in lines[above : body[0].lineno - 1])


def long_functions(root: Path) -> dict[str, int]:
    found = {}
    for path in modules(root):
        lines = path.read_text().splitlines()
        for name, node in functions(ast.parse("\n".join(lines))):
            length = node.end_lineno - node.lineno + 1
            if length > FUNCTION_LIMIT and not reason_given(lines, node):
                found[f"{path.relative_to(root).as_posix()}::{name}"] = length
    return found


def test_no_module_in_src_is_over_400_lines():
    assert long_modules(SRC) == {}


def test_no_function_in_src_is_over_40_lines_unless_a_comment_says_why():
    assert long_functions(SRC) == {}


# The checks themselves, on made-up modules.


def body_lines(count: int) -> str:
    return "".join(f"    x{number} = {number}\n" for number in range(count))


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def test_a_function_of_41_lines_is_too_long_and_one_of_40_is_not(tmp_path):
    write(tmp_path, "app/long.py", "def long():\n" + body_lines(40))
    write(tmp_path, "app/short.py", "def short():\n" + body_lines(39))

    assert long_functions(tmp_path) == {"app/long.py::long": 41}


def test_methods_and_inner_functions_are_measured_by_their_qualified_name(tmp_path):
    inner = "".join("    " + line + "\n" for line in ("def inner():", *body_lines(40).splitlines()))
    write(tmp_path, "app/nested.py", "class Table:\n" + inner)
    write(tmp_path, "app/guarded.py", "if True:\n" + inner)
    write(tmp_path, "app/outer.py", "def outer():\n" + inner + "    return inner\n")

    assert set(long_functions(tmp_path)) == {
        "app/nested.py::Table.inner",
        "app/guarded.py::inner",
        "app/outer.py::outer",
        "app/outer.py::outer.inner",
    }


def test_a_comment_saying_why_above_on_or_first_in_the_def_lets_it_be_long(tmp_path):
    why = "# Longer than 40 lines because it is a table of columns."
    write(tmp_path, "above.py", f"{why}\n@decorated\ndef above():\n" + body_lines(40))
    write(tmp_path, "on.py", f"def on():  {why}\n" + body_lines(40))
    docstring = '    """A table."""\n'
    write(tmp_path, "first.py", f"def first():\n{docstring}    {why}\n" + body_lines(40))

    assert long_functions(tmp_path) == {}


def test_a_comment_that_gives_no_reason_or_stands_elsewhere_does_not(tmp_path):
    why = "# Longer than 40 lines because it is a table of columns."
    write(tmp_path, "vague.py", "# A long one.\ndef vague():\n" + body_lines(40))
    write(tmp_path, "apart.py", f"{why}\n\ndef apart():\n" + body_lines(40))
    write(tmp_path, "late.py", "def late():\n" + body_lines(20) + f"    {why}\n" + body_lines(20))

    assert set(long_functions(tmp_path)) == {"vague.py::vague", "apart.py::apart", "late.py::late"}


def test_a_module_of_401_lines_is_too_long_and_migrations_are_not_counted(tmp_path):
    write(tmp_path, "app/long.py", "x = 1\n" * 401)
    write(tmp_path, "app/full.py", "x = 1\n" * 400)
    write(tmp_path, "app/migrations/0001_initial.py", "x = 1\n" * 900)

    assert long_modules(tmp_path) == {"app/long.py": 401}
