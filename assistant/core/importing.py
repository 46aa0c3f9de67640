"""Import only what a command uses: guards for libraries that import heavy optional extras.

Three such imports dominate a cold command on a 2-core machine (``docs/BENCHMARKS.md``,
"Cold commands"):

- thinc (under spaCy) imports torch when it is installed, only to offer its optional PyTorch
  wrappers, which no pipeline here uses: ~1.5 s idle, ~5 s on a loaded machine.
- medspaCy imports QuickUMLS, which imports NLTK and scikit-learn (:func:`import_medspacy`).
- ``spacy.blank()`` / ``spacy.load()`` import every package that declares a
  ``spacy_factories`` entry point; Presidio's pulls in transformers and torch (~5 s), although
  our pipelines import the factories they use themselves.

:func:`import_spacy` imports spaCy with torch hidden (when torch is not loaded yet; a later
``import torch`` works as usual) and :func:`explicit_spacy_factories` builds a pipeline without
the entry-point scan. ``tests/test_lazy_imports.py`` checks what cold commands import.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator


@contextlib.contextmanager
def hidden(*names: str) -> Iterator[None]:
    """While inside, ``import name`` raises ImportError for modules not imported yet (their
    optional importers fall back); afterwards they import normally."""
    hid = [n for n in names if n not in sys.modules]
    for name in hid:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hid:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


class _Deferred(types.ModuleType):
    """Stands in for a module while a library that imports it (but uses it only in rare calls)
    is imported; its first attribute access imports the real module."""

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


@contextlib.contextmanager
def deferred(*names: str) -> Iterator[None]:
    """While inside, ``import name`` of a module not imported yet gives a :class:`_Deferred`
    stand-in; afterwards ``import name`` is the real module again."""
    stubs = {n: _Deferred(n) for n in names if n not in sys.modules}
    sys.modules.update(stubs)
    try:
        yield
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]


def import_spacy() -> None:
    """Import spaCy (and thinc) without thinc's optional torch and h5py imports, and without
    what a pipeline never uses (~0.2 s of a cold ``ner``): its command line (``spacy/__init__``
    imports ``spacy.cli`` only to offer ``spacy.info``; that pulls jinja2, requests and the
    training commands) and langcodes (its import compiles a large regular expression; spaCy
    calls it only to guess a language code it has no module for). ``spacy.info`` still works
    (it imports the real one when called), langcodes is imported on its first use, and
    ``import spacy.cli`` or ``spacy.cli`` (an attribute of the package, as Presidio's model
    download reads it) is the real package."""
    if "spacy" in sys.modules:
        return
    stubs: dict[str, types.ModuleType] = {}
    if "spacy.cli" not in sys.modules:
        cli = types.ModuleType("spacy.cli")
        cli.__path__ = []
        info = types.ModuleType("spacy.cli.info")

        def lazy_info(*args: object, **kwargs: object) -> object:
            from spacy.cli.info import info as real_info

            return real_info(*args, **kwargs)  # type: ignore[arg-type]

        info.info = lazy_info  # type: ignore[attr-defined]
        stubs = {"spacy.cli": cli, "spacy.cli.info": info}
        sys.modules.update(stubs)
    try:
        with hidden("torch", "cupy", "tensorflow", "mxnet", "h5py"), deferred("langcodes"):
            import spacy  # noqa: F401
            import thinc.api  # noqa: F401
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]
    if stubs:
        spacy_module = sys.modules["spacy"]
        if not hasattr(spacy_module, "__getattr__"):
            setattr(spacy_module, "__getattr__", _spacy_cli_on_demand)  # noqa: B010


def _spacy_cli_on_demand(name: str) -> object:
    """``spacy.cli`` read as an attribute before anyone imported it: import it now."""
    if name == "cli":
        return importlib.import_module("spacy.cli")
    raise AttributeError(f"module 'spacy' has no attribute {name!r}")


@contextlib.contextmanager
def explicit_spacy_factories() -> Iterator[None]:
    """Build spaCy pipelines inside without importing every installed package's
    ``spacy_factories`` entry point: components must be imported by their user (ours are)."""
    import_spacy()
    from spacy import util

    registry = util.registry._entry_point_factories
    before = registry.entry_points
    registry.entry_points = False
    try:
        yield
    finally:
        registry.entry_points = before


def import_medspacy() -> None:
    """Import medspaCy without QuickUMLS: ``medspacy.util`` imports it unconditionally, and it
    pulls NLTK and scikit-learn (~1 s idle, ~2.5 s loaded) for a UMLS matcher whose data is
    not available offline and that no pipeline here uses. A later ``import quickumls`` gets
    the real package."""
    if "medspacy" in sys.modules:
        return
    import_spacy()
    if "quickumls" in sys.modules:
        import medspacy

        return
    import types

    stub = types.ModuleType("quickumls")
    stub.spacy_component = types.ModuleType("quickumls.spacy_component")  # type: ignore[attr-defined]
    sys.modules["quickumls"] = stub
    try:
        import medspacy  # noqa: F401
    finally:
        if sys.modules.get("quickumls") is stub:
            del sys.modules["quickumls"]
