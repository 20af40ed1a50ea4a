"""Every registered public object documents itself: Args, an Example, and the Example runs.

Parametrized over the registry, so a component is covered the day it is registered.
"""

from __future__ import annotations

import doctest
import inspect

import pytest

from kerazoo.registry import KERAS_KINDS, registry

DOCUMENTED_KINDS = (*sorted(KERAS_KINDS), "models", "recipes")
ENTRIES = [entry for kind in DOCUMENTED_KINDS for entry in registry(kind)]


def _id(entry):
    return f"{entry.kind}:{entry.name}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_docstring_has_args_and_example(entry):
    doc = inspect.getdoc(entry.obj) or ""
    assert doc.strip(), f"{entry.qualified_name} has no docstring"
    if entry.kind in KERAS_KINDS:
        assert "Args:" in doc, f"{entry.qualified_name}: docstring has no 'Args:' section"
        assert "Example" in doc and ">>>" in doc, (
            f"{entry.qualified_name}: docstring has no runnable '>>>' Example"
        )


@pytest.mark.tf_only
@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if ">>>" in (inspect.getdoc(e.obj) or "")], ids=_id
)
def test_docstring_example_runs(entry):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    module = inspect.getmodule(entry.obj)
    globs = dict(vars(module)) if module else {}
    for test in finder.find(entry.obj, entry.name, module=module, globs=globs):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{entry.qualified_name}: {results.failed} doctest example(s) failed"
