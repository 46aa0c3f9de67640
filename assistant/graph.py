"""The agent as a LangGraph state graph.

    guard_in -> route -> act -> respond        (guard_in -> respond when it stops the turn)

Nodes are functions ``TurnState -> partial TurnState``. Dependencies are bound by
:func:`build_graph`; per-turn callables (token streaming, blob loading) come in
``config["configurable"]``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from assistant import messages, safety
from assistant.config import Settings
from assistant.router import Router, looks_like_report
from assistant.schema import Citation, Safety, ToolCall
from assistant.state import CaseState, TurnState
from tools.base import Resources, ToolContext
from tools.registry import ToolRegistry

MAX_FINDINGS = 300
MAX_IMAGES = 50


def build_graph(
    *, settings: Settings, registry: ToolRegistry, router: Router, resources: Resources
) -> CompiledStateGraph:
    def guard_in(state: TurnState) -> dict[str, Any]:
        text, mode = state["text"], state["mode"]
        verdict = Safety()
        redaction = safety.redact_phi(text)
        if redaction.changed:
            verdict.flag("phi_in_message:" + ",".join(redaction.kinds), phi_redacted=True)
        update: dict[str, Any] = {"safety": verdict, "redacted_text": redaction.text, "stop": False}

        flags = safety.red_flags(text)
        if flags:
            names = ", ".join(f.name for f in flags)
            for f in flags:
                verdict.flag(f"red_flag:{f.id}", emergency=True)
            update["reply"] = messages.EMERGENCY[mode].format(reasons=names)
            if mode == "patient":  # escalate before any model runs
                update.update(stop=True, intent="emergency")
                return update

        report = looks_like_report(text, settings.router.report_min_chars)
        refusal = None
        if safety.asks_for_other_cases(text):
            refusal, reason = messages.REFUSE_OTHER_CASES, "other_cases"
        elif safety.is_injection(text) and not report:
            refusal, reason = messages.REFUSE_INJECTION, "prompt_injection"
        elif mode == "patient" and safety.asks_for_dosing(text):
            refusal, reason = messages.REFUSE_DOSING_PATIENT, "individual_dosing"
        if refusal is not None:
            verdict.flag(reason, refused=True)
            prefix = update.get("reply")
            update.update(
                stop=True, intent="refused", reply=f"{prefix}\n\n{refusal}" if prefix else refusal
            )
        return update

    def route(state: TurnState) -> dict[str, Any]:
        plan = router.plan(state["text"], state.get("attachments", []), state["case"])
        return {"intent": plan.intent, "plan": plan.steps}

    def act(state: TurnState, config: RunnableConfig) -> dict[str, Any]:
        conf = config.get("configurable", {})
        case: CaseState = state["case"]
        ctx = ToolContext(
            case_id=state["case_id"],
            mode=state["mode"],
            settings=settings,
            resources=resources,
            case=case,
            load_blob=conf["load_blob"],
            attachments=list(state.get("attachments", [])),
            on_token=conf.get("on_token"),
        )
        names = {a.sha256: a.name for a in ctx.attachments}
        for a in case.get("attachments", []):
            names.setdefault(a["sha256"], a["name"])
        for step in state.get("plan", []):
            call = registry.call(step["name"], step["args"], ctx)
            ctx.turn_calls.append(call)
            if call.ok and call.result is not None:
                _remember(case, call, names)
        return {"tool_calls": ctx.turn_calls, "case": case}

    def respond(state: TurnState) -> dict[str, Any]:
        verdict = state["safety"]
        mode = state["mode"]
        calls: list[ToolCall] = state.get("tool_calls", [])
        if state.get("stop"):
            return {"reply": state["reply"], "citations": [], "tool_calls": []}
        parts: list[str] = []
        citations: list[Citation] = []
        if verdict.emergency and state.get("reply"):
            parts.append(state["reply"])
        intent = state.get("intent", "")
        if not calls:
            parts.append(_canned(intent, mode))
        answered = any(c.name == "generate_answer" and c.ok for c in calls)
        for call in calls:
            text, cites = _render(call, mode, answered)
            if text:
                parts.append(text)
            citations.extend(cites)
            result = call.result or {}
            if not call.ok and call.name in ("generate_answer", "classify_image"):
                verdict.flag(f"tool_failed:{call.name}", needs_review=True)
            if result.get("needs_review"):
                verdict.flag(f"low_confidence:{call.name}", needs_review=True)
            if call.name == "generate_answer" and call.ok and not result.get("grounded", True):
                verdict.flag("no_supporting_evidence", needs_review=True)
        if verdict.needs_review:
            parts.append(messages.NEEDS_REVIEW)
        if any(c.ok for c in calls):
            parts.append(messages.DISCLAIMER_PATIENT if mode == "patient" else messages.DISCLAIMER_CLINICIAN)
        if mode == "patient" and safety.asks_for_diagnosis(state["text"]) and not verdict.emergency:
            parts.insert(0, messages.REFUSE_DIAGNOSIS_PATIENT)
        unique = list({c.id: c for c in citations}.values())
        return {"reply": "\n\n".join(p for p in parts if p), "citations": unique}

    graph = StateGraph(TurnState)
    graph.add_node("guard_in", guard_in)
    graph.add_node("route", route)
    graph.add_node("act", act)
    graph.add_node("respond", respond)
    graph.add_edge(START, "guard_in")
    graph.add_conditional_edges(
        "guard_in", lambda s: "respond" if s.get("stop") else "route", ["respond", "route"]
    )
    graph.add_edge("route", "act")
    graph.add_edge("act", "respond")
    graph.add_edge("respond", END)
    return graph.compile()


def _remember(case: CaseState, call: ToolCall, names: dict[str, str]) -> None:
    """Keep what later turns may ask about (bounded)."""
    result = call.result or {}
    if call.name == "extract_entities":
        source = call.args.get("attachment") or "message"
        found = [dict(e, report=names.get(source, source)) for e in result.get("entities", [])]
        case["findings"] = (case.get("findings", []) + found)[-MAX_FINDINGS:]
    elif call.name == "classify_image":
        sha = call.args.get("attachment", "")
        entry = {k: v for k, v in result.items() if k != "heatmap_png"}
        entry.update(attachment=sha, name=names.get(sha, sha[:12]))
        case["images"] = (case.get("images", []) + [entry])[-MAX_IMAGES:]
    elif call.name == "generate_answer":
        case["last_answer"] = str(result.get("answer", ""))[:2000]


def _canned(intent: str, mode: str) -> str:
    if intent == "greeting":
        return messages.GREETING[mode]
    if intent == "thanks":
        return messages.THANKS
    if intent == "help":
        return f"{messages.CAPABILITIES}\n\n{messages.HELP}"
    if intent == "off_topic":
        return messages.OFF_TOPIC
    if intent == "empty":
        return messages.ERR_EMPTY
    return messages.CAPABILITIES


def _render(call: ToolCall, mode: str, answered: bool) -> tuple[str, list[Citation]]:
    """A tool call as reply text (and the citations it brings)."""
    if not call.ok:
        return (call.error or f"{call.name} failed"), []
    result = call.result or {}
    if call.name == "generate_answer":
        cites = [Citation(**c) for c in result.get("citations", [])]
        text = str(result.get("answer", ""))
        if cites:
            text += "\n\nSources: " + "; ".join(f"[{i}] {c.title} ({c.source})" for i, c in enumerate(cites, 1))
        return text, cites
    if call.name == "search_knowledge":
        if answered:
            return "", []
        hits = result.get("results", [])[:3]
        if not hits or result.get("abstain"):
            return (messages.DONT_KNOW_PATIENT if mode == "patient" else messages.DONT_KNOW), []
        cites = [Citation(id=h["id"], source=h.get("source", ""), title=h.get("title", ""), url=h.get("url")) for h in hits]
        lines = [f"[{i}] {h.get('title', '')}: {h.get('text', '')[:300]}" for i, h in enumerate(hits, 1)]
        return "Relevant passages:\n" + "\n".join(lines), cites
    if call.name == "extract_entities":
        if result.get("summary"):
            return str(result["summary"]), []
        ents = result.get("entities", [])
        if not ents:
            return "No clinical entities found in the report.", []
        return "Entities: " + "; ".join(f"{e['text']} ({e['label']})" for e in ents[:30]), []
    if call.name == "classify_image":
        if result.get("in_distribution") is False:
            return f"I can't assess this image: {result.get('reason', 'it is not a kind of image the model was made for')}.", []
        label = result.get("label")
        probs = result.get("probabilities", {})
        prob = probs.get(label) if label else None
        p = f" (probability {prob:.2f}{'' if result.get('calibrated') else ', uncalibrated'})" if isinstance(prob, float) else ""
        lines = [f"Image model ({result.get('model', '?')}): {label}{p}."]
        if result.get("heatmap"):
            lines.append(f"Grad-CAM heatmap: {result['heatmap']}")
        if result.get("comparison"):
            lines.append(str(result["comparison"]))
        return "\n".join(lines), []
    return "", []
