"""How an answer reads: yes, no or "not sure" ("nope", "a bit", "dunno", "he's fine")."""

from __future__ import annotations

import re

NEG_START = re.compile(
    r"^\W*(?:no|nope|nah|none|nothing|never|neither|negative|not\s+(?:really|at\s+all|that\s+i\s+know"
    r"|that\s+i.?ve\s+noticed|any)|i\s+don.?t\s+think\s+so|no\s+not)\b"
)
_POS_START = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|yea|aye|ya|definitely|i\s+think\s+so|a\s+(?:bit|little)|sometimes|slightly"
    r"|kind\s+of|sort\s+of|it\s+does|(?:he|she|they|i)\s+(?:does|do|did|is|am|are|has|have)\b(?!\s+n)"
    r"|there\s+is|correct|now\s+you\s+mention\s+it|actually)\b"
)
# "a bit of bleeding, slowing down": some of it, but settling: a no to the severe form asked about
_MINOR_SETTLING = re.compile(
    r"^\W*(?:(?:just|only)\s+)?(?:a\s+)?(?:(?:tiny|little)\s+)?(?:bit|little|trickle|spot|small\s+amount)"
    r"\s+of\s+\w+\W+(?:[\w']+\s+){0,3}(?:slowing|stopped|stopping|easing|eased|settled|settling|drying)\b"
)
# a bleed that took longer than 10 minutes to stop, or that comes back, is not settled (NHS
# Nosebleed: A&E if it lasts longer than 10 to 15 minutes)
_NOT_SETTLED = (
    r"(?![\s\S]{0,80}\b(?:again|back|start\w*|keeps?|return\w*|hours?|hrs?|half\s+an\s+hour|ages|long\s+time|forever"
    r"|(?:1[1-9]|[2-9]\d|\d{3,})\s*(?:mins?|minutes)|(?:eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|sixty)\b)\b)"
)
# "stopped after 5 minutes", "it stops with pinching", "it's settled", "I can still eat and drink", "managing sips": the
# trouble asked about is not there now (a no to "bleeding that won't stop", "trouble swallowing")
_SETTLED = re.compile(
    r"^\W*(?:(?:it|he|she|they)\s+|it.?s\s+|(?:it\s+)?has\s+|(?:it\s+)?had\s+)?(?:all\s+)?"
    r"(?:stopped|settled|eased\s+off|cleared\s+up)\b" + _NOT_SETTLED + r"|"
    r"^\W*(?:it\s+)?(?:always\s+)?stops\s+(?:with|after|when|if|once)\b"
    + _NOT_SETTLED
    + r"[^.]{0,40}"
    r"\b(?:pinch\w*|press\w*|pressure|mins?|minutes)\b"
    r"|\b(?:can|could)\s+(?:still\s+)?(?:eat|drink|swallow)\b|\bmanaging\s+(?:small\s+)?sips\b"
    # round 12b: "only a bit of pink in the sink, stops straight away" (NHS Gum disease: bleeding
    # on brushing that stops is a dentist's matter, not a bleed that won't stop)
    r"|^\W*(?:(?:just|only)\s+)?(?:a\s+)?(?:(?:tiny|little)\s+)?(?:bit|little|spot|small\s+amount)\s+of"
    r"\s+\w+\W+(?:[\w']+\W+){0,5}stops\s+(?:straight\s+away|right\s+away|at\s+once|quickly|by\s+itself"
    r"|on\s+its\s+own)\b"
    + _NOT_SETTLED
    + r"|\bkeeping\s+(?:small\s+)?(?:sips|fluids|drinks|water|it)\s+down\b"
)
# "a bit quieter but still answers me", "a little faster but she is talking and playing": some
# change, but the person still responds, talks or plays normally - a no to the severe sign asked
# about (NICE NG143 green: responds normally to social cues, stays awake; BTS/SIGN: talking in
# sentences is not a severe attack)
_MINOR_BUT_NORMAL = re.compile(
    r"^\W*(?:(?:just|only)\s+)?a\s+(?:bit|little)\s+(?:quieter|quiet|tired|grumpy|clingy|faster|off|grizzly"
    r"|whingey|sleepier)(?:\s+than\s+(?:normal|usual))?,?\s+but\s+"
    r"(?:[\w']+\s+){0,3}?(?:still\s+)?(?:answer\w*|talk\w*|chat\w*|play\w*|respond\w*|watch\w*"
    r"|smil\w*|laugh\w*|awake|alert)\b"
)
# "a bit quieter but she's not answering", "still talking in odd words": a negator or odd speech
# anywhere in the answer means it is not the reassuring pattern above
_MINOR_BUT_NOT_NORMAL = re.compile(
    r"\b(?:not|never|barely|hardly|only|just\s+nodding)\b|\b(?:can|won|is|does)n.?t\b"
    r"|\bin\s+(?:odd|single|few|short)\s+words\b"
)
# round 12b: "yes can walk", "I can put my weight on it fine": the ability stated in the answer is a
# no to the inability asked about ("Is it impossible to walk on it or use it?"), unless the answer
# limits it ("only a few steps", "but it hurts too much": Ottawa ankle and foot rules count
# four steps; NICE CKS Sprains and strains)
_ABLE = re.compile(
    r"^\W*(?:(?:yes|yeah|yep)\W+)?(?:(?:i|he|she|they)\s+)?(?:can|could)\s+(?:still\s+)?"
    r"(?:walk|stand|put\s+(?:\w+\s+){0,2}weight|bear\s+weight|move\s+it|use\s+it)\b"
)
_ABLE_LIMITED = re.compile(
    r"\b(?:but|only|barely|hardly|few\s+steps|hop\w*|not|can.?t|cannot|with\s+help)\b"
)
# round 12b: "no I can't put any weight on it": the inability told in words is a yes to it, whatever
# the first word (the answer to "Is it impossible to walk on it?" may start with either)
_UNABLE = re.compile(
    r"^\W*(?:(?:no|nope|yes|yeah)\W+)?(?:(?:i|he|she|they)\s+)?(?:can.?t|cannot|couldn.?t|unable\s+to)"
    r"\s+(?:even\s+)?(?:walk|stand|put\s+(?:\w+\s+){0,2}weight|bear\s+weight|move\s+it|use\s+it"
    r"|take\s+a\s+step|lift\s+it)\b"
)
# round 12b: "a bit faster than normal but not sucking in": a little faster with the signs of
# severe distress denied (NICE NG9 Bronchiolitis: marked chest recession, grunting, a blue colour
# or pauses in breathing are the emergency signs) is a no to severe difficulty breathing
_MINOR_NO_DISTRESS = re.compile(
    r"^\W*(?:(?:just|only)\s+)?a\s+(?:bit|little)\s+(?:faster|quicker|noisier|noisy|rattly|wheezy)"
    r"(?:\s+than\s+(?:normal|usual))?,?\s+but\s+(?:(?:she|he|they|it).?s\s+|(?:is|are)\s+)?"
    r"(?:not|no)\s+(?:\w+\s+)?(?:sucking|pulling|drawing|caving|struggling|grunting|blue|recession)"
    r"(?![^.]*\b(?:but|except|although|though)\b)"
)
_UNSURE = re.compile(
    r"\b(?:not\s+sure|don.?t\s+know|dunno|no\s+idea|unsure|can.?t\s+tell|not\s+certain|maybe|hard\s+to\s+say)\b"
)
_NORMAL = re.compile(
    r"\b(?:fine|normal|normally|ok|okay|well|alright|usual\s+self|as\s+usual|alert|awake|chatty|chatting"
    r"|playing|responds?|responding|running\s+around|no\s+problems?|no\s+issues|all\s+good|nothing\s+else"
    r"|same\s+as\s+always|looks\s+the\s+same)\b"
)
_SYMPTOM_WORDS = re.compile(
    r"\b(?:pain|hurts?|hurting|sore|swollen|swelling|bad|worse|struggl\w*|can.?t|cannot|really|very|lots?"
    r"|loads|blood|bleeding|numb|weak|spreading|hot|red|yellow|blurr\w*|sick|since|started|yes)\b"
)


def polarity(text: str) -> str | None:
    """How an answer starts: "no", "yes", "unsure", or None."""
    return _reading(text)[0]


# round 12b mend: "not grunting, she is sucking in under her ribs": a distress sign told after the
# denial is no "no" (NICE NG9: chest recession is an emergency sign)
_DISTRESS = re.compile(
    r"\b(?:sucking|pulling|drawing|caving|grunt\w*|blue|recession|flaring|pauses?|struggling)\b"
)
_DENIED_BEFORE = re.compile(r"\b(?:not|no|never|nor)\s+(?:\w+\s+)?$|n.?t\s+(?:\w+\s+)?$")


def _distress_told(rest: str) -> bool:
    return any(not _DENIED_BEFORE.search(rest[: d.start()]) for d in _DISTRESS.finditer(rest))


# round 12b mend: a settled bleed, an ability or a little faster breathing is a "no" only to the
# topic it speaks to ("only a bit of blood in my wee, stops straight away" says nothing of chest
# pain; "she can still walk, her face looks droopy" says nothing of a stroke)
_SETTLED_TOPICS = frozenset(
    {"bleeding", "blood_vomit_stool", "coughing_blood", "swallowing", "fluids", "vomiting"}
)
_ABLE_TOPICS = frozenset({"weight_bearing"})
_BREATHING_TOPICS = frozenset({"breathing"})


def answer_scope(text: str) -> frozenset[str] | None:
    """The topics a "no" of this answer speaks to, when it is one of the topic-bound noes (a
    settled bleed, an ability, a little faster breathing); None when the "no" is general."""
    return _reading(text)[1]


def _reading(text: str) -> tuple[str | None, frozenset[str] | None]:
    """How an answer reads, in the one order of its branches: its polarity ("no", "yes",
    "unsure" or None) and the topics a topic-bound "no" speaks to (None: general)."""
    t = text.strip().lower()
    if _UNABLE.match(t):
        return "yes", None
    if (
        NEG_START.match(t)
        or _MINOR_SETTLING.match(t)
        or (_MINOR_BUT_NORMAL.match(t) and not _MINOR_BUT_NOT_NORMAL.search(t))
    ):
        return "no", None
    if _ABLE.match(t) and not _ABLE_LIMITED.search(t):
        return "no", _ABLE_TOPICS
    m = _MINOR_NO_DISTRESS.match(t)
    if m and not _distress_told(t[m.end() :]):
        return "no", _BREATHING_TOPICS
    # a little faster breathing with a distress sign told after the denial is no "no" by itself;
    # whatever the rest of the answer reads as, it still speaks to breathing only
    rest = _open_reading(t)
    return (rest[0], _BREATHING_TOPICS) if m else rest


def _open_reading(t: str) -> tuple[str | None, frozenset[str] | None]:
    """The branches after the topic-bound noes: unsure, yes, a settled trouble, normal words."""
    if _UNSURE.search(t[:60]):
        return "unsure", None
    if _POS_START.match(t):
        return "yes", None
    if _SETTLED.search(t):
        return "no", _SETTLED_TOPICS
    if _NORMAL.search(t) and not _SYMPTOM_WORDS.search(t):
        return "no", None
    return None, None


_NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|without|nor|neither)\b|n't\b")


# round 12a: "ginger biscuits aren't doing anything", "the cream isn't working": a remedy that failed
# says nothing about the warning sign asked, so its negation is no "no" to it
_REMEDY_FAILED = re.compile(
    r"\b(?:is|are|was|were|has|have|do|does|did)n.?t\s+(?:doing\s+(?:anything|much|a\s+thing)"
    r"|working|helping|touching\s+it|making\s+(?:any\s+)?difference)\b"
    r"|\bnot\s+(?:doing\s+(?:anything|much)|working|helping)\b"
)


def sentence_polarity(text: str) -> str | None:
    """Polarity of a free-text answer sentence: how it starts, else negation words (no), else
    "normal" words (no), else symptom words (yes)."""
    p = polarity(text)
    if p is not None:
        return p
    if _REMEDY_FAILED.search(text.lower()):
        return None
    if _NEGATION.search(text) or _NORMAL.search(text):
        return "no"
    if _SYMPTOM_WORDS.search(text):
        return "yes"
    return None
