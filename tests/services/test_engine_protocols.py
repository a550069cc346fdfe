"""The Protocols the services are written against match the real engine, signature for
signature, so a fake that satisfies a Protocol behaves, as far as calls go, like the real part."""

from __future__ import annotations

import inspect

import pytest

from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.services.engine import ChatEngine, SearchIndex
from desktop_rag.services.local_engine import LocalChatEngine


def _methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def _shape(function: object) -> list[tuple[str, object, object, object]]:
    """(name, kind, default, annotation) of each parameter, then the return annotation;
    annotations are the strings of postponed evaluation in both modules."""
    signature = inspect.signature(function)  # type: ignore[arg-type]
    params = [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()]
    return [*params, ("return", None, None, signature.return_annotation)]


def mismatches(protocol: type, real: type) -> list[str]:
    problems = []
    for name in _methods(protocol):
        method = getattr(real, name, None)
        if method is None:
            problems.append(f"{real.__name__} has no {name}")
            continue
        want, have = _shape(getattr(protocol, name)), _shape(method)
        if want != have:
            problems.append(f"{protocol.__name__}.{name}: {want}\n  {real.__name__}: {have}")
    return problems


@pytest.mark.parametrize(
    ("protocol", "real"),
    [(SearchIndex, KnowledgeBase), (ChatEngine, LocalChatEngine)],
    ids=["SearchIndex-KnowledgeBase", "ChatEngine-LocalChatEngine"],
)
def test_the_real_classes_have_the_protocols_signatures(protocol: type, real: type) -> None:
    assert _methods(protocol), "the Protocol declares no methods"
    assert mismatches(protocol, real) == []


def _variant(protocol: type, name: str, **changes: object) -> type:
    """A copy of one method of `protocol` with its signature changed: `drop` a parameter,
    or give one (`default_of`) another `default`."""
    signature = inspect.signature(getattr(protocol, name))
    params = [
        p.replace(default=changes["default"]) if p.name == changes.get("default_of") else p
        for p in signature.parameters.values()
        if p.name != changes.get("drop")
    ]

    def method(*args: object, **kwargs: object) -> None: ...

    method.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return type(f"Changed{protocol.__name__}", (), {name: method})


def test_the_comparison_fails_on_a_missing_parameter() -> None:
    changed = _variant(SearchIndex, "index", drop="retry_failed")  # as SearchIndex once was
    assert mismatches(_variant(SearchIndex, "index"), KnowledgeBase) == []
    [problem] = mismatches(changed, KnowledgeBase)
    assert problem.startswith("ChangedSearchIndex.index:")
    assert "retry_failed" not in problem.splitlines()[0]
    assert "retry_failed" in problem.splitlines()[1]


def test_the_comparison_fails_on_another_default() -> None:
    changed = _variant(ChatEngine, "ask", default_of="folders", default=None)
    [problem] = mismatches(changed, LocalChatEngine)
    assert problem.startswith("ChangedChatEngine.ask:")
