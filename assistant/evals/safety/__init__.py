"""`clinassist eval safety` (the red-team suite): ``suite`` (the suite, its fixture knowledge
base, the adversarial model), ``scoring`` (metrics from the turns), ``run`` (the passes and their
targets), ``render`` (docs tables). The answer-latency benchmark is ``assistant.bench.answer``."""

from assistant.evals.safety.render import render_markdown
from assistant.evals.safety.run import evaluate, run_suite, subset
from assistant.evals.safety.scoring import score
from assistant.evals.safety.suite import AdversarialLLM, fake_search_tool, load_suite, registry_for

__all__ = [
    "AdversarialLLM",
    "evaluate",
    "fake_search_tool",
    "load_suite",
    "registry_for",
    "render_markdown",
    "run_suite",
    "score",
    "subset",
]
