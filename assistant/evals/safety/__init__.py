"""`clinassist eval safety` (the red-team suite) and `clinassist bench answer`: ``suite`` (the
suite, its fixture knowledge base, the adversarial model), ``scoring`` (metrics from the turns),
``run`` (the passes and their targets), ``bench`` (answer latency), ``render`` (docs tables)."""

from assistant.evals.safety.bench import bench_answer
from assistant.evals.safety.render import render_markdown
from assistant.evals.safety.run import evaluate, run_suite, subset
from assistant.evals.safety.scoring import score
from assistant.evals.safety.suite import AdversarialLLM, fake_search_tool, load_suite, registry_for

__all__ = [
    "AdversarialLLM",
    "bench_answer",
    "evaluate",
    "fake_search_tool",
    "load_suite",
    "registry_for",
    "render_markdown",
    "run_suite",
    "score",
    "subset",
]
