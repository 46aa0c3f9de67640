"""`clinassist bench ner`: reports/second and memory on radlabels' 1,000 synthetic reports,
ours vs the medspaCy-default baseline (same target terms) in the same run: one ``nlp(text)``
call per report, and ``nlp.pipe`` batching; then ours end to end (entities and report-level
observations, what ``extract_entities`` and ``clinassist ner`` return) on 1,000 real OpenI
reports."""

from __future__ import annotations

import time
from typing import Any

from assistant.core.config import Settings
from assistant.core.types import Echo
from knowledge.nlp.gold import radlabels_reports_dir

BATCH_SIZE = 64


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def reports(n: int) -> list[str]:
    files = sorted(radlabels_reports_dir().glob("*.txt"))[:n]
    return [f.read_text(encoding="utf-8") for f in files]


def _throughput(nlp: Any, texts: list[str]) -> dict[str, float]:
    nlp(texts[0])  # warm
    t0 = time.perf_counter()
    for t in texts:
        nlp(t)
    single = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in nlp.pipe(texts, batch_size=BATCH_SIZE):
        pass
    piped = len(texts) / (time.perf_counter() - t0)
    cpu = len(texts) / max(time.process_time() - c0, 1e-9)
    # docs per CPU-second of this process: less sensitive to other jobs on a shared machine
    return {
        "single_docs_per_s": round(single, 1),
        "pipe_docs_per_s": round(piped, 1),
        "pipe_docs_per_cpu_s": round(cpu, 1),
    }


def _end_to_end(nlp: Any, texts: list[str]) -> dict[str, float]:
    """Reports/s for the full result (entities + observations + summary), ``nlp.pipe`` batched."""
    from knowledge.nlp.pipeline import result_of

    t0 = time.perf_counter()
    c0 = time.process_time()
    for doc, text in zip(nlp.pipe(texts, batch_size=BATCH_SIZE), texts, strict=True):
        result_of(doc, text)
    return {
        "docs_per_s": round(len(texts) / (time.perf_counter() - t0), 1),
        "docs_per_cpu_s": round(len(texts) / max(time.process_time() - c0, 1e-9), 1),
    }


def openi_texts(n: int) -> list[str]:
    from knowledge.nlp.openi import load, report_text

    return [report_text(r) for r in load("dev")[:n]]


def bench(settings: Settings, *, quick: bool = False, echo: Echo = print) -> dict[str, Any]:
    from knowledge.nlp import load_pipeline
    from knowledge.nlp.baseline import build_baseline

    texts = reports(200 if quick else 1000)
    chars = sum(len(t) for t in texts)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    nlp = load_pipeline(settings)
    load_s = time.perf_counter() - t0
    rss1 = _rss_mb()
    ours = _throughput(nlp, texts)
    t0 = time.perf_counter()
    base = build_baseline(nlp.get_pipe("lexicon").lexicon)  # type: ignore[attr-defined]
    base_load_s = time.perf_counter() - t0
    rss2 = _rss_mb()
    baseline = _throughput(base, texts)
    out = {
        "reports": len(texts),
        "mean_chars": round(chars / len(texts)),
        "clinassist": {**ours, "load_s": round(load_s, 2), "rss_mb": round(rss1 - rss0, 1)},
        "baseline_medspacy_default": {
            **baseline,
            "load_s": round(base_load_s, 2),
            "rss_mb": round(rss2 - rss1, 1),
        },
        "lexicon_terms": nlp.meta["lexicon"]["terms"],
    }
    real = openi_texts(200 if quick else 1000)
    out["end_to_end_openi"] = {
        "reports": len(real),
        "mean_chars": round(sum(len(t) for t in real) / len(real)),
        **_end_to_end(nlp, real),
    }
    out["end_to_end_radlabels"] = {"reports": len(texts), **_end_to_end(nlp, texts)}
    ratio = ours["pipe_docs_per_s"] / max(baseline["pipe_docs_per_s"], 1e-9)
    out["speedup_vs_baseline"] = round(ratio, 2)
    echo(
        f"ner on {len(texts)} reports (~{out['mean_chars']} chars): ours {ours['single_docs_per_s']} docs/s single, "
        f"{ours['pipe_docs_per_s']} docs/s nlp.pipe; baseline {baseline['single_docs_per_s']} / "
        f"{baseline['pipe_docs_per_s']} docs/s (x{out['speedup_vs_baseline']}); per CPU-second: ours "
        f"{ours['pipe_docs_per_cpu_s']}, baseline {baseline['pipe_docs_per_cpu_s']}; load {out['clinassist']['load_s']} s "
        f"(cached lexicon), +{out['clinassist']['rss_mb']} MB RSS; baseline build {out['baseline_medspacy_default']['load_s']} s"
    )
    e2e, e2r = out["end_to_end_openi"], out["end_to_end_radlabels"]
    echo(
        f"ours end to end (entities + observations): {e2e['docs_per_s']} reports/s on {e2e['reports']} OpenI "
        f"reports (~{e2e['mean_chars']} chars; {e2e['docs_per_cpu_s']} per CPU-s), {e2r['docs_per_s']} on radlabels "
        f"({e2r['docs_per_cpu_s']} per CPU-s)"
    )
    return out
