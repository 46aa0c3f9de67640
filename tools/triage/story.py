"""What kind of message this is: a general question with nobody in it ("what is a sore
throat?") or a person's health worry told in any words."""

from __future__ import annotations

import re

from assistant.policy.safety import educational

_QUESTION = re.compile(
    r"^\W*(?:is|are|can|could|does|do|how|what|why|when|which|should|will|would|who)\b.*\?\s*$",
    re.S,
)
_PERSON = re.compile(
    r"\b(?:i|i'm|i've|i'd|me|my|mine|myself|we|our|us|he|she|his|her|him|they|them|their"
    r"|son|daughter|wife|husband|mum|mom|dad|baby|kid|child|toddler|friend|partner)\b"
)


def general(norm: str) -> bool:
    return educational(norm) or bool(_QUESTION.match(norm) and not _PERSON.search(norm))


_HEALTH_CUES = re.compile(
    r"\b(?:feel|feels|feeling|felt|symptoms?|unwell|ill|poorly|worried|concerned|acting|behaving|doctor|gp"
    r"|hospital|a&e|hurts?|hurting|pain|aches?|sore|swollen|swelling|lump|bleed\w*|bump|injur\w*|fell"
    r"|fall|sick|temperature|weird|strange|funny|not\s+right|can.?t\s+(?:move|walk|breathe|see|hear|stop)"
    r"|won.?t\s+(?:move|wake|stop|eat|drink)|back|chest|head|tummy|stomach|belly|legs?|arms?"
    r"|knees?|foot|feet|hands?|eyes?|ears?|throat|neck|skin|mouth|tooth|teeth|fingers?|toes?"
    r"|wrists?|ankles?|hips?|shoulders?|bum|bottom|tongue|lips?|face|nose|pee|wee|poo|periods?"
    r"|pregnant|overdose|falls|falling"
    # more of the body and what happens to it (cuts, bites, burns, skin), and sexual-health worries
    r"|shins?|thighs?|calf|calves|elbows?|forearms?|ribs?|groin|testicles?|balls?|penis|vagina"
    r"|breasts?|nipples?|scalp|eyelids?|gums?|jaw|cheeks?|heels?|knuckles?|thumbs?|wounds?|cuts?"
    r"|scratch\w*|graz\w*|bit(?:e|ten)|stung|stings?|burn(?:t|ed|s)?|scald\w*|blisters?|rash\w*"
    r"|itch\w*|bruis\w*|infect\w*|red(?:ness)?|condom|hiv|unprotected|stis?|stds?|discharge"
    # the senses and bodily functions people ask to have checked ("get his hearing checked")
    r"|hearing|deaf|eyesight|sight|memory|forgetful|erections?|checked|check\s+(?:me|him|her|it)\s+over)\b"
)


def health_story(norm: str) -> bool:
    """A person (the writer or someone named) and a health worry, in any words."""
    return bool(_PERSON.search(norm) and _HEALTH_CUES.search(norm)) and not general(norm)
