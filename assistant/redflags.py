"""Warning signs that need care, not exercise: found sentence by sentence in the normalised message, only in a
symptom sense, and never when denied ("no fever"), resolved ("it healed fine"), hypothetical ("what if I fell")
or asked about in general ("what are the signs of a clot?"). Deterministic on purpose: safety is never left to
a similarity score. Each sign has a level: `emergency` (call emergency services now) or `soon` (see a doctor
soon, today if you can)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .text import negated, sentences

Level = Literal["emergency", "soon"]
EMERGENCY = frozenset({"trauma", "cauda_equina", "cardio"})
LABELS = {
    "trauma": "not being able to walk, stand or put weight on the leg after a fall or injury",
    "cauda_equina": "numbness around the groin or bottom, bladder or bowel changes, or new weakness in the legs",
    "cardio": "chest pain, severe breathlessness or fainting",
    "infection": "a fever, chills or feeling hot and shivery along with joint pain",
    "sudden_severe": "severe pain that came on suddenly",
    "clot": "a swollen, painful or warm calf or thigh",
    "child": "a child with hip pain or a limp",
    "post_surgery": "a problem after hip surgery",
    "serious_illness": "a history of cancer, weight loss without trying, or pain at night that does not ease",
}


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


CANT = (r"(?:can'?t|cannot|can not|couldn'?t|could not|unable to|not able to|barely|hardly|struggl\w* to|impossible to|"
        r"(?:has|have|had)(?:n'?t| not) been able to|won'?t let me)")
INJURY = _rx(r"\b(fell|fallen|tripped|slipped|crashed|collided|wiped out)\b",
             r"\bfalling (off|down|over|from|on|onto|to)\b", r"\b(broke|broken|fractured) my (hip|leg|pelvis)\b",
             r"\b(a|the|my|bad|nasty|big|hard|serious) (fall|tumble|accident|crash|collision|spill)\b",
             r"\b(hit by|knocked (over|down|off)|came off|thrown off|landed (hard |heavily |badly )?on)\b",
             r"\b(got|was|been|being) (tackled|hit|kicked|struck|knocked|run over|thrown)\b", r"\btackled\b",
             r"\b(went|gone|go|going) (over|down) on (the |my |an? )?(ice|ankle|it|side|floor|steps?|stairs)\b",
             r"\b(went flying|hit the (ground|floor|deck)|came down (hard|heavily|awkwardly)|came a cropper|"
             r"took a (fall|tumble)|(leg|knee|hip) (just )?(folded|buckled|gave way) under (me|him|her))\b")
HYPOTHETICAL_FALL = re.compile(r"\b(will|'ll|might|could|may|afraid|scared|worried|fear\w*|in case|avoid|prevent|"
                               r"risk|not to|without|stop (me|myself))\W+(\w+\W+){0,3}$", re.IGNORECASE)
CANT_BEAR = _rx(rf"\b{CANT}\W+(\w+\W+){{0,2}}?(walk|stand|get (myself |him |her )?up|bear (any |my )?weight|"
                rf"weight[- ]?bear\w*|put (any |much |my )?weight|take (any )?weight|"
                rf"move (my|the|that) (\w+ )?(leg|hip)|lift (my|the|that) (\w+ )?leg)"
                rf"(?!\w)(?!\s+(on one|on (a|my|the) (single|one) (leg|foot)|"
                rf"for (long|more|very|as|too|\d)|very|as long|far|without|any (longer|further|more)|up straight|"
                rf"still))",
                r"\b(leg|foot)\b(\s+\w+){0,4}\s+(looks?|looked|is|seems?|now|became|turned|flopped|rolled)\s+(\w+\s+){0,2}"
                r"(shorter|turned out(wards)?|pointing out(wards)?|out to the side|sideways|twisted|rotated)",
                r"\bno (longer )?(able to )?(put|take|bear) (any )?weight\b",
                r"\b(walking|standing|getting up) (is|has been) (impossible|agony|not possible)\b",
                r"\b(have to|had to|can only) hop\b",
                rf"\b{CANT}\W+(\w+\W+){{0,2}}?(take|manage) (a|one|a single) step\b",
                rf"\b{CANT}\W+(\w+\W+){{0,1}}?put (a|her|his|my|the|that) foot (down|under)",
                r"\b(won'?t|will not|wouldn'?t|is not|isn'?t|not) (hold|holding|carry|carrying) "
                r"(me|him|her|my weight)\b",
                r"\b(off|gone off) (her|his|my|their) legs\b", r"\bhad to (crawl|be (carried|lifted)|lift (her|him))\b")
# After a fall, a hip thought to be broken is an emergency even while the person still moves about.
SUSPECTED_FRACTURE = _rx(r"\b(think|thinks|suspect\w*|might|may|could|worried|afraid|knew|know|sure|possibly)\b"
                         r"(\W+\w+){0,4}?\W+(broke|broken|fractured|cracked)\b(\W+\w+){0,2}?\W+(hip|pelvis|femur|leg)\b",
                         r"\b(suspected|possible|probable) (broken hip|hip fracture|fracture)\b")
WEIGHT_ONLY = _rx(rf"\b{CANT}\W+(\w+\W+){{0,2}}?(bear (any |my )?weight|weight[- ]?bear\w*|put (any |much )?weight|"
                  rf"take (any )?weight)")
FEVER = _rx(r"\b(fever(ish|s)?|febrile|chills|shiver(s|ing|y)|rigou?rs|night sweats|high temp(erature)?)\b",
            r"\brunning a (temp(erature)?|fever)\b", r"\b(a|my|his|her) temp(erature)?\b(?! of the)",
            r"\btemp(erature)? (of|over|above|is|was) (about |around |over )?\d", r"\b3[89](\.\d)? ?°? ?c\b",
            r"\b10[0-4](\.\d)? ?°? ?f\b", r"\bhot and (cold|shivery)\b")
SUDDEN_SEVERE = _rx(
    r"\b(sudden(ly)?|out of nowhere|all of a sudden|out of the blue|came on (fast|quickly)|in an instant|instantly|"
    r"from nowhere|went from (zero|nothing|fine|no pain))\b(\W+\w+){0,8}?\W+"
    r"(severe|intense|excruciating|unbearable|terrible|extreme|worst|agoni[sz]ing|agony|crippling|horrendous|stabb\w*|"
    r"scream\w*|blinding|sharpest|explod\w*|knife|(very|really|so) (strong|bad|sharp))",
    r"\b(severe|intense|excruciating|unbearable|terrible|extreme|worst|agoni[sz]ing|agony|crippling|horrendous|"
    r"sharpest)\b(\W+\w+){0,8}?\W+(sudden(ly)?|out of nowhere|all of a sudden|out of the blue|"
    r"for no (obvious )?reason)\b")
CAUDA = _rx(
    r"\b(numb(ness)?|no feeling|tingl\w*|pins and needles|can'?t feel|lost (the )?feeling|loss of feeling)\b"
    r"(\W+\w+){0,8}?\W+(groin|saddle|genitals?|private(s| parts)?|inner thighs?|between (my|the) (legs|thighs)|"
    r"bottom|back passage|anus|when i wipe|crotch|perineum|vagina|penis|scrotum|down there|down below|my bits)",
    r"\b(weird|strange|different|odd|numb|no feeling)\b(\W+\w+){0,3}?\W+when i wipe\b",
    r"\b(groin|saddle|genitals?|private parts|crotch|between my legs)\b(\W+\w+){0,6}?\W+"
    r"(numb(ness)?|no feeling|can'?t feel|tingl\w*|pins and needles)",
    r"\b(los[st]|losing|loss of|can'?t|cannot|couldn'?t) (\w+ ){0,2}(control (of|over) )?"
    r"(my )?(bladder|bowels?|pee(ing)?|wee(ing)?|urin\w+|poo(ing)?)\b", r"\bno (bladder|bowel) control\b",
    r"\b(bladder|bowels?)\b(\W+\w+){0,5}?\W+(control|accident|incontinen\w*|leak\w*)",
    r"\b(wet|soil(ed)?|peed|pee|wee|pooed|poo) (my ?self|the bed|myself)\b", r"\bleak\w* (urine|pee|wee)\b",
    r"\b(wee|pee|urine|stool|poo|bowels?|bladder)\b(\W+\w+){0,6}?\W+without (knowing|noticing|realising|realizing|"
    r"feeling)\b", rf"\b{CANT}\W+feel (it|the (wee|pee|urine|poo)) (come|coming|go|going)\b",
    r"\b(couldn'?t|can'?t|could not|cannot|unable to) (stop|control|hold) (myself |it )?(\w+ ){0,3}?(bowel|poo|wee|pee|"
    r"urine|bladder|wet\w*|soil\w*)",
    r"\b(can'?t|cannot|couldn'?t|trouble|difficulty|struggl\w*) (\w+ ){0,2}(peeing|pee|urinat\w*|passing urine|"
    r"start(ing)? to pee|going to the toilet)\b",
    r"\b(sudden(ly)?|new|getting|got|gotten|going|increasingly|progressive(ly)?)\W+(\w+\W+){0,3}?"
    r"(weak(er|ness)?|numb)\W+(\w+\W+){0,3}?(in )?(both )?(legs?|feet|foot)\b",
    r"\b(both|both my|two|my two) (legs|feet)\b(\W+\w+){0,5}?\W+(weak\w*|numb\w*|giving (way|out)|gave (way|out)|"
    r"buckl\w*|heavy|wobbly|like (jelly|wet noodles|rubber))",
    r"\b(weakness|numbness) in (both|my) (legs|feet)\b", r"\blegs? (keep |keeps |kept )?(giving|gave) (way|out)\b",
    r"\b(legs?|feet)\b (are|is|feel|feels|getting|got|have (got|gotten|become)|becoming) (\w+ )?weaker\b",
    r"\b(foot drop|drop foot|dragging (my|one|the) (foot|leg)|can'?t lift (my|the) (foot|toes)|foot (slaps|flops)|"
    r"(keep|keeps|kept|always) tripping over (my|his|her) (own )?(feet|foot|toes))\b")
LONG_AGO = re.compile(r"\b(weeks|months|years) ago\b|\blast (month|year|season)\b|\bin (19|20)\d\d\b", re.IGNORECASE)
BACK = re.compile(r"\bback\b", re.IGNORECASE)
WALK_CHANGE = _rx(r"\b(walk(ing)? (differently|funny|strangely|oddly|unsteadily)|unsteady on my feet|"
                  r"change\w* (in|to) (the way|how) i walk|the way i walk (has )?changed|"
                  r"can'?t walk (properly|normally|straight))\b")
CLOT = _rx(
    r"\b(calf|calves|lower leg|shin)\b([\s,]+[\w']+){0,5}?[\s,]+(swollen|swelling|swelled|"
    r"puffy|bloated|twice the size|red and (hot|warm|swollen|tender|sore)|hot|warm to (the )?touch|feels? warm|tender|"
    r"throbb\w*|discolou?red|purple|darker)\b",
    r"\b(thigh|leg)\b([\s,]+[\w']+){0,5}?[\s,]+(swollen|swelling|swelled|puffy|bloated|twice the size)\b",
    r"\b(calf|calves|thigh|leg)\b([\s,]+[\w']+){0,3}?[\s,]+(bigger|fatter|larger|thicker) than (the|my) "
    r"(other|right|left)",
    r"\b(swollen|swelling( in| of)?|puffy|throbb\w*|tender|hot,? (red|swollen)|red,? (hot|swollen))\W+(\w+\W+){0,5}?"
    r"(calf|calves|lower leg)\b", r"\b(swollen|swelling( in| of)?|puffy)\W+(\w+\W+){0,5}?(thigh)\b",
    r"\b(think|worried|afraid|scared|might|may|could|wonder if) (\w+ ){0,3}(have|be|got|is) (a )?"
    r"(dvt|blood clot|clot)\b",
    r"\b(dvt|blood clot)\b(\W+\w+){0,3}?\W+(in my|in the) (leg|calf)")
COLD = re.compile(r"\b(cold|freezing|chilly|icy|ice bath|winter|frost\w*)\b", re.IGNORECASE)
FEVER_WORD = re.compile(r"\b(fever\w*|febrile|temp(erature)?|3[89]|10[0-4])\b", re.IGNORECASE)
PAIN = re.compile(r"\b(pain\w*|hurts?|hurting|ache\w*|aching|sore\w*|agony|throb\w*)\b", re.IGNORECASE)
WARM_UP = re.compile(r"\bwarm(ing|ed)?[- ]up\b", re.IGNORECASE)
CARDIO = _rx(
    r"\b(chest (pain|pains|tightness|pressure|discomfort|hurts|is (tight|hurting|sore)|feels? (tight|heavy|crushed))|"
    r"pains? in (my|the) chest|tight(ness)? (in )?(my |the )?chest|crushing|heart attack|palpitations|"
    r"heart (is |was |keeps |started |kept )?(racing|pounding|fluttering|skipping)|"
    r"(pressure|heaviness|tightness|squeezing) (in|on|across) (my|the) chest|"
    r"(elephant|weight) (sitting )?on (my|the) chest)\b",
    r"\b(can'?t|couldn'?t|cannot|struggl\w* to|hard to|trouble) (breathe|catch (my|a) breath|get (my|a) breath)\b",
    r"\b(gasping|fighting for breath)\b",
    r"\b(severe(ly)?|very|extremely|badly|really|so|terribly|scar(y|ily)) (short of breath|breathless|out of breath)\b",
    r"\b(fainted|fainting|(feel|felt|feeling|going to|nearly|almost) faint|passed out|pass out|black(ed)? out|"
    r"collapsed)\b")  # dizziness alone: stop and see a GP (the corpus says so), answered, not escalated
CHILD = re.compile(r"\b(my|our|a|the) (little |young |teenage |toddler |baby )?(son|daughter|child|kid|boy|girl|"
                   r"toddler|baby|grandson|granddaughter|niece|nephew|teen|teenager|stepson|stepdaughter)\b|"
                   r"\b(my|our|a|the) (\d{1,2})[- ]?(year|yr)s?[- ]?old\b|\b(he|she) is (\d{1,2})\b|"
                   r"\b(\d{1,2}) ?(yo|y/o|(yrs?|years?|months?)[- ]old)\b|"
                   r"\b(child|kid|toddler|son|daughter)\b(?!'?s pose)|\blittle one\b|"
                   r"\b(teen|teenage|young) (girl|boy)\b|"
                   r"\b(he|she)('s| is) (one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b|"
                   r"\b(girl|boy|son|daughter|kid|child),? (aged )?(\d{1,2})\b", re.IGNORECASE)
CHILD_SIGN = _rx(r"\blimp\w*\b", r"\bhip\b(\W+\w+){0,3}?\W+(pain|hurts?|hurting|sore|ache|aching)",
                 r"\b(pain|hurts?|hurting|sore|ache|aching) (in )?(his|her|their) (hip|thigh|knee|groin)",
                 r"\b(won'?t|will not|refus\w* to|doesn'?t want to|not) (walk|stand|put weight|bear weight)",
                 r"\b(his|her|their) (hip|leg|thigh|knee|groin) (hurts|is (sore|hurting|painful)|aches)")
SURGERY = _rx(r"\b(hip replacement|replaced hip|new hip|thr|hip (surgery|operation|op|arthroscopy|repair|resurfacing)|"
              r"(hip|knee) (was |got |been )?replaced|had (her|his|my|a) (hip|knee) (replaced|done)|"
              r"(my|the|recent) (surgery|operation|op)|operated on|post[- ]?op\w*|after (the )?(surgery|operation)|"
              r"since (the |my )?(surgery|operation)|surgeon|discharged from hospital)\b")
SURGERY_SIGN = _rx(
    r"\b(wound|incision|scar|stitches|staples|dressing|cut)\b(\W+\w+){0,6}?\W+(red\w*|hot|warm|weep\w*|ooz\w*|leak\w*|"
    r"pus|discharge|smell\w*|open(ed|ing)?|swollen|swelling|spreading|angry|infected|gaping)",
    r"\b(red|hot|swollen|oozing|leaking|weeping|angry|infected|smelly|gaping)\W+(\w+\W+){0,2}?(wound|incision|scar|"
    r"stitches)\b",
    r"\b(popped|pops?|popping|clunk\w*|dislocat\w*|(came|comes|coming|in and) out of (the )?socket|gave way)\b",
    r"\b(calf|leg|foot|ankle)\b(\W+\w+){0,6}?\W+(swell\w*|swollen|very painful)\b",
    r"\blegs?\b(\W+\w+){0,5}?\W+(longer|shorter)\b",
    r"\b(severe|worse|worsening|unbearable|much more|excruciating|terrible|getting worse)\b(\W+\w+){0,3}?\W+pain\b",
    r"\bpain\b(\W+\w+){0,4}?\W+(severe|worse|worsening|unbearable|getting worse)\b")
CANCER = _rx(
    r"\b(history of|had|have|having|diagnosed with|treated for|treatment for|survivor of|remission from|been through|"
    r"finished|recovering from|beat|beaten)\b(\W+\w+){0,3}?\W+(cancer|tumou?rs?|lymphoma|leuka?emia|myeloma|melanoma|"
    r"chemo(therapy)?|radiotherapy|radiation therapy)\b",
    r"\bcancer (survivor|patient)\b", r"\b(breast|prostate|lung|bowel|bone) cancer\b", r"\bthe big c\b")
BIRTH = re.compile(r"\b(had|having|have|expecting|since|after|delivered|gave birth to) (a|the|my|our) "
                   r"(baby|son|daughter|little one)\b|\bgave birth\b|\b(pregnan\w*|postpartum|post-partum)\b",
                   re.IGNORECASE)
CHILD_REACH = 3  # sentences: a child's signs are told in the sentence that names the child or the next two
AGE = re.compile(r"\b(?:he|she|they)(?:'s| is| are) (\d{1,2})\b", re.IGNORECASE)
FAMILY = re.compile(r"\b(mum|mom|mother|dad|father|sister|brother|wife|husband|partner|friend|aunt|uncle|cousin|"
                    r"grand\w+|family|relative|neighbou?r|colleague|dog|cat)('?s)?\b", re.IGNORECASE)
WEIGHT_LOSS = _rx(
    r"\b(lost|losing|lose|dropped|dropping|down)\b(\W+\w+){0,4}?\W+"
    r"(weight|pounds|lbs|kilos|kgs?|stones?|\d+ ?(lb|kg)s?|(dress|clothes|jeans) sizes?)\b"
    r"(\W+\w+){0,8}?\W+(without (even )?(trying|dieting|meaning to|changing)|not (trying|dieting)|unexplained|"
    r"no reason|don'?t know why|haven'?t been trying|by accident)",
    r"\b(unexplained|unintentional|unintended|unexpected|sudden) weight loss\b",
    r"\bweight (loss|is dropping|keeps dropping) without\b", r"\blosing weight (for no reason|without trying)\b")
NIGHT_PAIN = _rx(
    r"\b(pain|hurts?|ache|aching|throb\w*|agony)\b(\W+\w+){0,8}?\W+(at night|all night|every night|in the night|"
    r"wakes? me|woken|keeps me (up|awake)|night ?time)\b(\W+\w+){0,10}?\W+(no matter|whatever (position|i do)|"
    r"any position|even (lying|resting|at rest|when i (rest|lie|am lying))|constant(ly)?|doesn'?t (ease|settle|go away|"
    r"stop|let up)|won'?t (ease|settle|go away|stop)|never (eases|settles|goes|stops)|nothing (helps|eases)|"
    r"not (easing|settling)|can'?t get comfortable)",
    r"\b(constant|unrelenting|relentless|non-?stop)\b(\W+\w+){0,3}?\W+pain\b(\W+\w+){0,6}?\W+(night|rest)",
    r"\bnight pain\b(\W+\w+){0,4}?\W+(doesn'?t|won'?t|never|not)\b(\W+\w+){0,2}?\W+(ease|settle|go away|stop)",
    r"\b(worse|bad|agony|awful|unbearable) (\w+ ){0,2}at night\b.{0,80}\b(doesn'?t help|nothing helps|no position|"
    r"lying still|can'?t get comfortable|up pacing|keeps me (up|awake))",
    r"\b(pain|hurts?|ache)\b(\W+\w+){0,4}?\W+even (when|while) (i'?m |i am )?(resting|lying (still|down)|at rest)\b")
RESOLVED = re.compile(r"\b(healed|recovered|fully better|fine now|cleared up|resolved|all good now|no problems since|"
                      r"went away|gone away|long gone|sorted (itself|out)|all clear|got the all clear|good to go|"
                      r"signed (me )?off|back to normal|sorted)\b|"
                      r"\bwhen (i|he|she|they) (was|were) (a |an |)(kid|child|boy|girl|teen\w*|young|little|\d{1,2})\b|"
                      r"\b(settled|been fine|fine (ever )?since|better now|gone now|no problems)\b", re.IGNORECASE)
HYPOTHETICAL = re.compile(r"^\s*(and |so |but )?(what )?if\b|\bif (you|i|someone|one|they|he|she|a person) (\w+ )?"
                          r"(feel|feels|get|gets|have|has|experience|notice|start|develop)\b|"
                          r"\bwhen (you|one|someone)('ve| have|'re| are)? (got|get|have|has)\b|"
                          r"\b(what if|in case|suppose|supposing|imagine|"
                          r"hypothetically|let'?s say|if i (ever|were|was to)|should i ever|if (that|this) (ever )?"
                          r"happens)\b", re.IGNORECASE)
QUESTION = re.compile(r"\?\s*$|^\s*(what|which|how|when|why|where|who|is|are|can|could|does|do|should|would|will)\b",
                      re.IGNORECASE)
GENERAL_ASK = re.compile(r"\b(signs?|symptoms?|warning signs|red flags?|look like|feel like|how (do|would|can|will) "
                         r"(i|you|we|one|someone) (know|tell|spot|recogni[sz]e)|what (is|are|causes?|counts as)|"
                         r"can .{0,30} cause|is it (normal|common|possible)|when should|what happens|what should i "
                         r"watch|what to watch|tell me about|explain|mean|means|asking in general|in general)\b",
                         re.IGNORECASE)
PERSONAL = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself|im|ive)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sign:
    """One warning sign seen in the message: its category and the sentence it was seen in."""

    flag: str
    sentence: str

    @property
    def label(self) -> str:
        return LABELS[self.flag]


def level_of(flags: list[str]) -> Level:
    return "emergency" if any(f in EMERGENCY for f in flags) else "soon"


def _live(pattern: re.Pattern[str], sentence: str, ignore: Callable[[re.Match], bool] | None = None) -> bool:
    """The pattern occurs in a symptom sense: not denied within its clause (nor inside the match, for signs named
    after the body part: "the wound isn't red"), and not excused by `ignore`."""
    inner = pattern in (CLOT, SURGERY_SIGN)
    return any(not negated(sentence, m.start()) and not (inner and negated(sentence, m.end()))
               and not (ignore and ignore(m)) for m in pattern.finditer(sentence))


def counts(sentence: str) -> bool:
    """A sentence can carry a sign: it is not hypothetical, not resolved history, and not a general question
    about signs with nothing personal in it."""
    if HYPOTHETICAL.search(sentence) or RESOLVED.search(sentence):
        return False
    return not (QUESTION.search(sentence) and GENERAL_ASK.search(sentence) and
                not _personal_statement(sentence))


def _personal_statement(sentence: str) -> bool:
    """'how do I know if I have a clot?' is general; 'my calf is swollen, is it a clot?' describes a person."""
    head = GENERAL_ASK.search(sentence)
    rest = sentence[: head.start()] if head else sentence
    return bool(PERSONAL.search(rest)) and len(rest.split()) >= 3


def _child(sentence: str) -> bool:
    """A child is the one in pain: not the baby a mother had ("six weeks after having a baby, my hip ...")."""
    ages = [int(g) for m in CHILD.finditer(sentence) for g in m.groups() if g and g.isdigit()]
    ages += [int(a) for a in AGE.findall(sentence)]
    return bool(CHILD.search(sentence)) and all(age < 16 for age in ages) and not BIRTH.search(sentence)


def _fall_is_real(sentence: str) -> Callable[[re.Match], bool]:
    return lambda m: bool(HYPOTHETICAL_FALL.search(sentence[: m.start()]))


def _family(sentence: str) -> Callable[[re.Match], bool]:
    """Someone else's cancer ('my mum had breast cancer') is not the person's own history."""
    return lambda m: bool(FAMILY.search(sentence[max(0, m.start() - 40): m.end()]))


def screen_signs(message: str) -> list[Sign]:
    """Every warning sign in the message, most urgent categories first; empty when there is none."""
    live = [s for s in sentences(message) if counts(s)]  # sentences() normalises
    text_has = {name: [s for s in live if _live(pattern, s, extra(s) if extra else None)]
                for name, pattern, extra in (
                    ("injury", INJURY, _fall_is_real), ("cant_bear", CANT_BEAR, None), ("weight", WEIGHT_ONLY, None),
                    ("fracture", SUSPECTED_FRACTURE, None),
                    ("fever", FEVER, None), ("sudden", SUDDEN_SEVERE, None), ("cauda", CAUDA, None),
                    ("walk_change", WALK_CHANGE, None), ("clot", CLOT, None), ("cardio", CARDIO, None),
                    ("child_sign", CHILD_SIGN, None), ("surgery", SURGERY, None), ("surgery_sign", SURGERY_SIGN, None),
                    ("cancer", CANCER, _family), ("weight_loss", WEIGHT_LOSS, None), ("night", NIGHT_PAIN, None))}
    text_has["clot"] = [s for s in text_has["clot"] if not WARM_UP.search(s) or "swell" in s.lower()]
    text_has["fever"] = [s for s in text_has["fever"] if not (COLD.search(s) and not FEVER_WORD.search(s))]
    if not any(_live(PAIN, s) for s in live):
        text_has["cancer"] = []  # a history of cancer matters with new pain, not on its own
    signed = set(text_has["child_sign"]) | set(text_has["weight"]) | set(text_has["fever"])
    child = [s for i, s in enumerate(live) if _child(s) and signed & set(live[i: i + CHILD_REACH])]  # its own signs
    signs: list[Sign] = []

    def add(flag: str, where: list[str]) -> None:
        if where and all(s.flag != flag for s in signs):
            signs.append(Sign(flag, where[0]))

    after_surgery = bool(text_has["surgery"])
    if child:
        add("child", child)
    elif text_has["injury"] and (text_has["cant_bear"] or (text_has["fracture"] and not after_surgery)):
        add("trauma", text_has["cant_bear"] or text_has["fracture"])
    elif text_has["weight"] and not after_surgery:
        add("trauma", text_has["weight"])
    add("cauda_equina", text_has["cauda"] or (text_has["walk_change"] if any(BACK.search(s) for s in live) else []))
    add("cardio", [s for s in text_has["cardio"] if not LONG_AGO.search(s)])  # a faint years ago is history
    if after_surgery and (text_has["surgery_sign"] or text_has["fever"] or text_has["clot"] or text_has["cant_bear"]):
        add("post_surgery", text_has["surgery_sign"] or text_has["fever"] or text_has["clot"] or text_has["cant_bear"])
    if not child:
        add("infection", text_has["fever"])
    add("sudden_severe", [s for s in text_has["sudden"] if not LONG_AGO.search(s)])  # urgent while it is new
    add("clot", text_has["clot"])
    add("serious_illness", text_has["cancer"] or text_has["weight_loss"] or text_has["night"])
    if any(s.flag == "post_surgery" for s in signs):
        signs = [s for s in signs if s.flag not in ("clot", "infection")]
    return sorted(signs, key=lambda s: s.flag not in EMERGENCY)
