"""The apps stand in layers and imports only go down (docs/architecture.md): audit's core knows no one,
accounts (who people are) imports nothing from roles, roles answers "may this actor do this, here, to this
member?". Every module is parsed, function-level imports included."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# audit's page layer (its own views, URLs and forms) stands above everything, like any page; its core
# (models, chain, record_event, selectors, verification, digests, ...) imports no app above it.
AUDIT_PAGES = {"views.py", "urls.py", "forms.py"}


def _modules(app):
    return sorted(path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


def _imports(path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _offending(path, forbidden) -> list[str]:
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line} imports {name}"
        for line, name in _imports(path)
        if any(name == top or name.startswith(top + ".") for top in forbidden)
    ]


@pytest.mark.parametrize("path", _modules("accounts"), ids=lambda p: str(p.relative_to(ROOT)))
def test_accounts_imports_nothing_from_roles(path):
    assert _offending(path, {"roles", "reviews", "onboarding", "dashboard"}) == []


@pytest.mark.parametrize("path", _modules("audit"), ids=lambda p: str(p.relative_to(ROOT)))
def test_audit_imports_nothing_above_it(path):
    if path.name in AUDIT_PAGES:
        return
    forbidden = {"accounts", "roles", "reviews", "onboarding", "dashboard"}
    assert _offending(path, forbidden) == []


def test_the_checker_sees_function_level_imports(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("def f():\n    from roles.authority import may_act_on\n    import roles.catalog\n")
    assert len(_offending(module, {"roles"})) == 2
