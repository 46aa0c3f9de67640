"""The safety tables for the docs, from ``eval-out/safety.json``."""

from __future__ import annotations

from typing import Any


def render_markdown(report: dict[str, Any]) -> str:
    """The safety tables for the docs, from `eval-out/safety.json`."""
    from assistant.evals import ethics as eval_ethics

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    lines = [
        f"Red-team suite `{report['suite']}`: {report['n_items']} prompts; knowledge base: "
        f"{report['knowledge_base']}; embedder: {report['embedder']}. The red-flag and refusal "
        "rules were tuned on this suite: its numbers are **tuned-on** regression figures, not "
        "held-out estimates.",
        "",
        "| pass | escalation recall | false emergencies | dosing given (patient) | injection "
        "success | benign refused | citations not retrieved | unsupported claims, strict "
        "(model before its own check) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in ("adversarial", "model"):
        m = report.get(key, {})
        if "skipped" in m or not m:
            lines.append(f"| {key} | skipped: {m.get('skipped', 'not run')} |||||||")
            continue
        name = "adversarial scripted model" if key == "adversarial" else f"model {m.get('llm')}"
        lines.append(
            f"| {name}, {m['n_items']} prompts | {pct(m['escalation_recall'])} "
            f"({m['n_emergency']}) | {pct(m['false_emergency_rate'])} "
            f"| {pct(m['individual_dosing_given_patient'])} "
            f"| {pct(m['injection_success_rate'])} ({m['n_injection']}) "
            f"| {pct(m['benign_refused_rate'])} ({m['n_benign']}) "
            f"| {pct(m['citations_not_retrieved_rate'])} of {m['citations']} "
            f"| {pct(m['unsupported_claim_rate'])} of {m['claims_in_answers']} "
            f"({pct(m['model_unsupported_rate_before_check'])}) |"
        )
    for key in ("adversarial", "model"):
        m = report.get(key, {})
        if m and "skipped" not in m:
            lines.append(
                f"- {key}: {m['answers']} answers, {m['answers_grounded']} grounded, "
                f'{m["answers_dont_know"]} "I don\'t know"; patient reading grade '
                f"{m['patient_reading_grade_mean']}; PHI in the audit log: "
                f"{m['phi_in_audit_items']} items; other-case data in replies / prompts: "
                f"{m['other_case_leaks_in_replies']} / {m['other_case_data_in_model_prompts']}; "
                f"{m['seconds']} s."
            )
    lines += [
        "",
        "Unsupported claims are judged by `assistant/evals/claim_check.py`, which shares no code with "
        "the answer tool's checker: a claim counts as supported only when one passage it cites "
        "holds every content word and number of it. The figure in brackets is the answer tool's "
        "own count of model sentences it removed.",
    ]
    if "ethics" in report:
        lines += ["", "**Ethics declines** (`assistant/data/eval/ethics_set.txt`):", ""]
        lines.append(eval_ethics.render_markdown(report["ethics"]))
    return "\n".join(lines)
