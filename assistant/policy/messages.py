"""Every user-facing text in one place (front ends and the agent import from here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.schema import Turn

DISCLAIMER_CLINICIAN = (
    "Decision support, not a diagnosis: verify against the source and your own judgement."
)
DISCLAIMER_PATIENT = (
    "This is general information, not a diagnosis or medical advice for you personally. "
    "Please talk to a doctor, nurse or pharmacist about your own situation."
)

GREETING = {
    "clinician": (
        "Hello. Paste a report, attach an image (/attach PATH), or ask a clinical question. "
        "Type /help for commands."
    ),
    "patient": (
        "Hello, I'm a virtual assistant that can share general health information and help "
        "you decide where to get care. I can't examine you or diagnose you. "
        "What would you like to ask? If this is an emergency, call your local emergency number now."
    ),
}

THANKS = "You're welcome."

HELP = """Commands:
  /case ID        switch to (or start) case ID
  /mode M         set this case's mode: clinician or patient
  /attach PATH    attach an image (PNG, JPEG, DICOM) or a report (txt, md, pdf) to the next message
  /history        show this case's turns
  /reset          start this case over (asks first)
  /status         the knowledge base: ready, or still being built (and how far)
  /help           this help
  /quit           leave (the case is saved)
Anything else is sent to the assistant."""

CAPABILITIES = (
    "I can read radiology and clinical reports (entities, negation, uncertainty), look at "
    "attached chest X-rays, and answer questions from a cited knowledge base. "
    "I do not diagnose; I support your judgement."
)

OFF_TOPIC = (
    "I can only help with clinical and health questions. Try asking about a report, an image "
    "or a medical topic."
)

DONT_KNOW = (
    "I don't know: I found nothing in my sources that answers this well enough, and I won't "
    "guess. Try rephrasing, ask about a specific condition or finding, or check a clinical "
    "reference or a colleague."
)

DONT_KNOW_PATIENT = (
    "I don't know the answer to that from the sources I have, and I don't want to guess about "
    "your health. A pharmacist, nurse line or your doctor can help with this question."
)

NO_CASE_FINDINGS = (
    "This case has no report or image results yet. Paste a report or attach an image first."
)

TOOL_UNAVAILABLE = "{tool} is not available yet: {reason}"

NEEDS_REVIEW = "Low confidence: a clinician should review this."

NEEDS_REVIEW_PATIENT = (
    "I'm not confident about this answer, so please check it with a doctor, nurse or pharmacist."
)

# Why confidence is low, in words a reader can act on (keys are Safety.reasons prefixes).
REVIEW_REASONS = {
    "weak_retrieval": "the sources found only weak matches",
    "no_supporting_evidence": "no source supported an answer",
    "unsupported_removed": "some generated statements had no support in the sources and were removed",
    "ood_image": "an image is not a kind the image model was made for",
    "conflicting_findings": "the case has conflicting findings ({detail})",
    "tool_failed": "a tool did not run ({detail})",
    "low_confidence": "a tool reported low confidence ({detail})",
    "injection_ignored": "instructions found inside a report or source were ignored",
}

CRISIS = {
    "clinician": (
        "Possible risk of suicide or self-harm: assess immediate safety now and follow your "
        "local protocol; do not leave the person alone if the risk is immediate."
    ),
    "patient": (
        "If you might act on thoughts of ending your life or hurting yourself, call your local "
        "emergency number now. You can also call or text 988 (Suicide & Crisis Lifeline, US), "
        "call Samaritans on 116 123 (UK and Ireland), or find a helpline at findahelpline.com. "
        "You don't have to go through this alone; please reach out to someone now."
    ),
}
# what a later turn's standing emergency names when the case's thoughts of suicide or self-harm
# hold it (assistant/graph.py); the crisis lines above follow it
CRISIS_REASON = "thoughts of suicide or self-harm"

# Virtual-doctor intake: what a triage nurse asks, then where to get care.
TRIAGE_QUESTIONS = (
    "To help you decide where to get care, think about: When did this start, and is it getting "
    "better or worse? How bad is it from 0 to 10? Do you have any warning signs such as trouble "
    "breathing, chest pain, fainting, confusion, a high fever, or bleeding that won't stop?"
)

CARE_LEVELS = (
    "Where to go: call your emergency number for any warning sign above. See a doctor or urgent "
    "care today if it is severe, getting worse, or you are worried. Otherwise a pharmacist or "
    "your regular doctor can help in the next few days."
)

UNSUPPORTED_REMOVED = "(Some statements were left out because my sources did not support them.)"

EMERGENCY = {
    "clinician": "Possible emergency ({reasons}): follow your emergency protocol now; do not wait for this assistant.",
    "patient": (
        "This could be an emergency ({reasons}). Call your local emergency number (911 in the US, "
        "112 in Europe, 999 in the UK) or go to the nearest emergency department now. "
        "Do not wait for an online answer."
    ),
}

REFUSE_DOSING_PATIENT = (
    "I can't recommend a dose or tell you to start, stop or change a medicine: that depends on "
    "you and needs someone who knows your history. Please ask your pharmacist or doctor; the "
    "medicine's leaflet also lists the usual dose."
)

REFUSE_DIAGNOSIS_PATIENT = (
    "I can't tell you what you have: that needs someone who can examine you. I can share general "
    "information and help you decide how soon to get care."
)

REFUSE_INJECTION = (
    "I can't do that: I follow fixed safety rules and only answer about this case. "
    "Ask a clinical question instead."
)

REFUSE_OTHER_CASES = (
    "I can't share anything from other cases or patients. Each case is kept separate."
)

# Errors (one line each: what was wrong, what to do).
ERR_EMPTY = "The message is empty: type a question, paste a report, or attach a file."
ERR_TOO_LONG = (
    "The message is {size:,} characters, over the limit of {limit:,}: send the relevant part, "
    "or attach the document as a file."
)
ERR_NOT_TEXT = (
    "The message holds bytes that are not text (at character {pos}): send it as UTF-8 text."
)
ERR_ATTACH_MISSING = "Cannot attach {path}: no such file. Check the path and try again."
ERR_ATTACH_NOT_FILE = "Cannot attach {path}: it is not a regular file."
ERR_ATTACH_TOO_BIG = "Cannot attach {path}: {size:,} bytes is over the {limit:,}-byte limit."
ERR_ATTACH_TYPE = (
    "Cannot attach {path}: unsupported file type. Attach PNG, JPEG or DICOM images, or "
    "txt, md or pdf reports."
)
ERR_ATTACH_UNREADABLE = "Cannot attach {path}: {reason}. Check the file's permissions."
ERR_ATTACH_NOT_IN_CASE = (
    "Attachment {sha}… is not attached to this case: attach the file again in this case."
)
ERR_ATTACH_TOO_MANY = "Too many attachments ({count}); at most {limit} per message."
ERR_UNKNOWN_COMMAND = "Unknown command {command}: type /help for the list of commands."
ERR_CASE_ID = (
    "Invalid case id {case_id!r}: use 1-200 letters, digits, and . _ : - (for example bed-12)."
)
ERR_CASE_NOT_FOUND = "No case {case_id!r}: `clinassist cases` lists the cases."
ERR_MODE = "Unknown mode {mode!r}: use clinician or patient."
ERR_INTERNAL = "Something went wrong on our side ({error}); the case is unchanged. Try again, or run with --debug."

# Virtual-doctor triage (tools/triage): the level first, in words a patient understands.
TRIAGE_LEVEL = {
    "emergency": (
        "Where to get care: EMERGENCY. Call your local emergency number (999 in the UK, 911 in "
        "the US, 112 in Europe) or go to the nearest emergency department now."
    ),
    "urgent": (
        "Where to get care: TODAY. Get medical help within the next few hours: ask your GP "
        "surgery for an urgent same-day appointment, or contact an urgent care or out-of-hours "
        "service (NHS 111 in England)."
    ),
    "routine": (
        "Where to get care: SEE YOUR DOCTOR SOON. Book an appointment with your own doctor (GP) "
        "in the next few days. This does not need emergency care."
    ),
    "self_care": (
        "Where to get care: HOME CARE. This can usually be looked after at home, and a "
        "pharmacist can advise on remedies."
    ),
}
TRIAGE_LEVEL_SHORT = {
    "emergency": "Emergency: call the emergency number now",
    "urgent": "Urgent: get seen today",
    "routine": "See your own doctor in the next few days",
    "self_care": "Home care or a pharmacist",
}
TRIAGE_LEVEL_CLINICIAN = {
    "emergency": "emergency (ambulance / emergency department now)",
    "urgent": "urgent (seen within 24 hours)",
    "routine": "routine (own doctor within days to weeks)",
    "self_care": "self-care (home or pharmacist)",
}
# A later message in the same conversation (nothing new triaged, or a new complaint's lower or
# provisional level): an earlier emergency or same-day decision still stands and is said again.
TRIAGE_STANDING = {
    "emergency": (
        "Earlier in this conversation you described warning signs ({reasons}). If that is still "
        "going on, call your local emergency number (999 in the UK, 911 in the US, 112 in "
        "Europe) or go to the nearest emergency department now; do not wait for an online answer."
    ),
    "urgent": (
        "My earlier advice still stands: from what you described ({reasons}), you should be seen "
        "today (an urgent GP appointment, an urgent care or out-of-hours service, NHS 111)."
    ),
}
TRIAGE_ASK = "To suggest where to get care, I need to check first:"
TRIAGE_ASK_SAFETY = "If any of these happen while we talk, call your emergency number now: {items}."
TRIAGE_BUNDLE_QUESTION = "Is any of this happening now: {items}?"
TRIAGE_WHY = "Why: {reasons}."
TRIAGE_NOT_RULED_OUT = "I could not rule out {items}, so I have erred on the side of caution."
TRIAGE_NET_EMERGENCY = "Call your emergency number at once if: {items}."
TRIAGE_NET_URGENT = "Get medical help today (GP, urgent care or NHS 111) if: {items}."
TRIAGE_NET_REVIEW = "See a doctor {review}, or sooner if it gets worse or you are worried."
TRIAGE_NET_ROUTINE = "If it gets worse before your appointment, get help sooner."
TRIAGE_NO_COMPLAINT = (
    "I couldn't tell what the main problem is. In a few words: what is bothering you (or the "
    "person you're asking about) most, and since when?"
)
TRIAGE_INVITE = (
    "If you have symptoms you are worried about, tell me what they are, since when and how bad "
    "they are, and I will help you decide where to get care."
)
TRIAGE_ABOUT = "About {title} [{n}]: {text}"
TRIAGE_CLINICIAN = (
    "Triage (rule-based decision support, not a diagnosis): {level}. Reasons: {reasons}."
)
TRIAGE_CLINICIAN_MISSING = "Not yet established: {items}."
TRIAGE_CLINICIAN_QUESTIONS = "Questions that would change the level: {items}"
TRIAGE_HISTORY_CHANGE = "triage: {old} -> {new}"
TRIAGE_UNEXPLAINED = "a problem behind words I could not place ({said})"
TRIAGE_UNCLEAR = "an answer was not understood, so this is not ruled out"
TRIAGE_HISTORY_LEVEL = "triage: {level}"
TRIAGE_HISTORY_ASKING = "{level} (asking)"
# Ethics declines (assistant/data/ethics_rules.yaml): one short reason per AMA principle.
REFUSE_ETHICS = (
    "I can't help with that: {reason} If you are dealing with a hard situation (a mistake, a "
    "difficult patient or colleague, a refusal, a safeguarding worry), I can help with how to "
    "handle it openly, document it and report it."
)
ETHICS_REASONS = {
    "I": "patients are owed compassionate care and respect; I won't help dismiss, demean, scare or harm them.",
    "II": "records and what patients are told must be honest; I won't help deceive patients or falsify or alter records.",
    "III": "I won't help get around the law or the rules that protect patients.",
    "IV": "patients' confidences, privacy and consent must be respected.",
    "V": "patients are entitled to honest information about their care and to other opinions.",
    "VI": "care must never be refused or rationed because of who a patient is.",
    "VII": "public health depends on honest reporting and accurate information.",
    "VIII": "the patient's interest comes first; I won't help exploit patients or profit at their expense.",
    "IX": "access to care, and emergency care above all, must not be denied.",
}
# Report observations (the 14 ChestX-ray14 findings + No Finding) and the image second reader.
OBSERVATIONS = "Observations: {items}"
OBSERVATIONS_NONE = "Observations: none of the 14 chest X-ray findings is mentioned"
SECOND_READER_NOT_MENTIONED = "The report does not mention {what}; the image model gives {shown}."
SECOND_READER_REPORT_NORMAL = (
    "Discrepancy: the report describes no abnormal finding; the image model gives {shown} — "
    "consider review."
)
SECOND_READER_REPORT_POSITIVE = (
    "Discrepancy: the report describes {what} ({evidence}); the image model gives {shown} — "
    "consider review."
)
SECOND_READER_REPORT_NEGATIVE = (
    "Discrepancy: the report says no {what} ({evidence}); the image model gives {shown} — "
    "consider review."
)
SECOND_READER_REPORT_UNCERTAIN = (
    "The report is uncertain about {what} ({evidence}); the image model gives {shown}."
)
SECOND_READER_AGREES = "Agrees with the report ({what}); the image model gives {shown}."
# Knowledge answers to "what is the differential for ..." (tools/answer/): the knowledge base
# holds consumer-health and term sources, no clinical differential-diagnosis source.
DIFFERENTIAL_SCOPE = (
    "Not a differential diagnosis: the knowledge base has no clinical differential source. "
    "Causes listed by a consumer-health page (unranked, not specific to this patient):"
)
DIFFERENTIAL_NONE = (
    "I can't give a differential: the knowledge base has no clinical differential-diagnosis "
    "source, and no retrieved page lists causes of this. Check a clinical reference."
)


# The knowledge base built in the background (knowledge/kb/build.py)
KB_BUILDING = (
    "The knowledge base is still being built ({detail}), so I cannot search it yet. "
    "Ask again in a few minutes; /status in the REPL shows the progress."
)
KB_BUILD_STARTED = (
    "The knowledge base is being built in the background (a few minutes, once). You can "
    "start now; questions that need it will say so until it is ready. /status shows progress."
)
KB_STATUS = {
    "ready": "Knowledge base: ready.",
    "building": "Knowledge base: still being built ({detail}).",
    "done": "Knowledge base: ready ({detail}).",
    "failed": "Knowledge base: the last build failed ({detail}): run `clinassist kb ingest`.",
    "interrupted": "Knowledge base: the last build stopped at {detail}: run `clinassist kb ingest`.",
    "missing": "Knowledge base: not built: run `clinassist kb ingest` (a few minutes, once).",
}


def triage_trail(turns: list[Turn]) -> list[str | None]:
    """Per turn, how the triage level changed ("routine (asking) -> self_care"), for history."""
    out: list[str | None] = []
    prev: str | None = None
    for turn in turns:
        t = turn.triage
        if t is None:
            out.append(None)
            continue
        now = TRIAGE_HISTORY_ASKING.format(level=t.level) if t.provisional else t.level
        if prev and prev != now:
            out.append(TRIAGE_HISTORY_CHANGE.format(old=prev, new=now))
        else:
            out.append(TRIAGE_HISTORY_LEVEL.format(level=now))
        prev = now
    return out


# -- Slack (assistant/slack: the thread is the case) -------------------------------------------
SLACK_WORKING = ":hourglass_flowing_sand: Working on it…"
SLACK_STREAMING = ":hourglass_flowing_sand: still writing; sources and checks follow…"
SLACK_STATUS = "is thinking…"
SLACK_FAILED = (
    "Sorry, something went wrong while answering in this case, and nothing from this message "
    "was stored. Please try again; other cases are not affected."
)
SLACK_BUSY = "I'm handling too many requests right now. Please try again in a minute."
SLACK_NOT_ALLOWED_TEAM = "I'm not enabled for this workspace ({team}). Ask your Slack admin to add it to the allowed workspaces."
SLACK_NOT_ALLOWED_CHANNEL = (
    "Sorry, I can't work in this channel: it is not on my list of approved channels, so that "
    "patient information stays where it is allowed. Ask your admin to add it, or use an approved channel."
)
SLACK_NOT_ALLOWED_USER = (
    "Sorry, you are not on the list of people approved to use me. Ask your admin for access."
)
SLACK_FILE_SKIPPED = "I could not use the file *{name}*: {reason}"
SLACK_FILE_TOO_MANY = "too many files in one message"
SLACK_NO_INPUT = "Mention me with a question, paste a report, or attach an image or report file."
SLACK_HEATMAP_TITLE = "Grad-CAM heatmap: {label}"
SLACK_HEATMAP_ATTACHED = "Grad-CAM heatmap: attached in this thread."
SLACK_HEATMAP_ALT = "Grad-CAM heatmap: the regions that most influenced the image model"
SLACK_EMERGENCY_HEADER = ":rotating_light: Possible emergency"
SLACK_EMERGENCY_FALLBACK = "Possible emergency: act on your emergency protocol now."
SLACK_EMPTY_REPLY = "(empty reply)"
SLACK_ASSISTANT_PROMPTS = [
    {
        "title": "Read a report",
        "message": "FINDINGS: Small left pleural effusion. No pneumothorax.",
    },
    {"title": "Ask a question", "message": "What are the causes of a pleural effusion?"},
    {"title": "What can you do?", "message": "What can you do?"},
]
SLACK_HELP = """*Clinassist in Slack* (decision support, not a diagnosis)
• Mention me in a channel (or DM me) to start a case: the thread *is* the case.
• Reply in the thread to continue it; attach chest X-rays (PNG, JPEG, DICOM) or reports (txt, pdf).
• `/clinassist case` lists this channel's cases; `/clinassist case THREAD_TS` shows one of them.
• `/clinassist mode` shows this channel's mode; `/clinassist mode clinician|patient` changes it
  (a channel fixed by the configuration, or a patient channel going to clinician mode, needs an admin).
• `/clinassist help` shows this help."""
SLACK_UNKNOWN_SUBCOMMAND = "Unknown command `{sub}`. Valid: case, mode, help.\n\n"
SLACK_OTHER_CHANNEL = (
    "That case belongs to another channel, and cases can only be opened from their own channel."
)
SLACK_NO_CASE = "There is no case for thread {ts} in this channel."
SLACK_NO_CASES = "There are no cases in this channel yet. Mention me to start one."
SLACK_CASES_HEADER = "*Cases in this channel* ({count}):"
SLACK_CASES_LINE = "• thread `{ts}`: {turns} turn(s), {mode} mode, last {when}"
SLACK_CASE_SHOW = "*Case* thread `{ts}` ({mode} mode, {count} turn(s)). Last answer:\n>{last}"
SLACK_MODE_SHOW = "Mode in this channel: *{mode}*{pinned}."
SLACK_MODE_PINNED = " (fixed by the admin configuration)"
SLACK_MODE_SET = (
    "Mode in this channel is now *{mode}*; it applies to every case here from the next message."
)
SLACK_MODE_LOCKED = (
    "The mode of this channel is fixed by the admin configuration ({mode}); only a Slack admin "
    "listed in the configuration (slack.admins) can change it from Slack."
)
SLACK_MODE_OVERRIDDEN = " (an admin changed it from the configured mode)"
SLACK_MODE_ADMIN_ONLY = (
    "This channel is patient-facing: only a Slack admin listed in the configuration "
    "(slack.admins) can switch it to clinician mode."
)

NO_SECTION = (
    'The passages I found say nothing on "{section}" for {topic}, so this does not answer '
    "that part of your question. What they do say about {topic}:"
)
"""Said before a quoted answer when the question asks for one kind of information
(treatment, causes, ...) and no retrieved passage about the topic gives it."""
