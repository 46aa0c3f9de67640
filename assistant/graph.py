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

from assistant.core.config import Settings
from assistant.core.errors import KnowledgeBuildingError
from assistant.core.schema import TRIAGE_RANK, Citation, Safety, ToolCall
from assistant.core.state import CaseState, TurnState
from assistant.policy import messages, safety
from assistant.router import Router, after_triage, looks_like_report
from tools.base import Resources, ToolContext
from tools.registry import ToolRegistry

MAX_FINDINGS = 300
MAX_IMAGES = 50
# An emergency or same-day triage decision stands for this many later patient turns (a question
# after "call 999" is answered with the emergency repeated, not as if it had never been said).
STANDING_TURNS = 5
# Thoughts of suicide or self-harm told in a case (the suicide red flag, or the triage rule on an
# answer such as "yes" to its question): the crisis lines follow every later patient reply, and
# the emergency they set does not lapse with the turn count, until a later final triage decision
# no longer holds it (NICE NG225 Self-harm; NHS Help for suicidal thoughts).
CRISIS_RED_FLAG = "red_flag:suicidal"
CRISIS_TRIAGE_RULE = "self_harm"


def build_graph(
    *, settings: Settings, registry: ToolRegistry, router: Router, resources: Resources
) -> CompiledStateGraph:
    def guard_in(state: TurnState) -> dict[str, Any]:
        """Input policy, before any model: PHI, red flags, unethical requests, other cases,
        injection, dosing."""
        text, mode = state["text"], state["mode"]
        verdict = Safety()
        redaction = safety.redact_phi(text, window=safety.PHI_WINDOW)
        if redaction.changed:
            verdict.flag("phi_in_message:" + ",".join(redaction.kinds), phi_redacted=True)
        update: dict[str, Any] = {"safety": verdict, "redacted_text": redaction.text, "stop": False}

        unethical = safety.ethics_violation(text)
        flags = safety.red_flags(text)
        if flags:
            names = ", ".join(f.name for f in flags)
            for f in flags:
                verdict.flag(f"red_flag:{f.id}", emergency=True)
            lead = messages.EMERGENCY[mode].format(reasons=names)
            suicidal = any(f.id == "suicidal" for f in flags)
            update["reply"] = "\n\n".join([lead, *_crisis_parts(suicidal, [lead], verdict, mode)])
            if suicidal and unethical is not None and mode != "patient":
                # "I want to kill myself" also reads as harm: it is a crisis, never answered
                # with the refusal for requests to harm someone; nothing else is said
                update.update(stop=True, intent="emergency")
                return update
            if mode == "patient" and (unethical is None or suicidal):
                # escalate before any model runs; nothing else is said
                update["intent"] = "emergency"
                if "triage" in registry:  # rules only: records the intake, adds reasons, never asks
                    update["plan"] = [{"name": "triage", "args": {"text": text}}]
                else:
                    update["stop"] = True
                return update

        report = looks_like_report(text, settings.router.report_min_chars)
        injection = safety.is_injection(text)
        refusal = None
        if unethical is not None:  # both modes, before retrieval or any model
            reason = f"ethics:{unethical.principle}:{unethical.id}"
            refusal = messages.REFUSE_ETHICS.format(
                reason=messages.ETHICS_REASONS[unethical.principle]
            )
        elif safety.asks_for_other_cases(text):
            refusal, reason = messages.REFUSE_OTHER_CASES, "other_cases"
        elif injection and not report:
            refusal, reason = messages.REFUSE_INJECTION, "prompt_injection"
        elif mode == "patient" and safety.asks_for_dosing(text):
            refusal, reason = messages.REFUSE_DOSING_PATIENT, "individual_dosing"
        if injection and report and refusal is None:
            # A report is data: it is read for entities, its instructions are never followed.
            verdict.flag("injection_ignored")
        if refusal is not None:
            verdict.flag(reason, refused=True)
            if reason == "individual_dosing" and "triage" in registry and not update.get("plan"):
                # A dose question inside a symptom story ("chest pressure, can I take a stronger
                # antacid?"): the dose is still refused, but the story is triaged first (rules
                # only: no model and no answer tool run); respond adds the refusal after it.
                update.update(intent="refused", plan=[{"name": "triage", "args": {"text": text}}])
                return update
            prefix = update.get("reply")
            update.update(
                stop=True, intent="refused", reply=f"{prefix}\n\n{refusal}" if prefix else refusal
            )
        return update

    def route(state: TurnState) -> dict[str, Any]:
        history = [m["content"] for m in state.get("history", []) if m["role"] == "user"]
        plan = router.plan(
            state["text"],
            state.get("attachments", []),
            state["case"],
            history,
            available=registry.names(),
        )
        return {"intent": plan.intent, "plan": plan.steps}

    def act(state: TurnState, config: RunnableConfig) -> dict[str, Any]:
        conf = config.get("configurable", {})
        on_token = conf.get("on_token")
        if on_token is not None and state["safety"].emergency and state.get("reply"):
            # a clinician-mode emergency: the banner reaches a streaming front end before any
            # tool or model output (respond puts it first in the reply too)
            on_token(f"{state['reply']}\n\n")
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
        steps = list(state.get("plan", []))
        while steps:
            step = steps.pop(0)
            call = registry.call(step["name"], step["args"], ctx)
            if state["safety"].refused and not _a_story(call):
                continue  # a bare dose question: the refusal alone, no intake started
            if step.get("draft") and call.ok and call.result:  # "what do you see?"
                from tools.image import with_draft

                call = call.model_copy(update={"result": with_draft(call.result)})
            ctx.turn_calls.append(call)
            if call.code == KnowledgeBuildingError.code:  # no "I don't know" meanwhile
                steps = [s for s in steps if s["name"] != "generate_answer"]
            if call.ok and call.result is not None:
                _remember(case, call, names)
                if call.name == "triage" and not (
                    state["safety"].emergency or state["safety"].refused
                ):
                    steps.extend(
                        after_triage(call.result, registry.names(), state["text"], state["mode"])
                    )
        return {"tool_calls": ctx.turn_calls, "case": case}

    def respond(state: TurnState) -> dict[str, Any]:
        """Output policy: emergency first, citations only to retrieved passages, patient-mode
        scrubbing, low confidence said in the reply, the disclaimer last."""
        verdict = state["safety"]
        mode = state["mode"]
        calls: list[ToolCall] = state.get("tool_calls", [])
        triaged = _triage_result(calls)
        crisis = _crisis(state["case"], verdict, triaged, mode)
        if state.get("stop"):
            said = [state["reply"]]  # a refusal on a later turn: led by the crisis lines
            return {
                "reply": "\n\n".join([*_crisis_parts(crisis, said, verdict, mode), *said]),
                "citations": [],
                "tool_calls": [],
                "safety": verdict,
                "case": state["case"],
            }
        parts: list[str] = []
        citations: list[Citation] = []
        if verdict.emergency and state.get("reply"):
            parts.append(state["reply"])
        if triaged is not None and triaged["level"] == "emergency" and not verdict.emergency:
            verdict.flag("triage:emergency", emergency=True)
            why = ", ".join(triaged.get("emergency_reasons", [])[:3]) or "warning signs"
            parts.append(messages.EMERGENCY[mode].format(reasons=why))
        diagnosis = (
            mode == "patient" and safety.asks_for_diagnosis(state["text"]) and not verdict.emergency
        )
        standing = _standing(state["case"], triaged, mode, hold=crisis)
        if standing is not None:
            if standing["level"] == "emergency" and not verdict.emergency:
                verdict.flag("triage:standing_emergency", emergency=True)
            if not (standing["level"] == "emergency" and state.get("reply")):
                template = messages.TRIAGE_STANDING[standing["level"]]
                parts.append(template.format(reasons=standing["why"]))
        parts.extend(_crisis_parts(crisis, parts, verdict, mode))
        if diagnosis and triaged is None:
            parts.append(messages.REFUSE_DIAGNOSIS_PATIENT)
        intent = state.get("intent", "")
        if not calls and not verdict.refused:
            parts.append(_canned(intent, mode))
        answered = any(c.name == "generate_answer" and c.ok for c in calls)
        retrieved = _retrieved_ids(calls)
        after = False
        quiet = any(  # self-care information after triage that found nothing
            c.name == "generate_answer" and not (c.ok and (c.result or {}).get("grounded"))
            for c in calls
        ) and any(c.name == "triage" for c in calls)
        for call in calls:
            if call.name == "triage" and call.ok:
                after = True
                parts.append(_render_triage(call, bool(verdict.emergency)))
                continue
            if after and quiet and call.name in ("search_knowledge", "generate_answer"):
                continue  # nothing found beside a triage reply: the triage reply stands alone
            if after and call.name == "search_knowledge" and not answered:
                text, cites = _render_triage_knowledge(call)
                if mode == "patient" and text:
                    text, _scrubbed = _scrub_patient(text)
                parts.append(text)
                citations.extend(c for c in cites if c.id in retrieved)
                continue
            text, cites = _render(call, mode, answered, invite=not after)
            kept = [c for c in cites if c.id in retrieved]
            if len(kept) < len(cites):
                verdict.flag("citation_not_retrieved", needs_review=True)
            if mode == "patient" and text:
                text, scrubbed = _scrub_patient(text)
                if scrubbed:
                    verdict.flag("patient_output_scrubbed")
            if text:
                parts.append(text)
            citations.extend(kept)
            _review(call, verdict)
        if calls:
            conflict = _conflicting_findings(state["case"])
            if conflict:
                verdict.flag(f"conflicting_findings:{conflict}", needs_review=True)
        if diagnosis and triaged is not None:
            parts.append(messages.REFUSE_DIAGNOSIS_PATIENT)
        if "individual_dosing" in verdict.reasons:
            parts.append(messages.REFUSE_DOSING_PATIENT)
        if verdict.needs_review:
            parts.append(_review_text(verdict, mode))
        if any(c.ok for c in calls):
            parts.append(
                messages.DISCLAIMER_PATIENT if mode == "patient" else messages.DISCLAIMER_CLINICIAN
            )
        unique = list({c.id: c for c in citations}.values())
        return {
            "reply": "\n\n".join(p for p in parts if p),
            "citations": unique,
            "safety": verdict,
            "triage": _triage_info(triaged)
            if triaged is not None or standing is None
            else standing["info"],
            "case": state["case"],
        }

    graph = StateGraph(TurnState)
    graph.add_node("guard_in", guard_in)
    graph.add_node("route", route)
    graph.add_node("act", act)
    graph.add_node("respond", respond)
    graph.add_edge(START, "guard_in")
    graph.add_conditional_edges(
        "guard_in",
        lambda s: "respond" if s.get("stop") else ("act" if s.get("plan") else "route"),
        ["respond", "route", "act"],
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
        if result.get("observations"):  # the newest report's observations replace older ones
            report = names.get(source, source)
            case["observations"] = [dict(o, report=report) for o in result["observations"]]
    elif call.name == "classify_image":
        sha = call.args.get("attachment", "")
        entry = {k: v for k, v in result.items() if k != "heatmap_png"}
        entry.update(attachment=sha, name=names.get(sha, sha[:12]))
        case["images"] = [*case.get("images", []), entry][-MAX_IMAGES:]
    elif call.name == "generate_answer":
        case["last_answer"] = str(result.get("answer", ""))[:2000]
    elif call.name == "triage":
        intake = result.pop("intake", None)  # kept in the case, not repeated in every turn
        if isinstance(intake, dict):
            case["intake"] = intake


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


def _retrieved_ids(calls: list[ToolCall]) -> set[str]:
    """Ids of the passages this turn's search_knowledge calls returned."""
    ids: set[str] = set()
    for call in calls:
        if call.name == "search_knowledge" and call.ok and call.result:
            ids.update(str(r.get("id")) for r in call.result.get("results", []))
    return ids


def _scrub_patient(text: str) -> tuple[str, bool]:
    """Drop sentences that give an individual dose or diagnosis (patient mode)."""
    bad = set(safety.dosing_sentences(text)) | set(safety.diagnosis_sentences(text))
    if not bad:
        return text, False
    lines = []
    for line in text.split("\n"):
        kept = [s for s in safety.split_sentences(line) if s not in bad]
        lines.append(" ".join(kept))
    return "\n".join(lines).strip(), True


def _review(call: ToolCall, verdict: Safety) -> None:
    """Low-confidence signals from one tool call."""
    result = call.result or {}
    if not call.ok and call.name in ("generate_answer", "classify_image"):
        verdict.flag(f"tool_failed:{call.name}", needs_review=True)
    if not call.ok:
        return
    if call.name == "search_knowledge" and (result.get("abstain") or result.get("needs_review")):
        verdict.flag("weak_retrieval", needs_review=True)
    elif result.get("needs_review") and call.name != "generate_answer":
        verdict.flag(f"low_confidence:{call.name}", needs_review=True)
    if call.name == "classify_image" and result.get("in_distribution") is False:
        verdict.flag("ood_image", needs_review=True)
    if call.name == "generate_answer":
        if not result.get("grounded", True):
            verdict.flag("no_supporting_evidence", needs_review=True)
        if result.get("removed"):
            verdict.flag("unsupported_removed", needs_review=True)
        if result.get("injection_ignored"):
            verdict.flag("injection_ignored")
        if result.get("needs_review") and not verdict.needs_review:
            verdict.flag("low_confidence:generate_answer", needs_review=True)


def _conflicting_findings(case: CaseState) -> str:
    """A finding both asserted and negated in this case's reports (names, comma-separated)."""
    present: set[str] = set()
    negated: set[str] = set()
    for ent in case.get("findings", []):
        if ent.get("label", "FINDING") != "FINDING" or ent.get("historical") or ent.get("family"):
            continue
        key = str(ent.get("normalized") or ent.get("text") or "").strip().lower()
        if not key:
            continue
        if ent.get("negated"):
            negated.add(key)
        elif not ent.get("uncertain"):
            present.add(key)
    return ", ".join(sorted(present & negated)[:3])


def _review_text(verdict: Safety, mode: str) -> str:
    why = []
    for reason in verdict.reasons:
        key, _, detail = reason.partition(":")
        template = messages.REVIEW_REASONS.get(key)
        if template:
            text = template.format(detail=detail) if "{detail}" in template else template
            if text not in why:
                why.append(text)
    head = messages.NEEDS_REVIEW_PATIENT if mode == "patient" else messages.NEEDS_REVIEW
    return f"{head} Why: {'; '.join(why)}." if why else head


def _a_story(call: ToolCall) -> bool:
    """A triage call that recognised a complaint (or an emergency) in the story."""
    result = call.result if call.ok and call.name == "triage" else None
    return bool(result and (result.get("understood") or result.get("level") == "emergency"))


def _triage_result(calls: list[ToolCall]) -> dict[str, Any] | None:
    for call in calls:
        if call.name == "triage" and call.ok and call.result and call.result.get("level"):
            return call.result
    return None


def _triage_info(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Turn's ``triage`` field: the level first, then why, what is missing, what to ask."""
    if result is None:
        return None
    keys = ("level", "provisional", "reasons", "missing", "next_questions", "safety_net")
    return {k: result.get(k) for k in keys}


def _crisis(case: CaseState, verdict: Safety, triaged: dict[str, Any] | None, mode: str) -> bool:
    """Whether this reply gives the crisis lines: on the turn that tells thoughts of suicide or
    self-harm (recorded in the case), and on every later patient turn while the record holds.
    It ends only with a final triage decision below emergency (the triage no longer holds the
    disclosure, e.g. a fresh intake): chit-chat, questions and refusals never end it."""
    rules = (triaged or {}).get("rules") or []
    if CRISIS_RED_FLAG in verdict.reasons or CRISIS_TRIAGE_RULE in rules:
        case["crisis"] = True
        return True
    if not case.get("crisis"):  # an older version kept a dict here: any record holds
        return False
    if (
        triaged is not None
        and not triaged.get("provisional")
        and TRIAGE_RANK.get(str(triaged.get("level")), 0) < TRIAGE_RANK["emergency"]
    ):
        case.pop("crisis", None)
        return False
    return mode == "patient"


def _crisis_parts(crisis: bool, said: list[str], verdict: Safety, mode: str) -> list[str]:
    """The one place a reply gets the crisis lines: none when this reply gives none (``crisis``)
    or ``said`` already holds them; the lines alone when the reply already says an emergency (the
    red flag's lead, a triage emergency or a standing one); else a standing emergency for
    thoughts of suicide or self-harm first (no standing decision says it), which ``verdict``
    records."""
    if not crisis or any(messages.CRISIS[mode] in part for part in said):
        return []
    if verdict.emergency:
        return [messages.CRISIS[mode]]
    verdict.flag("triage:standing_emergency", emergency=True)
    return [
        messages.TRIAGE_STANDING["emergency"].format(reasons=messages.CRISIS_REASON),
        messages.CRISIS[mode],
    ]


def _standing(
    case: CaseState, triaged: dict[str, Any] | None, mode: str, *, hold: bool = False
) -> dict[str, Any] | None:
    """Keep the case's latest final emergency or same-day decision, and return it while it still
    stands (at most ``STANDING_TURNS`` later patient turns, or as long as ``hold``: thoughts of
    suicide or self-harm in the case), else None. Only a final decision of the same or a higher
    level replaces it: a new complaint's provisional or lower level is triaged as usual, with the
    earlier decision still said (a chest-pain emergency is not forgotten because a sore throat
    was mentioned next)."""
    held = case.get("disposition")
    if held is not None and held.get("info", {}).get("level") not in messages.TRIAGE_STANDING:
        case.pop("disposition", None)  # written by an older version: only these levels stand
        held = None
    if triaged is not None:
        level = str(triaged.get("level"))
        final = not triaged.get("provisional")
        rank = TRIAGE_RANK.get(level, 0)
        if (
            level in messages.TRIAGE_STANDING
            and final
            and (held is None or rank >= TRIAGE_RANK[held["info"]["level"]])
        ):
            reasons = triaged.get("emergency_reasons") or triaged.get("reasons") or []
            info = _triage_info(triaged) or {}
            case["disposition"] = {
                "info": {**info, "next_questions": [], "standing": True},
                "why": ", ".join(str(r) for r in reasons[:3]) or "warning signs",
                "since": 0,
            }
            return None
    if mode != "patient" or held is None:
        return None
    held["since"] = int(held.get("since", 0)) + 1
    if held["since"] > STANDING_TURNS and not hold:
        case.pop("disposition", None)
        return None
    return {"level": held["info"].get("level"), "info": held["info"], "why": held["why"]}


def _render_triage(call: ToolCall, banner: bool) -> str:
    result = call.result or {}
    if banner and result.get("level") == "emergency":
        return str(result.get("reply_after_banner", ""))
    return str(result.get("reply", ""))


def _render_triage_knowledge(call: ToolCall) -> tuple[str, list[Citation]]:
    """After a home-care or see-your-doctor decision: the knowledge base's best passage about
    the main complaint, cited; nothing when retrieval abstained (no low-confidence noise)."""
    result = call.result or {}
    hits = result.get("results", []) if call.ok else []
    if not hits or result.get("abstain"):
        return "", []
    h = hits[0]
    text = safety.neutralize(str(h.get("text", "")))[0]
    sentences = safety.split_sentences(text)[:2]
    body = " ".join(sentences)[:400]
    cite = Citation(
        id=h["id"], source=h.get("source", ""), title=h.get("title", ""), url=h.get("url")
    )
    return messages.TRIAGE_ABOUT.format(title=h.get("title", ""), n=1, text=body), [cite]


def _render(
    call: ToolCall, mode: str, answered: bool, invite: bool = True
) -> tuple[str, list[Citation]]:
    """A tool call as reply text (and the citations it brings); ``invite``: a patient answer
    ends by inviting a symptom story (not beside a triage reply)."""
    if not call.ok:
        return (call.error or f"{call.name} failed"), []
    result = call.result or {}
    if call.name == "generate_answer":
        cites = [Citation(**c) for c in result.get("citations", [])]
        text = str(result.get("answer", ""))
        if cites:
            text += "\n\nSources: " + "; ".join(
                f"[{i}] {c.title} ({c.source})" for i, c in enumerate(cites, 1)
            )
        if mode == "patient" and result.get("triage") and invite:
            text += f"\n\n{messages.TRIAGE_INVITE}"
        return text, cites
    if call.name == "search_knowledge":
        if answered:
            return "", []
        hits = result.get("results", [])[:3]
        if not hits or result.get("abstain"):
            return (messages.DONT_KNOW_PATIENT if mode == "patient" else messages.DONT_KNOW), []
        cites = [
            Citation(
                id=h["id"], source=h.get("source", ""), title=h.get("title", ""), url=h.get("url")
            )
            for h in hits
        ]
        lines = [
            f"[{i}] {h.get('title', '')}: {safety.neutralize(str(h.get('text', '')))[0][:300]}"
            for i, h in enumerate(hits, 1)
        ]
        return "Relevant passages:\n" + "\n".join(lines), cites
    if call.name == "extract_entities":
        if result.get("summary"):
            text = str(result["summary"])
            if result.get("observations"):
                from knowledge.nlp.observations import observations_line

                text += "\n" + observations_line(result["observations"])
            return text, []
        ents = result.get("entities", [])
        if not ents:
            return "No clinical entities found in the report.", []
        return "Entities: " + "; ".join(f"{e['text']} ({e['label']})" for e in ents[:30]), []
    if call.name == "classify_image":
        if result.get("in_distribution") is False:
            return (
                f"I can't assess this image: {result.get('reason', 'it is not a kind of image the model was made for')}.",
                [],
            )
        label = result.get("label")
        probs = result.get("probabilities", {})
        prob = probs.get(label) if label else None
        p = (
            f" (probability {prob:.2f}{'' if result.get('calibrated') else ', uncalibrated'})"
            if isinstance(prob, float)
            else ""
        )
        draft = result.get("draft") or {}
        lines = [str(draft["text"])] if draft.get("text") else []
        lines.append(f"Image model ({result.get('model', '?')}): {label}{p}.")
        if result.get("heatmap"):
            lines.append(f"Grad-CAM heatmap: {result['heatmap']}")
        if result.get("comparison") and not draft:
            lines.append(str(result["comparison"]))
        return "\n".join(lines), []
    return "", []
