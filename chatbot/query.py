"""Question understanding without an LLM: scope (authorities, dates, report types), follow-ups, intent.

Pure functions over the question, the conversation and the user's filters; the result (`QueryPlan`)
is recorded in the answer's trace so that a user can see what was searched and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chatbot.authorities import Gazetteer
from core.models import REPORT_TYPE_LABELS, REPORT_TYPES, Filters, ShownReport, Turn, TurnState
from vectorstore.keyword import tokenize

REPORT_TYPE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bfocus(?:s)?ed[- ]visits?\b", re.I), "focused_visit"),
    (re.compile(r"\bmonitoring[- ]visits?\b", re.I), "monitoring_visit"),
    (re.compile(r"\b(?:area )?send\b(?! them)|\bspecial educational needs\b", re.I), "area_send_inspection"),
    (re.compile(r"\bSIF\b|\bsingle inspection framework\b", re.I), "sif_inspection"),
    (re.compile(r"\bILACS\b|\bfull inspections?\b|\bstandard inspections?\b|\bshort inspections?\b", re.I), "ilacs_inspection"),
)
_SCOPE_PHRASE = re.compile(
    r"\b(?:(?:at|in|from|for|of|during|by)\s+)?(?:(?:their|its|the|each|his|her)\s+)?"
    r"(?:latest|most recent|last|newest|current)\s+(?:full\s+)?(?:inspections?|reports?|visits?)\b",
    re.I,
)
_COUNTED_REPORTS = re.compile(
    r"\b(?:(?:across|over|in|at|from|between)\s+)?(?:(?:its|their|the|all|both)\s+)?(?:two|three|four|five|six|\d+|all|both)\s+"
    r"(?:(?:full|ilacs|sif|send|focused)\s+)?(?:inspections|reports|visits)\b",
    re.I,
)
# How the answer should be set out, not what it is about: "in three bullet points", "in a short paragraph", "in plain English"
ANSWER_FORMAT = re.compile(
    r"\b(?:(?:in|as|into|using)\s+(?:(?:a|an|one|two|three|four|five|six|\d+|few|short|brief|simple|single|bulleted)\s+)*"
    r"|(?:one|two|three|four|five|six|\d+|a few)\s+)"
    r"(?:bullet(?:[- ]?points?)?s?|bulleted list|sentences?|paragraphs?|lines?|words)\b(?:\s+or\s+(?:less|fewer))?"
    r"|\b(?:in|using)\s+plain\s+(?:english|language|terms)\b|\bbriefly\b|\bin\s+(?:brief|short)\b",
    re.I,
)
# "its last two inspections", "the three most recent reports": each authority's newest few
LAST_N = re.compile(
    r"\b(?:(?:its|their|the)\s+)?(?:(?:last|latest|most recent|past|previous)\s+(?P<n>two|three|four|five|six|[2-9])"
    r"|(?P<m>two|three|four|five|six|[2-9])\s+(?:most recent|latest|last))\s+(?:(?:full|graded|ilacs|sif)\s+)?"
    r"(?P<noun>inspections|reports|visits)\b",
    re.I,
)
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, **{str(n): n for n in range(2, 10)}}
# "First", "last", "latest" are a time only when they qualify an inspection, a report, a visit or its grade ("its
# last inspection", "the most recent Ofsted report", "when was it first inspected", "the latest one"), within three
# words: "when children first need help", "their last year at school", "the oldest children" are not about when.
_REPORT_NOUN = (
    r"(?:inspect\w*|reports?|visits?|visited|letters?|judge?ments?|judged|grades?|graded|rat(?:ed|ings?)|ilacs|sif"
    r"|ones?|outcomes?|results?|findings|verdicts?|look|assessments?|assessed)"
)
_LATEST = re.compile(
    rf"\b(latest|most recent|last|newest|current)\b(?! \d)(?=(?:\W+[\w'\u2019-]+){{0,3}}?\W+{_REPORT_NOUN}\b|\W+time\b)"
    r"|\b(recently|currently)\b",
    re.I,
)
# The verb that says which date a time phrase is: when the report came out, or when inspectors were there
_PUBLISHED = re.compile(r"\bpublish(?:ed|es|ing)?\b|\bpublication\b|\bcame out\b|\breleased\b", re.I)
# ("inspected in 2023", "visited before 2025", "had an inspection", "inspectors were there in March"; not "when was
# the 2023 inspection carried out?", where the year names the report)
_VISITED = re.compile(
    r"\b(?:inspected|visited|re-?inspected|took place|carried out|on site)\s+(?:in|during|between|before|after|since|from|on|by)\b"
    r"|\bhad (?:an? )?(?:\w+ )?(?:inspections?|visits?)\b|\binspectors\s+(?:were|went|came|visit(?:ed)?)\b",
    re.I,
)
_EARLIEST = re.compile(rf"\b(earliest|first|oldest)\b(?=(?:\W+[\w'\u2019-]+){{0,3}}?\W+{_REPORT_NOUN}\b)", re.I)
_YEAR = r"(19\d{2}|20\d{2})"
_BETWEEN = re.compile(rf"\bbetween\s+{_YEAR}\s+and\s+{_YEAR}\b", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
# One end of an open range: a year, a month of it or its start or end ("since April 2018", "after the end of 2022",
# "since the start of 2023"); groups: part, month, year. A month or "the start of" is not a window of its own.
_POINT = rf"(?:(?:the\s+)?(start|beginning|end)\s+of\s+)?(?:({'|'.join(_MONTHS)})\s+)?{_YEAR}"
_BEFORE = re.compile(rf"\b(?:before|prior to|until|up to|pre-?)\s*(?:the\s+|its\s+|their\s+)?{_POINT}\b", re.I)
_AFTER = re.compile(rf"\b(?:after|post-?)\s*(?:the\s+|its\s+|their\s+)?{_POINT}\b", re.I)
_SINCE = re.compile(rf"\b(?:since|from)\s+(?:the\s+|its\s+|their\s+)?{_POINT}\b", re.I)
_FROM_TO = re.compile(rf"\bfrom\s+{_YEAR}\s+(?:to|until|till)\s+{_YEAR}\b", re.I)
_IN_YEAR = re.compile(rf"\b{_YEAR}\b")
_MONTH_YEAR = re.compile(rf"\b({'|'.join(_MONTHS)})\s+{_YEAR}\b", re.I)
# "between 2019 and the 2023 inspection", "from the 2018 SIF report to the 2025 inspection": a span of years
_SPAN = re.compile(r"\b(?:between|from)\b.*\b(?:and|to|until|till)\b", re.I)
# "the latest inspection" as one end of a span whose other end is a year: "how does the latest compare with 2022?",
# "between 2019 and the most recent report". Not "last": "since the last inspection" means the one before.
LATEST_END = re.compile(
    r"\b(?:latest|most recent|newest|current)\b(?:\s+(?:full\s+)?(?:ilacs\s+|sif\s+|focused\s+|monitoring\s+)?"
    r"(?:inspections?|reports?|visits?|letters?|ones?|judgements?|findings))?",
    re.I,
)
SINCE_LAST = re.compile(
    r"\bsince (?:the|its|their) (?:last|previous|most recent|latest) (?:full |ilacs |standard )?(?:inspection|visit|report)\b"
    # "how does that compare with the one before?": the report shown, beside the one before it
    r"|\b(?:compar\w*|differ\w*|changed?)\b[^?]{0,40}?\b(?:with|to|from|since|and)\s+(?:the\s+one\s+before|the\s+previous(?:\s+one)?"
    r"|the\s+one\s+prior|the\s+earlier\s+one|(?:the\s+)?(?:previous|prior|earlier)\s+(?:inspection|report|visit)|before\s+(?:that|it))\b",
    re.I,
)
_TWO_ENDS = re.compile(r"\b(?:compar\w*|contrast\w*|differ\w*|chang\w*|improv\w*|deteriorat\w*|between|versus|vs|against|since)\b", re.I)
# A question that points at an earlier time or report, not at where an authority stands now: older reports are what
# it asks about. Words of change or continuity ("still", "better", "ever", "improved", "between") do not point there:
# they qualify other things as often ("before they turn 18", "between 21 and 25", "when things at home aren't getting
# better", "the different partners"), and a question about change is answered from where the authority stands now,
# whose report says what changed since (issue 19's time policy). Change over time is the timeline route's.
PAST_ASKED = re.compile(
    r"\b(?:previous(?:ly)?|prior|earlier|used to|history|historic\w*|in the past|back then|at the time|originally)\b"
    r"|\bbefore\s+(?:(?:the|its|their|that|this|last|previous|latest|full|sif|ilacs|focused|monitoring)\s+)*"
    r"(?:re-?)?(?:inspections?|visits?|reports?|judgements?|ofsted|then|that\b)"
    r"|\bwhen (?:did|was|were|had)\b",  # "when did Buckinghamshire create its social work academy?": a past event
    re.I,
)
# The COVID-19 pandemic as a point in time ("the covid-era focused visit", "during the pandemic")
_COVID = re.compile(r"\b(?:covid(?:-19)?|coronavirus|pandemic|lockdowns?)\b", re.I)
# A named report type used as a point in time, not as the scope: "since the 2024 focused visit",
# "between the 2018 SIF report and the 2022 inspection"
_TYPE_WORDS = r"(?:focus(?:s)?ed[- ]visits?|monitoring[- ]visits?|SIF|ILACS|(?:area\s+)?SEND\s+inspections?)"
_REPORT_WORDS = rf"(?:{_TYPE_WORDS}|inspections?|visits?|reports?)"
_TYPE_AS_TIME = re.compile(
    rf"\b(?:since|after|following)\s+(?:the\s+|its\s+|their\s+|a\s+)?(?:[\w-]+\s+){{0,3}}?{_TYPE_WORDS}"
    rf"|\b{_REPORT_WORDS}\b.{{0,60}}?\b(?:and|to|until|versus|vs\.?|with|compared (?:with|to))\s+"
    rf"(?:the\s+|its\s+|their\s+|a\s+)?(?:[\w-]+\s+){{0,3}}?{_REPORT_WORDS}\b",
    re.I,
)

_COMPARE = re.compile(
    r"\b(compare[sd]?|comparing|comparison|contrast|differ|differs|different|difference|differences|between|versus|vs\.?|"
    r"both|side by side|how do|how does|with its|with their|and)\b",
    re.I,
)
_NEIGHBOUR_PHRASE = re.compile(
    r"\b(?:(?:with|and|to|against|among|amongst)\s+)?(?:(?:its|their|her|his|the)\s+)?(?:nearest\s+|closest\s+)?"
    r"(?:statistical(?:ly)?\s+neighbou?rs?|neighbou?rs|similar\s+(?:local\s+)?(?:authorities|councils|areas)|comparator\s+(?:authorities|councils))",
    re.I,
)
# "its neighbours", "similar authorities": in children's services, the statistical neighbours Ofsted and the DfE use
_NEIGHBOURS = re.compile(
    r"\bstatistical(?:ly)?\s+neighbou?r|\b(?:its|their|her|his)\s+(?:nearest\s+|closest\s+)?neighbou?rs\b"
    r"|\bsimilar\s+(?:local\s+)?(?:authorities|councils|areas)\b|\bcomparator\s+(?:authorities|councils)\b",
    re.I,
)
# "the older report" is a time; "the older ones" (young people) is not.
_RELATIVE_TIME = re.compile(
    r"\b(next|later|following|subsequent|more recent|newer|previous|earlier|prior|older(?=\s+(?:report|inspection|visit|letter|one)\b))\b",
    re.I,
)
# "What has happened since?", "and since then?": after the time of the conversation's last answer
_SINCE_THEN = re.compile(r"\bsince(?:\s+then)?\s*[?.!]*\s*$|\bsince then\b", re.I)
# Each report an answer showed, as its heading prints it: "**Halton: ILACS inspection, 12 July 2024**" (read only from an
# earlier answer given as text: `state_from_text`)
_SHOWN_REPORT = re.compile(r"\*\*([^*\n]+?), (\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4})\*\*")
_TYPE_OF_LABEL = {label: kind for kind, label in REPORT_TYPE_LABELS.items()}
_FOLLOW_UP_START = re.compile(
    r"^\s*(and|what about|how about|also|so|then|but|ok|okay|what of|same for|and for|and in)\b", re.I
)
_PRONOUN = re.compile(
    r"\b(they|their|them|it|its|that|this|those|these|there|the same|the council|the authority|"
    r"the local authority|the report|the letter|the visit|the inspection|the later|the earlier|"
    r"the previous|the other|he|she)\b",
    re.I,
)

# Words that show a question is about children's services or these reports.
DOMAIN_WORDS = re.compile(
    r"\b(child|children|young people|care|leaver|leavers|social work|worker|foster|adopt|adoption|"
    r"safeguard|protection|inspect|inspection|inspectors|ofsted|report|reports|letter|visit|judg|grade|"
    r"rated|rating|outstanding|inadequate|requires improvement|good|council|authority|authorities|"
    r"leaders|leadership|management|manager|supervision|caseload|front door|mash|referral|assessment|"
    r"plan|plans|placement|placements|send|disab|education|school|virtual school|health|missing|exploit|"
    r"neglect|domestic abuse|family|families|parent|practice|practitioner|workforce|staff|partnership|"
    r"corporate parent|pathway|personal adviser|accommodation|homeless|asylum|unaccompanied|court|"
    r"pre-proceedings|permanence|edge of care|early help|thresholds?|strategy meeting|section 47|lado|"
    r"private fostering|improve|improvement|strength|weakness|finding|findings|recommendation|quality|"
    r"audit|performance|service|services|support|progress|experience|experiences|outcome|outcomes)",
    re.I,
)
# Questions about a named individual: the reports do not identify children, and we do not speculate.
PERSONAL = re.compile(
    r"\b(child|boy|girl|baby|young person|teenager|pupil|son|daughter|foster carer|social worker|mother|father)"
    r"\s+(called|named|whose name is)\b"
    r"|\b(name|names|address|addresses|identity|identities|date of birth|home address)\s+(?:and\s+(?:name|address|identity)\s+)?of\s+"
    r"(?:the\s+|a\s+|this\s+|that\s+)?"
    r"(?:(?!service|council|team|group|scheme|offer|forum|board|panel|programme|project|hub)[\w'\u2019-]+\s+){0,3}?"
    r"(child|children|boy|girl|young person|young people|family|families|care leaver|foster carer|mother|father|"
    r"parent|baby|babies|pupil)s?\b(?!\s*(?:'s|\u2019s)?\s*(?:in care\s+)?(?:service|council|team|group|forum|board|panel))"
    r"|\bwhich\s+(child|boy|girl|baby|young person|care leaver|family)\b(?!ren)\s+(?:in|from|at|was|is|has|had|who|did)\b"
    r"|\bwhich\s+(child|children|boy|girl|family)\s+(was|were|is|are)\s+(abused|harmed|killed|hurt|in care|missing)",
    re.I,
)

# A named person's own views: "what does Nick Bennison think of ...", "Leanne Cooper's opinion of ...". Reports give
# inspectors' findings, not anyone's personal opinions. A name is two capitalised words; "What do care leavers think"
# (the reports quote children's views) is not one.
PERSON_OPINION = re.compile(
    r"\b(?i:what|how)\s+(?i:does|did|would)\s+(?P<name>[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+)\s+(?i:personally\s+)?(?i:think|feel|believe|rate)\b"
    r"|\b(?P<owner>[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+)['\u2019]s\s+(?i:own\s+|personal\s+)?(?i:opinion|views?|thoughts|feelings)\b",
)

# What kind of fact a question asks for, when the answer must contain one (else the reports do not answer it).
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("amount", re.compile(r"\b(budget|spend|spent|spending|cost|costs|funding|how much money|in pounds|\u00a3)\b", re.I)),
    (
        "person",
        re.compile(
            r"\bname of the\b(?!\s+(?:service|team|group|scheme|programme|board|panel|offer|report|authority))"
            r"|\b(?:their|his|her|the person's) names?\b|\bnamed?\b[^?]{0,20}\b(?:manager|director|worker|adviser|carer|child|boy|girl)\b"
            r"|\bwho(?:['\u2019]s| is| was| runs| ran| leads| led| heads| manages| chairs)\b(?!.*\binspect)",
            re.I,
        ),
    ),
    ("proportion", re.compile(r"\b(what proportion|what percentage|percentage of|proportion of|what rate|rate of|what share|what fraction)\b", re.I)),
    # "the average caseload", not "compared with the England average"
    ("number", re.compile(r"\b(how many|average number|number of|how much)\b|(?<!england )(?<!national )(?<!regional )\baverage\s+(?=[a-z])", re.I)),
)
# The words a figure is asked about: "how many [social workers]", "the average [caseload per social worker]"
_FIGURE_OF = re.compile(
    r"\b(?:how many|how much|number of|average(?: number of)?|proportion of|percentage of|rate of|share of|what proportion of"
    r"|what percentage of|what share of|what fraction of|what rate of)\s+(?=(?P<what>(?:[\w'\u2019-]+\s*){1,8}))",
    re.I,
)
_FIGURE_STOP = frozenset(
    "the a an of in on at for to by with from and or does do did is are was were has have had its their our this that these "
    "those there who which what per each every council councils authority children's service services number numbers "
    "proportion percentage rate share fraction total amount figure many much".split()
)
_AMOUNT = re.compile(r"\u00a3\s?\d|\b\d[\d,.]*\s*(?:million|billion|thousand|pounds|k)\b", re.I)
# A count: a numeral that is not a year, a number word, or a fraction ("only half of the children who go missing");
# not a duration or an age ("for over 12 months", "aged 16", "18-year-olds")
_CARDINAL = re.compile(
    r"(?<!aged )(?<!age )(?:\b(?!(?:19|20)\d\d\b)\d[\d,.]*%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|dozens?|half|third|thirds|quarter|quarters"
    r"|majority|minority)\b)(?![\s-]*(?:working\s+)?(?:days?|weeks?|months?|years?|hours?|year-olds?|-year-old)\b)",
    re.I,
)
_SHARE = re.compile(
    r"\b\d[\d,.]*\s*(?:%|per ?cent)|\b(?:half|third|thirds|quarter|quarters|majority|minority|most|few|all|none|no|one in \w+)\b",
    re.I,
)
_PERSON = re.compile(r"(?<![.!?]\s)(?<!^)\b(?:Mr|Mrs|Ms|Dr|Miss)\.? [A-Z][a-z]+|\b[A-Z][a-z]+ [A-Z][a-z]{2,}\b")
_NOT_PERSON = re.compile(r"\b(Council|Services?|Board|Team|Hub|Offer|Framework|Authority|Inspector|Ofsted|Children|Care|Young|Local|National|Social|Public|Law|Outline|Court|School|Health|Service|Group|Partnership|Panel|England|Borough|County|City|Majesty)\b")
_FIGURE_WINDOW = 8  # words: how near the figure must be to what it counts


# What the answer to a "how many / when / how long" question must contain: sentences that contain it rank higher.
ANSWER_FOCUS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"\b(how many|number of|what proportion|what percentage|percentage of|what rate|rate of|how much|what share|what fraction)\b", re.I),
        re.compile(r"\d|%|\b(half|third|quarter|majority|minority|one in)\b", re.I),
    ),
    (
        re.compile(r"\b(when (?:did|was|were|had)|what year|which year|since when)\b", re.I),
        re.compile(r"\b(?:19|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"),
    ),
    (
        re.compile(r"\bhow (?:long|quickly|soon|early|late|often|frequently)\b|\bwaiting times?\b", re.I),
        # a time, or a point in a young person's life ("at 17 and a half"); not an age group ("aged over 21 years")
        re.compile(
            r"\b(?!(?:1[6-9]|2[0-5])\s+years?\b)\d+(?:\.\d+)?\s*(?:working\s+)?(?:days?|weeks?|months?|years?|hours?)\b"
            r"|\b(?:one|two|three|four|five|six|several|many)[- ](?:day|week|month|year)s?\b"
            r"|\b(?:at|from|by|until|before|after|around)\s+(?:the\s+age\s+of\s+|age\s+)?(?:1[4-9]|2[0-5])(?:\s+and\s+a\s+half)?\b"
            r"|\b(?:birthday|daily|weekly|monthly|fortnightly|annually|early enough|too late|too early|too long)\b"
            r"|\b\d+(?:\.\d+)?\s*%",
            re.I,
        ),
    ),
    # "why was leadership rated so low?": the reasons are the shortcomings
    (
        # ... and "what are the weaknesses in its services for disabled children?" asks for them
        re.compile(
            r"\bwhy\b.*\b(?:low|poor(?:ly)?|badly|bad|inadequate|weak|criticis\w*|downgraded|fail\w*|worse)\b"
            r"|\b(?:weakness(?:es)?|shortcomings?|failings?|criticisms?|negatives?|poor practice)\b"
            r"|\bwhat(?:'s|\s+is|\s+was|\s+were|\s+are)\s+(?:wrong|not working|not going well)\b|\bnot (?:working|going) well\b",
            re.I,
        ),
        re.compile(
            r"\b(?:not|no longer|too (?:slow|long|many|few|much|little)|deteriorat\w*|weak\w*|inconsistent|insufficient\w*|lack\w*|"
            r"delay\w*|fail\w*|poor\w*|ineffective|gaps?|variable|serious|concerns?|declin\w*)\b",
            re.I,
        ),
    ),
    # "why was Camden judged outstanding?": the reasons are the strengths; "what did inspectors praise?" asks for them
    (
        re.compile(
            r"\bwhy\b.*\b(?:high(?:ly)?|outstanding|good|strong|praised|upgraded|improved|better)\b"
            r"|\bstrengths?\b|\bprais\w*|\bpositives?\b|\b(?:working|going|done|do(?:ing)?) well\b|\bgood practice\b",
            re.I,
        ),
        re.compile(r"\b(?:strong\w*|effective\w*|excellent|exceptional\w*|outstanding|well|improv\w*|timely|consistent\w*|highly|robust)\b", re.I),
    ),
)


def answer_focus(question: str) -> re.Pattern[str] | None:
    """For a question asking for a figure, a date or a duration: a pattern the answering sentence should match."""
    for asks, contains in ANSWER_FOCUS:
        if asks.search(question):
            return contains
    return None


def expected_answer_type(question: str) -> str | None:
    """"amount", "person" or "number" when the question asks for one, else None."""
    for kind, pattern in ANSWER_TYPES:
        if pattern.search(question):
            return kind
    return None


def figure_asked(question: str) -> tuple[str, ...]:
    """The content words a "how many / what proportion" question counts ("how many social workers does X employ" ->
    social, workers); () when it names none."""
    matches = list(_FIGURE_OF.finditer(question))
    if not matches:
        return ()
    match = matches[-1]  # "how much has the number of care leavers grown": what the number is of
    words = re.findall(r"[a-z][a-z'\u2019-]+", match.group("what").lower())
    return tuple(w for w in words if w not in _FIGURE_STOP and len(w) > 2)


def _near(pattern: re.Pattern[str], text: str, asked: Sequence[str]) -> bool:
    """Whether a match of `pattern` lies within a few words of a word that shares its stem with one asked about."""
    if not asked:
        return bool(pattern.search(text))
    stems = {w[:5] for w in asked}
    words = [(m.start(), m.group(0).lower()) for m in re.finditer(r"[\w'\u2019-]+", text)]
    near = [i for i, (_, w) in enumerate(words) if w[:5] in stems]
    for match in pattern.finditer(text):
        at = sum(1 for start, _ in words if start < match.start())
        if any(abs(at - i) <= _FIGURE_WINDOW for i in near):
            return True
    return False


def has_answer_type(kind: str, text: str, asked: Sequence[str] = ()) -> bool:
    """Whether a sentence contains the kind of fact asked for; for a count, near one of the words it counts
    (`figure_asked`): "350 contacts a month" does not answer "how many social workers"."""
    if kind == "amount":
        return bool(_AMOUNT.search(text))
    if kind == "number":
        return _near(_CARDINAL, text, asked)
    if kind == "proportion":
        return bool(_SHARE.search(text))  # a share's subject is often the sentence before: "approximately 10% are ..."
    if kind == "person":
        return any(not _NOT_PERSON.search(m.group(0)) for m in _PERSON.finditer(text))
    return True


@dataclass(frozen=True)
class QueryPlan:
    """What the question asks and where to look; part of every answer's trace."""

    question: str
    standalone: str  # the question made standalone from the conversation
    topic: str = ""  # what to search for within the scope: no framing, authority names, years or report types
    subject: str = ""  # what it is about, for the conversation's state: its own subject words, or the conversation's
    authorities: tuple[str, ...] = ()  # named or carried forward
    authority_source: str = "none"  # "question", "history", "filter" or "none"
    report_types: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    latest: bool = False
    earliest: bool = False
    latest_count: int = 0  # "its last two inspections": each authority's newest this many (of the kind named)
    region: str = ""  # "London boroughs", "in the North West": the reports of that region's authorities
    region_authorities: tuple[str, ...] = ()
    before_published: bool = False  # "the previous one": the end bound applies to publication dates only
    # which of a report's dates the dates asked are: "published" ("inspections published in 2024"), "visited"
    # ("councils inspected in 2023", "visited in March"), or "" for either (a report "of 2024" was published or visited then)
    dated_by: str = ""
    follow_up: bool = False
    off_topic: bool = False  # set by the pipeline from the evidence: it names nothing the corpus knows, and no passage is near
    personal: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.question,
            "standalone": self.standalone,
            "topic": self.topic,
            "subject": self.subject,
            "authorities": list(self.authorities),
            "authority_source": self.authority_source,
            "report_types": list(self.report_types),
            "published_from": self.published_from.isoformat() if self.published_from else None,
            "published_to": self.published_to.isoformat() if self.published_to else None,
            "latest": self.latest,
            "earliest": self.earliest,
            "latest_count": self.latest_count,
            "region": self.region,
            "follow_up": self.follow_up,
            "off_topic": self.off_topic,
            "personal": self.personal,
            "notes": list(self.notes),
        }


# A year as questions write one ("in 2023", "the 2019 inspection").
YEAR = re.compile(r"\b(?:19|20)\d\d\b")

_FRAMING = re.compile(
    r"^\s*(?:(?:please\s+)?(?:can you\s+)?(?:tell me|summari[sz]e|describe|explain|show me)\s+(?:what\s+)?)?"
    # the subject may be gone: "what did the 2015 SIF say about" loses "2015 SIF" to the scope
    # ... and its authority: "what did the 2019 inspection of Liverpool say about" keeps "the inspection of"
    r"(?:(?:what\s+)?(?:(?:did|do|does|have|has)\s+)?(?:the\s+)?(?:(?:inspectors?|ofsted|reports?|letters?|inspections?|visits?)\s+(?:(?:of|for|into)\s+)?)?"
    r"(?:say|said|find|found|report|reported|conclude|concluded|think|note|noted|write|wrote)\s+(?:about|on|of|regarding)?\s*"
    r"|what\s+(?:is|was|were|are)\s+(?:said|reported|found)\s+(?:about|on)\s+)?",
    re.I,
)


# Ofsted and children's-services shorthand, expanded for searching: the embedding model does not know that
# "the front door" means contacts, referrals and the MASH.
GLOSSARY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bfront[- ]door\b", re.I), "contacts and referrals, multi-agency safeguarding hub (MASH), first response"),
    (re.compile(r"\bMASH\b"), "multi-agency safeguarding hub, contacts and referrals"),
    (re.compile(r"\bPAs?\b"), "personal advisers"),
    # authorities name the role their own way: Trafford's after-care workers, Calderdale's pathway advisers
    (re.compile(r"\bpersonal advis[eo]rs?\b", re.I), "after-care workers, pathway advisers, PAs"),
    (re.compile(r"\bcare[- ]experienced\b", re.I), "care leavers"),
    (re.compile(r"\bEDT\b|\bout[- ]of[- ]hours\b|\bat night\b|\bweekends?\b", re.I), "emergency duty team, out of hours service"),
    (re.compile(r"\bLADO\b"), "local authority designated officer, allegations against adults"),
    (re.compile(r"\bUASC\b|\basylum\b", re.I), "unaccompanied asylum-seeking children"),
    (re.compile(r"\bSEND\b"), "special educational needs and disabilities"),
    (re.compile(r"\bEHCPs?\b|\bEHC plans?\b", re.I), "education, health and care plans"),
    (re.compile(r"\breturn home interviews?\b|\bRHIs?\b", re.I), "children missing from home or care, return home interviews"),
    (re.compile(r"\bCSE\b|\bexploitation\b", re.I), "children at risk of exploitation"),
    (re.compile(r"\byoung carers?\b|\blook(?:s|ing)? after a (?:family member|parent)\b", re.I), "young carers"),
    (re.compile(r"\bIROs?\b"), "independent reviewing officers"),
    (re.compile(r"\bPLO\b|\bpre-proceedings\b", re.I), "Public Law Outline, pre-proceedings"),
    (re.compile(r"\bhomeless\b", re.I), "homeless 16- and 17-year-olds, housing"),
    (re.compile(r"\bworkforce\b|\bturnover\b|\bstaffing\b", re.I), "social worker turnover, recruitment and retention, agency staff, caseloads"),
    (re.compile(r"\bQA\b|\bquality assurance\b", re.I), "quality assurance, audits"),
    (re.compile(r"\buniversit(?:y|ies)\b|\bhigher education\b|\bdegrees?\b", re.I), "higher education, education, employment and training"),
    (re.compile(r"\bNEET\b|\bjobs?\b|\bapprenticeships?\b", re.I), "education, employment and training"),
    (re.compile(r"\bCAMHS\b"), "child and adolescent mental health services"),
    (re.compile(r"\bstaying put\b", re.I), "staying put arrangements, living with former foster carers after 18"),
    (re.compile(r"\bcorporate parent(?:s|ing)?\b", re.I), "corporate parenting board, elected members"),
    (
        re.compile(r"\beducation of children in care\b|\bchildren in care'?s? education\b|\bPEPs?\b|\bpersonal education plans?\b", re.I),
        "virtual school, personal education plans",
    ),
    (re.compile(r"\bvoice of the child\b|\bchildren'?s views\b|\bparticipation\b", re.I), "children's views, participation, children in care council"),
    (re.compile(r"\bsufficiency\b|\bunregistered\b|\bnot registered\b", re.I), "placement sufficiency, homes for children in care, unregistered children's homes"),
    (
        re.compile(r"\blos[et]\s+(?:their|his|her|a)\s+(?:homes?|tenanc(?:y|ies)|flats?)\b|\bevict(?:ed|ions?)?\b|\btenanc(?:y|ies)\b", re.I),
        "tenancy breakdowns, tenancy sustainment, care leavers' accommodation",
    ),
    (re.compile(r"\bcare proceedings\b|\bcourt\b", re.I), "care proceedings, Public Law Outline, court"),
    (re.compile(r"\bleadership\b", re.I), "leaders, senior leaders and managers"),
    (
        re.compile(r"\bover(?:[- ]the[- ]age[- ]of)?[- ]21s?\b|\baged (?:over )?21\b|\b21\+|\bturns? 21\b|\b2[12][- ]to[- ]25\b", re.I),
        "care leavers aged 21 to 25, 21+ team, older care leavers",
    ),
)


def glossary_meanings(text: str) -> list[str]:
    """The plain-English meaning of each piece of Ofsted shorthand in the text."""
    return [meaning for pattern, meaning in GLOSSARY if pattern.search(text)]


def expand_terms(text: str) -> str:
    """The text with the plain-English meaning of Ofsted shorthand appended, for searching."""
    extra = glossary_meanings(text)
    return f"{text} ({'; '.join(extra)})" if extra else text


def split_expansion(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The words asked, and for each piece of shorthand in them the phrases of its glossary meaning, as `expand_terms`
    appended them: "front door (contacts and referrals, multi-agency safeguarding hub (MASH), first response)" ->
    ("front door", [("front door", ["contacts and referrals", "multi-agency safeguarding hub", "MASH", "first
    response"])])."""
    for cut in [m.start() for m in re.finditer(r" \(", text)]:
        asked = text[:cut]
        if expand_terms(asked) == text:
            found = []
            for pattern, meaning in GLOSSARY:
                match = pattern.search(asked)
                if match:
                    # "contacts and referrals" names two things, each a meaning of the shorthand
                    found.append((match.group(0), [p.strip() for p in re.split(r"[,;()]| and ", meaning) if p.strip()]))
            return asked, found
    return text, []


def search_text(question: str) -> str:
    """The words worth searching for: the question without its framing ("what did inspectors say about")."""
    stripped = _FRAMING.sub("", question).strip()
    words = [w for w in re.findall(r"\w+", stripped) if w.lower() not in _EMPTY_TOPIC]
    # one telling word is a topic ("LSCB"); a pronoun or nothing is not
    return stripped if len(stripped.split()) >= 2 or words else question


_EMPTY_TOPIC = frozenset("it this that them they these those there here so".split())


def detect_report_types(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for pattern, report_type in REPORT_TYPE_PATTERNS:
        if pattern.search(text) and report_type not in found:
            found.append(report_type)
    return tuple(found)


def _month_span(year: int, number: int) -> tuple[date, date]:
    """The first and last day of a month."""
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return date(year, number, 1), following - timedelta(days=1)


def _point(match: re.Match[str]) -> tuple[date, date]:
    """The first and last day of the time a `_POINT` names: a month, the start or end of a year, or a year."""
    part, month, year = (match.group(1) or "").lower(), (match.group(2) or "").lower(), int(match.group(3))
    if month:
        return _month_span(year, _MONTHS.index(month) + 1)
    if part == "end":
        return date(year, 12, 31), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def detect_dates(text: str) -> tuple[date | None, date | None]:
    """A date range from "in 2023", "since 2021", "since April 2018", "before 2020", "after the end of 2022", "between
    2019 and 2023"."""
    if match := (_BETWEEN.search(text) or _FROM_TO.search(text)):
        first, second = sorted(int(y) for y in match.groups())
        return date(first, 1, 1), date(second, 12, 31)
    start: date | None = None
    end: date | None = None
    if match := _BEFORE.search(text):
        opens, closes = _point(match)
        end = closes if opens == closes else opens - timedelta(days=1)  # "until the end of 2021": up to its last day
    if match := _AFTER.search(text):
        start = _point(match)[1] + timedelta(days=1)
    if match := _SINCE.search(text):
        start = _point(match)[0]
    years = sorted({int(y) for y in _IN_YEAR.findall(text)} | ({2020, 2021} if _COVID.search(text) else set()))
    if len(years) > 1 and _SPAN.search(text):
        return date(years[0], 1, 1), date(years[-1], 12, 31)
    if start or end:
        return start, end
    months = {(m.group(1).lower(), int(m.group(2))) for m in _MONTH_YEAR.finditer(text)}
    if len(years) == 1 and len(months) == 1:
        # "the December 2021 inspection": that month (a visit then, or a report published then)
        month, year = next(iter(months))
        return _month_span(year, _MONTHS.index(month) + 1)
    if len(years) == 1:
        return date(years[0], 1, 1), date(years[0], 12, 31)
    if len(years) > 1:
        return date(years[0], 1, 1), date(years[-1], 12, 31)
    return None, None


def is_follow_up(question: str, states: Sequence[TurnState], named_authorities: Sequence[str], gazetteer: Gazetteer | None = None) -> bool:
    """Whether a question leans on the conversation (`states`: each earlier turn's, oldest first): it starts like a
    follow-up, points back with a pronoun, names no authority while the conversation did, or names one but no subject
    ("Is Islington's any different?")."""
    if not states:
        return False
    if _FOLLOW_UP_START.search(question) or _ORDINAL.search(question):
        return True
    words = re.findall(r"\w+", question)
    if not named_authorities and _PRONOUN.search(question):
        return True
    if not named_authorities and any(state.authorities for state in states):
        return True
    if gazetteer is not None:
        if named_authorities and not _topic_words(question, gazetteer).split():
            return True
        if named_authorities and _COMPARED_TO.search(question) and not _topic_words(_COMPARED_TO.sub(" ", question), gazetteer).split():
            # "how does that compare with Redcar and Cleveland?": the conversation's authority and topic, and this one
            return True
    return len(words) <= 4 and not named_authorities


# "how does that compare with X?", "and versus X?", "how does X stack up?"
_COMPARED_TO = re.compile(r"\b(?:compar\w*|versus|vs\.?|against|stacks? up|measures? up)\b(?:\s+(?:with|to|against))?", re.I)


def _topic_words(text: str, gazetteer: Gazetteer) -> str:
    """The question minus question words, authority names and scope words: what it is about."""
    stripped = gazetteer.strip(text)
    stripped = YEAR.sub(" ", stripped)
    stripped = re.sub(
        r"(?<![\w-])(what|which|how|did|does|do|was|were|is|are|the|a|an|inspectors?|say|said|about|in|of|for|and|"
        r"tell|me|latest|last|most|recent|report|reports|letter|visit|inspection|inspections|re-?inspections?|please|what's|whats|"
        r"they|their|them|it|its|that|this|those|these|there|he|she|any|anything|different|same|"
        r"next|previous|later|earlier|following|full|get|got|find|found|have|has|had|also|then|so|"
        r"judged|graded|rated|grades?|judgements?|ofsted|s|good|well|why)(?![\w-])",
        " ",
        stripped,
        flags=re.I,
    )
    return " ".join(re.findall(r"[\w'-]+", stripped))


# Words of a follow-up that ask how or when, not about what: "how has that changed since?" names no subject.
_NOT_SUBJECT = frozenset(
    "how has have had did does do that this it they them those these changed change changes improved improve got "
    "better worse since then over time moved gone went declined deteriorated progressed "
    "compare compared comparison differ different one before previous prior earlier with to".split()
)


# A pronoun that stands for what the conversation was about: "it" and "them" always, "that", "this", "those" and
# "these" at the end of a clause ("what are leaders doing about it?", "has anything been done about that?"), not
# as a determiner ("that report"). The follow-up's own words then say what about it is asked, and the
# conversation's subject stays part of the subject, however many words of its own the follow-up has.
_POINTS_BACK = re.compile(r"\b(?:it|them|(?:that|this|those|these)(?=\s*(?:[?.!,;]|$)))(?![\w'\u2019-])", re.I)


_ORDINAL = re.compile(r"\b(?:the )?(first|second|third|fourth|fifth|last) (?:one|authority|council|area|of them)\b", re.I)
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}


def _listed_authority(question: str, states: Sequence[TurnState]) -> str | None:
    """"The first one" after a list answer: the authority of that item of the last answer."""
    match = _ORDINAL.search(question)
    if match is None or not states:
        return None
    names = states[-1].listed
    index = _ORDINALS[match.group(1).lower()]
    return names[index] if names and (index < len(names)) else None


# "How does that compare with 2023?", "and compared to 2019?": the report an answer showed beside that year's
_COMPARED_WITH_YEAR = re.compile(r"\bcompar\w*\b[^?]{0,30}?\b(?:with|to|against)\s+(?:the\s+|its\s+|their\s+)?((?:19|20)\d\d)\b", re.I)


# A follow-up about more than one authority at once.
_SEVERAL = re.compile(
    r"\b(?:them|both|these|those|each of|either|the two)\b|\bcompar\w*\b|\bwhich (?:one|of the (?:two|three|authorities|councils))\b"
    # "which had the better leadership?", "which is stronger for care leavers?"
    r"|\bwhich\b[^?]{0,40}?\b(?:better|worse|stronger|weaker|best|worst)\b",
    re.I,
)


def _shown_dates(states: Sequence[TurnState]) -> list[date]:
    """The publication dates of the reports the last answer showed."""
    return [report.published for report in states[-1].shown if report.published is not None]


def state_from_text(turn: Turn, gazetteer: Gazetteer) -> TurnState:
    """The state of a turn given as text only (the CLI's history without a state, an eval case's): the scope and
    subject its question names, and from its answer's text the reports its headings show ("**Halton: ILACS
    inspection, 12 July 2024**") and the authorities its list items start with ("- Halton, ILACS inspection of ...").
    The one place the rendered answer is read; a front end that kept the answer's own state passes that instead."""
    start, end = detect_dates(turn.user)
    shown = []
    for label, when in _SHOWN_REPORT.findall(turn.assistant):
        authority, _, kind = label.rpartition(": ")
        report_type = _TYPE_OF_LABEL.get(kind, "other")
        shown.append(ShownReport(local_authority=authority or None, report_type=report_type, published=datetime.strptime(when, "%d %B %Y").date()))
    items = [gazetteer.find(line[2:].split(",")[0]) for line in turn.assistant.splitlines() if line.startswith("- ")]
    return TurnState(
        authorities=tuple(gazetteer.find(turn.user)),
        report_types=detect_report_types(turn.user),
        published_from=start,
        published_to=end,
        topic=_topic_words(turn.user, gazetteer),
        shown=tuple(shown),
        listed=tuple(dict.fromkeys(found[0] for found in items if found)),
    )


def conversation_states(history: Sequence[Turn], gazetteer: Gazetteer) -> list[TurnState]:
    """Each earlier turn's state, oldest first: the answer's own where the front end kept it, else read from its text."""
    return [turn.state if turn.state is not None else state_from_text(turn, gazetteer) for turn in history]


def answer_state(plan: QueryPlan, filters: Filters | None, route: str, shown: Sequence[ShownReport], listed: Sequence[str] = ()) -> TurnState:
    """An answer's state from the plan as understood (before any scope was widened), less what the user's filters
    set: a filter is the user's to keep or clear, not the conversation's to carry. `listed`: the authorities of a
    list's items in order, else the authorities of the reports shown."""
    filters = filters or Filters()
    dated = filters.published_from or filters.published_to
    return TurnState(
        authorities=() if plan.authority_source == "filter" else plan.authorities,
        report_types=() if filters.report_types else tuple(t for t in plan.report_types if t in REPORT_TYPES),
        published_from=None if dated else plan.published_from,
        published_to=None if dated else plan.published_to,
        topic=plan.subject,
        route=route,
        shown=tuple(shown),
        listed=tuple(dict.fromkeys(listed or [r.local_authority for r in shown if r.local_authority])),
    )


def _dated_by(question: str) -> str:
    """Which of a report's dates the question's dates are: "published" when it says so, "visited" when it asks when
    inspectors were there, else "" (either)."""
    if _PUBLISHED.search(question):
        return "published"
    return "visited" if _VISITED.search(question) else ""


def plan_query(
    question: str,
    history: Sequence[Turn],
    filters: Filters | None,
    gazetteer: Gazetteer,
) -> QueryPlan:
    """Work out scope and the standalone query; carry authority, topic and time forward for follow-ups, from each
    earlier turn's state (`conversation_states`), never from an answer's rendered text."""
    filters = filters or Filters()
    states = conversation_states(history, gazetteer)
    named = gazetteer.find(question)
    report_types = detect_report_types(question)
    type_as_time = len(report_types) == 1 and bool(_TYPE_AS_TIME.search(question))
    if type_as_time:
        report_types = ()  # the named report is a point in time: the question is about the reports around it
    start, end = detect_dates(question)
    latest_end = bool(start and end and start.year == end.year and LATEST_END.search(question) and _TWO_ENDS.search(question))
    if latest_end:
        end = None  # from that year to the latest report
    # "has it improved since its last inspection?" sets the last inspection beside what came before it: not the
    # latest report alone
    latest = bool(_LATEST.search(SINCE_LAST.sub(" ", question))) and start is None
    last_n = LAST_N.search(question)
    latest_count = _COUNT_WORDS.get((last_n.group("n") or last_n.group("m")).lower(), 0) if last_n and start is None else 0
    if latest_count:
        latest = False  # not the newest alone: the newest `latest_count`
    earliest = bool(_EARLIEST.search(question)) and start is None and not latest
    follow_up = is_follow_up(question, states, named, gazetteer)
    notes: list[str] = []
    authority_source = "question" if named else "none"
    standalone = question
    follow_topic = ""
    subject = ""
    before_published = False
    if follow_up:
        # walk back through earlier questions for what this one leaves out
        carried_authorities: list[str] = []
        carried_topic = ""
        # "compare them", "both": the authorities of the last turns that named one each ("Tell me about Leeds" / "And
        # Bradford?" / "Compare them on workforce"), not the last one alone
        several = bool(_SEVERAL.search(question))
        for state in reversed(states):
            if not carried_authorities:
                carried_authorities = list(state.authorities)
            elif several and len(carried_authorities) < 2:
                carried_authorities = [*(a for a in state.authorities if a not in carried_authorities), *carried_authorities]
            if not report_types:
                report_types = state.report_types
            if start is None and end is None:
                start, end = state.published_from, state.published_to
            if not carried_topic:
                carried_topic = state.topic
            if carried_authorities and carried_topic and (not several or len(carried_authorities) > 1):
                break
        if _SINCE_THEN.search(question) and detect_dates(question) == (None, None):
            # "what has happened since?" after an answer about Halton's July 2024 inspection: since the latest report
            # that answer showed, else since the end of the time the conversation asked about
            shown = _shown_dates(states)
            last = max(shown) if shown else end
            if last is not None:
                start, end = last + timedelta(days=1), None
        relative = _RELATIVE_TIME.search(question)
        compared_year = _COMPARED_WITH_YEAR.search(question)
        if compared_year:
            # "how does that compare with 2023?" after an answer on the 2026 report: the two side by side
            year = int(compared_year.group(1))
            others = sorted(d for d in _shown_dates(states) if d.year != year)
            if others:
                other = others[-1].year
                start, end = date(min(year, other), 1, 1), date(max(year, other), 12, 31)
                latest = earliest = False
                question_years = f"{question.strip()} ({other} report)"
            else:
                question_years = ""
        else:
            question_years = ""
        if SINCE_LAST.search(question):
            # "how does that compare with the one before?": up to the latest report the last answer showed; the
            # timeline sets it beside the one before
            shown = _shown_dates(states)
            if shown:
                start, end, latest, relative = None, max(shown), False, None
        if relative and (start or end):
            if relative.group(1).lower() in ("next", "later", "following", "subsequent", "more recent", "newer"):
                start, end = (end + timedelta(days=1) if end else start), None
                earliest = True
            else:
                start, end = None, (start - timedelta(days=1) if start else end)
                latest = True
                before_published = True
        listed = _listed_authority(question, states)
        if named and carried_authorities and _COMPARED_TO.search(question):
            # "how does that compare with Redcar and Cleveland?" after an answer on Middlesbrough: both, side by side
            earlier = [a for a in carried_authorities if a not in named]
            if earlier:
                named = [*earlier, *named]
                notes.append(f"compared with the conversation's {', '.join(earlier)}")
        if not named and listed:
            named, authority_source = [listed], "history"
        if not named and carried_authorities:
            named = carried_authorities
            authority_source = "history"
        own_topic = _topic_words(question, gazetteer)
        pieces = [question_years or question.strip()]
        if authority_source == "history":
            pieces.append("(" + ", ".join(named) + ")")
        # "how has that changed since 2019?": its own words name no subject; the conversation's does
        own_subject = [w for w in own_topic.split() if w.lower().strip("?.,!") not in _NOT_SUBJECT]
        points_back = bool(_POINTS_BACK.search(question))
        if (len(own_subject) < 3 or points_back) and carried_topic:
            pieces.append(carried_topic)
        keep_topic = len(own_subject) < 2 or points_back
        follow_topic = " ".join(part for part in (own_topic, carried_topic if keep_topic else "") if part)
        # what the next turn carries: its own subject words, with the conversation's when it names less than two or
        # points back at it
        subject = " ".join(part for part in (" ".join(own_subject), carried_topic if keep_topic else "") if part)
        standalone = " ".join(pieces)
        notes.append("follow-up: scope carried from the conversation")
    if type_as_time:
        notes.append("the named report type marks a point in time, so all report types are searched")
    authorities = tuple(named)
    if len(authorities) == 1 and _NEIGHBOURS.search(question):
        neighbours = gazetteer.neighbours(authorities[0])
        authorities = authorities + tuple(n for n in neighbours if n not in authorities)
        notes.append(f"statistical neighbours of {named[0]}: {', '.join(neighbours) or 'none recorded'}")
    if filters.local_authorities:
        if authorities:
            chosen = tuple(a for a in authorities if a in filters.local_authorities)
            if not chosen:
                notes.append("the question names authorities outside the filter; the filter applies")
            authorities = chosen or tuple(filters.local_authorities)
        else:
            authorities = tuple(filters.local_authorities)
        authority_source = "filter" if authority_source == "none" or authorities != tuple(named) else authority_source
    if filters.report_types:
        report_types = tuple(filters.report_types)
    if filters.published_from or filters.published_to:
        # the user's date filter replaces the question's dates (mixing them can make an empty window)
        start, end = filters.published_from, filters.published_to
    # "which London boroughs ...?", "in the North West": a region scopes the search when no authority is named
    regions = gazetteer.regions_named(question) if not authorities else []
    region = regions[0] if len(regions) == 1 else ""
    topic = _COMPARE.sub(" ", search_text(standalone)) if len(authorities) > 1 else search_text(standalone)
    if region:
        notes.append(f"region: {region} ({len(gazetteer.in_region(region))} authorities)")
        topic = gazetteer.strip_regions(topic)
    if len(named) == 1 and _NEIGHBOURS.search(question):
        # "with its statistical neighbours", "with similar authorities": whom to compare, not what
        topic = _NEIGHBOUR_PHRASE.sub(" ", topic)
    if follow_up and follow_topic:
        topic = follow_topic  # the follow-up's own subject, or the conversation's when it has none
    if authorities:
        topic = gazetteer.strip(topic)
    if start or end:
        topic = re.sub(r"\b(in|since|before|after|from|between|and|until|during)?\s*(19|20)\d{2}\b", " ", topic)
        topic = re.sub(r"\b(?:covid(?:-19)?|pandemic|lockdown)[- ]era\b", " ", topic, flags=re.I)  # a time, not a topic
    if report_types or type_as_time:
        for pattern, _ in REPORT_TYPE_PATTERNS:
            topic = pattern.sub(" ", topic)
    if latest:
        topic = _SCOPE_PHRASE.sub(" ", topic)  # "at their latest inspections" says when, not what
    if latest_end:
        topic = LATEST_END.sub(" ", _SCOPE_PHRASE.sub(" ", topic))
    topic = _COUNTED_REPORTS.sub(" ", LAST_N.sub(" ", topic))  # "across its three inspections" says which, not what
    topic = ANSWER_FORMAT.sub(" ", topic)  # "in three bullet points" says how to answer, not what about
    topic = _ORDINAL.sub(" ", topic)  # "in the first one" says which authority, not what
    topic = re.sub(r"\(\s*[,;]?\s*\)|\[\s*\]", " ", topic)  # brackets emptied by removing a year or a name
    topic = " ".join(topic.split()).strip(" ,;")
    topic = re.sub(r"\s+\b(in|for|at|of|on|and|from|with)\s*([.?!]*)$", r"\2", topic)
    topic = search_text(topic)  # framing the scope words hid: "what did the [2015 SIF] say about"
    if not re.findall(r"\w+", topic):
        # nothing but scope: the question as asked, less how to set out the answer
        topic = search_text(" ".join(ANSWER_FORMAT.sub(" ", standalone).split()))
    personal = bool(PERSONAL.search(question))
    return QueryPlan(
        question=question,
        standalone=standalone,
        topic=topic,
        subject=subject if follow_up else _topic_words(question, gazetteer),
        authorities=authorities,
        authority_source=authority_source,
        report_types=report_types,
        published_from=start,
        published_to=end,
        latest=latest,
        latest_count=latest_count,
        region=region,
        region_authorities=gazetteer.in_region(region) if region else (),
        earliest=earliest,
        before_published=before_published,
        dated_by=_dated_by(standalone) if start or end else "",
        follow_up=follow_up,
        personal=personal,
        notes=tuple(notes),
    )


def names_shorthand(shorthand: Sequence[tuple[str, Sequence[str]]], texts: Sequence[str]) -> bool:
    """Whether the texts name every piece of shorthand, as written or as one of its meanings, each as a whole phrase
    (its words in a row, stop words aside) within one text."""
    token_lists = [tokenize(text) for text in texts]

    def names(phrase: str) -> bool:
        words = tokenize(phrase)
        return bool(words) and any(words == tokens[i : i + len(words)] for tokens in token_lists for i in range(len(tokens)))

    return all(any(names(phrase) for phrase in [short, *phrases]) for short, phrases in shorthand)
