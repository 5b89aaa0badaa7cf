"""Which paragraphs are noise: text that changes between fetches without an edit.

Noise paragraphs stay in the stored text (it is evidence of what the page
said) but never decide whether a new version exists. Every default rule is
anchored to a whole stamp, counter or label line, so that a sentence which
merely starts with "Updated", "Watch" or "More on" stays significant. Rules
have names, so each skipped paragraph can say which rule skipped it.

Labels and relative times come in the languages Redline's users write in
(en, de, fr, es, it, pt, nl, sv). A page in a known language is checked
against English and its own language; a page of unknown language against all.
For each language, a label or stamp line is noise and the sentence beside it is not:

>>> examples = {
...     "de": ("Lesen Sie auch: Wie die Bahn ihre Pünktlichkeit misst", "vor 5 Minuten",
...            "Aktualisiert am 05.12.2024, 10:14 Uhr",
...            "Lesen Sie auch die Stellungnahme des Ministeriums, die am Abend veröffentlicht wurde."),
...     "fr": ("Lire aussi : La réforme des retraites devant le Conseil", "il y a 5 minutes",
...            "Mis à jour le 5 décembre 2024 à 10h14",
...            "Il y a 5 minutes de marche entre la gare et le tribunal, selon les enquêteurs."),
...     "es": ("Lea también: El Gobierno aprueba los presupuestos", "Hace 37 minutos",
...            "Actualizado: 05/12/2024 10:14 CET",
...            "Hace 37 minutos que el tren debía haber salido, dijo un pasajero."),
...     "it": ("Leggi anche: Il governo approva la manovra", "5 minuti fa",
...            "Aggiornato il 5 dicembre 2024 alle 10:14",
...            "Aggiornato il bilancio, il sindaco ha annunciato nuovi tagli ai servizi."),
...     "pt": ("Leia também: Governo anuncia novo pacote fiscal", "há 5 minutos",
...            "Atualizado em 05/12/2024 às 10h14",
...            "Há 5 minutos de caminhada até ao hospital, disse a polícia."),
...     "nl": ("Lees ook: Kabinet valt over migratiebeleid", "5 minuten geleden",
...            "Bijgewerkt op 5 december 2024 om 10:14",
...            "Lees ook de brief van de minister, die gisteren naar de Kamer ging."),
...     "sv": ("Läs också: Så blev valet i Sverige", "Publicerad för 5 minuter sedan",
...            "Uppdaterad 5 december 2024 kl. 10.14",
...            "Läs också vad regeringen svarade, skrev tidningen i sin ledare."),
...     "en": ("Read more: Storm leaves thousands without power", "3 hours ago",
...            "Updated: Dec 5, 2024, 10:14 a.m. ET",
...            "Updated figures released on Dec 5 show 21,000 homes lost power."),
... }
>>> {lang: [noise_rule(line, lang) for line in lines] for lang, lines in examples.items()}  # doctest: +NORMALIZE_WHITESPACE
{'de': ['teaser-label', 'relative-time', 'stamp', None], 'fr': ['teaser-label', 'relative-time', 'stamp', None],
 'es': ['teaser-label', 'relative-time', 'stamp', None], 'it': ['teaser-label', 'relative-time', 'stamp', None],
 'pt': ['teaser-label', 'relative-time', 'stamp', None], 'nl': ['teaser-label', 'relative-time', 'stamp', None],
 'sv': ['teaser-label', 'relative-time', 'stamp', None], 'en': ['teaser-label', 'relative-time', 'stamp', None]}
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from archive.text.normalize import comparable, comparable_map

LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv")
MAX_NOISE_CHARS = 400  # a longer paragraph is prose, whatever it starts with

_MONTHS = {
    "en": "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
          "|nov(?:ember)?|dec(?:ember)?",
    "de": "januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|okt|dez",
    "fr": "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre"
          "|decembre|janv|févr|avr|juil|déc",
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre"
          "|ene|abr|ago|dic",
    "it": "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre"
          "|gen|mag|giu|lug|ago|set|ott|dic",
    "pt": "janeiro|fevereiro|março|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
          "|fev|abr|mai|ago|set|out|dez",
    "nl": "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|mrt|okt",
    "sv": "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|okt",
}
_DAYS = ("mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
         "|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi"
         "|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|lunedì|martedì|mercoledì"
         "|giovedì|venerdì|sabato|segunda(?:-feira)?|terça(?:-feira)?|quarta(?:-feira)?|quinta(?:-feira)?"
         "|sexta(?:-feira)?|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|måndag|tisdag|onsdag"
         "|torsdag|fredag|lördag|söndag")
_CLOCK_WORDS = (r"a\.m\.|p\.m\.|am|pm|utc|gmt|z|[ecmp][sd]?t|bst|cet|cest|ist|jst|kst|msk|uhr|h|kl\.?|klockan"
                r"|on|at|um|le|à|de|del|el|a las|alle|às|em|op|om|den|the|of")
_DATE_TOKEN = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}T[\d:.]+(?:z|[+-]\d{{2}}:?\d{{2}})?|\d{{1,2}}h\d{{0,2}}|\d{{1,4}}(?:[:./-]\d{{1,4}})*(?:st|nd|rd|th|er|e|º)?\.?|[+-]\d{{2}}:?\d{{2}}"
               rf"|(?:{'|'.join(_MONTHS.values())})\.?|(?:{_DAYS})\.?|(?:{_CLOCK_WORDS}))")
# The rest of a stamp line: only dates, times, zones and their small connecting words, with a digit.
DATE_ONLY = rf"(?=[^\n]*\d)(?:[\s,|•·/()-]*{_DATE_TOKEN}(?![\w]))+[\s,|•·/().-]*$"

_STAMP_LABELS = {
    "en": r"(?:last\s+)?updated|published|first published|posted|modified|edited",
    "de": r"(?:zuletzt\s+)?aktualisiert|veröffentlicht|erstellt|stand",
    "fr": r"publié|mis à jour|modifié|actualisé",
    "es": r"publicado|actualizado|modificado",
    "it": r"pubblicato|aggiornato|modificato",
    "pt": r"publicado|atualizado|actualizado|modificado",
    "nl": r"(?:laatst\s+)?bijgewerkt|gepubliceerd|aangepast",
    "sv": r"(?:senast\s+)?uppdaterad|publicerad|ändrad",
}
_UNITS = {
    "en": r"(?:second|sec|minute|min|hour|hr|day|week|month|year)s?",
    "de": r"sekunden?|minuten?|stunden?|tag(?:en)?|wochen?|monat(?:en)?|jahr(?:en)?",
    "fr": r"secondes?|minutes?|heures?|jours?|semaines?|mois|ans?|années?",
    "es": r"segundos?|minutos?|horas?|días?|dias?|semanas?|mes(?:es)?|años?",
    "it": r"secondi|secondo|minuti|minuto|ore|ora|giorni|giorno|settimane|settimana|mesi|mese|anni|anno",
    "pt": r"segundos?|minutos?|horas?|dias?|semanas?|mês|meses|anos?",
    "nl": r"seconden?|minuten?|minuut|uur|uren|dagen?|weken?|maanden?|jaren?|jaar",
    "sv": r"sekunder|sekund|minuter|minut|timmar|timme|dagar|dag|veckor|vecka|månader|månad|år",
}
_COUNT = r"(?:\d+|an?|one|eine?m?|einer|une?|una?|uno|um|uma|een|ett|en)"
_RELATIVE = {
    "en": rf"{_COUNT}\s+(?:{_UNITS['en']})\s+ago|just now|moments ago|today|yesterday",
    "de": rf"vor\s+{_COUNT}\s+(?:{_UNITS['de']})|gerade eben|soeben|heute|gestern",
    "fr": rf"il y a\s+{_COUNT}\s+(?:{_UNITS['fr']})|à l'instant|aujourd'hui|hier",
    "es": rf"hace\s+{_COUNT}\s+(?:{_UNITS['es']})|ahora mismo|hoy|ayer",
    "it": rf"{_COUNT}\s+(?:{_UNITS['it']})\s+fa|un'ora fa|poco fa|oggi|ieri",
    "pt": rf"há\s+{_COUNT}\s+(?:{_UNITS['pt']})|agora mesmo|hoje|ontem",
    "nl": rf"{_COUNT}\s+(?:{_UNITS['nl']})\s+geleden|zojuist|vandaag|gisteren",
    "sv": rf"för\s+{_COUNT}\s+(?:{_UNITS['sv']})\s+sedan|just nu|i dag|idag|i går|igår",
}
_COUNTERS = {
    "en": r"views?|comments?|shares?|reads?|likes?|reactions?|replies",
    "de": r"kommentare?|aufrufe|leser|reaktionen",
    "fr": r"commentaires?|vues?|partages?|lectures?|réactions?",
    "es": r"comentarios?|visitas?|vistas?|lecturas?|compartidos?",
    "it": r"commenti|commento|visualizzazioni|letture|condivisioni",
    "pt": r"comentários?|visualizações|leituras|partilhas|compartilhamentos",
    "nl": r"reacties?|weergaven|keer gelezen|views",
    "sv": r"kommentarer|kommentar|visningar|läsningar|delningar",
}
# Teaser labels that are never prose: any separator, and the label alone is noise too.
_TEASER_LABELS = {
    "en": r"related(?: articles?| stories| story| content| coverage| reading| links?)?|read more|read also|also read"
          r"|see also|recommended(?: for you| reading)?|you may also like|you might also like|don'?t miss|must read"
          r"|most read|most popular|popular now|top stories|editor'?s picks",
    "de": r"lesen sie auch|lesen sie mehr|mehr zum thema|auch interessant|das könnte sie auch interessieren"
          r"|siehe auch|meistgelesen|empfehlungen|weiterlesen",
    "fr": r"(?:à )?lire aussi|lire également|voir aussi|à voir aussi|sur le même sujet|les plus lus|à lire",
    "es": r"lea también|lee también|te puede interesar|ver también|más información|leer más|lo más leído",
    "it": r"leggi anche|potrebbe interessarti|vedi anche|leggi di più|i più letti",
    "pt": r"leia também|leia mais|veja também|saiba mais|mais lidas",
    "nl": r"lees ook|lees meer|zie ook|meest gelezen",
    "sv": r"läs också|läs även|läs mer|se även|mest läst",
}
# Labels that also begin ordinary sentences ("Watch the river rise", "More on that later - ..."):
# only a colon-like separator followed by a short headline with no closing full stop makes them a teaser.
_AMBIGUOUS_LABELS = {
    "en": r"watch|listen|trending|more on [^:]{1,60}|more from [^:]{1,60}|video|audio|live|gallery|photos",
    "de": r"mehr zu [^:]{1,60}|mehr über [^:]{1,60}|video|audio|bildergalerie",
    "fr": r"vidéo|audio|en direct|plus sur [^:]{1,60}",
    "es": r"vídeo|video|en directo|más sobre [^:]{1,60}",
    "it": r"video|guarda|ascolta|diretta",
    "pt": r"vídeo|video|assista|ouça|mais sobre [^:]{1,60}",
    "nl": r"video|kijk|luister|meer over [^:]{1,60}",
    "sv": r"video|se|lyssna|mer om [^:]{1,60}",
}
_HEADLINE = r"(?:[^.!?\n]|\.\.\.|[.!?](?=\S)){1,160}(?<![.!?])"  # at most one headline: no closing full stop


def _rules(lang: str) -> list[tuple[str, str]]:
    stamp = _STAMP_LABELS[lang]
    return [
        ("relative-time", rf"^(?:(?:{stamp})\s*:?\s*)?(?:{_RELATIVE[lang]})\.?$"),
        ("stamp", rf"^(?:{stamp})\s*(?:on|at|am|um|le|el|il|em|op|den)?\s*:?\s*{DATE_ONLY}"),
        ("counter", rf"^[\d.,]+\s*[km]?\s*(?:{_COUNTERS[lang]})\.?$"
                    rf"|^(?:{_COUNTERS[lang]})\s*:?\s*\(?[\d.,]+\s*[km]?\)?$"),
        ("teaser-label", rf"^(?:{_TEASER_LABELS[lang]})\s*(?:[:>»|›-](?:\s.{{0,200}})?)?$"),
        ("teaser-label", rf"^(?:{_AMBIGUOUS_LABELS[lang]})\s*[:>»|›]\s*{_HEADLINE}$|^(?:{_AMBIGUOUS_LABELS[lang]})\s*:$"),
    ]


_ANY_LANGUAGE = [
    ("refresh-stamp", rf"^(?:as of|last refreshed|refreshed|stand|état au|actualizado a las)\s*:?\s*{DATE_ONLY}"),
    ("page-generated", r"^(?:this )?page (?:was )?(?:generated|rendered|served|cached)(?: in| at| on)?\s*[\d\s.,:/-]+"
                       r"(?:ms|s|sec|secs|seconds?|milliseconds?|utc|gmt)?\.?$"),
    ("counter", r"^(?:share|comment|comments)\s*\(\d+\)$"),
]
RULES: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    lang: [(name, re.compile(p, re.IGNORECASE)) for name, p in [*_rules(lang), *_ANY_LANGUAGE]] for lang in LANGUAGES
}
# A teaser label inside a longer paragraph; what follows it is a teaser only if it is a link's text.
TEASER_LABEL_RE = re.compile(
    r"(?<!\w)(?:(?:" + "|".join(_TEASER_LABELS.values()) + r")\s*[:>»|›]|(?:"
    + "|".join(_AMBIGUOUS_LABELS.values()) + r")\s*:)\s*", re.IGNORECASE)
# A labelled relative time inside a longer paragraph ("... Updated 12 minutes ago Oberbürgermeister ..."):
# pages that extract as one block carry their per-request stamps inside it.
STAMP_SPAN_RE = re.compile(
    "|".join(rf"(?<!\w)(?:{_STAMP_LABELS[lang]})\s*:?\s*(?:{_RELATIVE[lang]})(?!\w)" for lang in LANGUAGES),
    re.IGNORECASE)


def noise_rule(paragraph: str, language: str | None = None,
               site_patterns: Iterable[re.Pattern[str]] = ()) -> str | None:
    """The name of the rule that makes a (comparable) paragraph noise, or None when it is significant.

    >>> noise_rule("Published 17 minutes ago")
    'relative-time'
    >>> noise_rule("Updated: Dec 5, 2024, 10:14 a.m. ET")
    'stamp'
    >>> noise_rule("Updated figures show 12 people died on Dec 5.") is None
    True
    >>> noise_rule("Related article: Putin Pulls From Stalin's Playbook")
    'teaser-label'
    >>> noise_rule("More on North Korea:")
    'teaser-label'
    >>> noise_rule("More on that later - the council will vote in March.") is None
    True
    >>> noise_rule("Watch: The moment the bridge collapsed")
    'teaser-label'
    >>> noise_rule("Watch: officials say the bridge will reopen in March.") is None
    True
    >>> noise_rule("12,345 views")
    'counter'
    >>> noise_rule("The treaty was ratified 17 minutes after midnight.") is None
    True
    >>> noise_rule("Läs också: Så blev valet i Sverige", "sv")
    'teaser-label'
    >>> noise_rule("Publicerad för 5 minuter sedan", "sv")
    'relative-time'
    >>> noise_rule("Läs också: Så blev valet i Sverige", "en") is None
    True
    >>> import re
    >>> noise_rule("Sponsored by ACME", "en", [re.compile("^sponsored", re.I)])
    'site:^sponsored'
    """
    if len(paragraph) > MAX_NOISE_CHARS:
        return None
    languages = LANGUAGES if language not in LANGUAGES else ("en", language) if language != "en" else ("en",)
    for lang in languages:
        for name, pattern in RULES[lang]:
            if pattern.match(paragraph):
                return name
    for site in site_patterns:
        if site.search(paragraph):
            return f"site:{site.pattern}"
    return None


def stamp_spans(paragraph: str) -> list[str]:
    """Labelled relative times inside a paragraph that is more than the stamp.

    >>> stamp_spans("Kuhn opens the fair Updated 12 minutes ago The mayor said the city will pay.")
    ['Updated 12 minutes ago']
    >>> stamp_spans("Updated 12 minutes ago")
    []
    >>> stamp_spans("The suspect fled 20 minutes ago, police said.")
    []
    """
    found = [m.group(0) for m in STAMP_SPAN_RE.finditer(paragraph)]
    return found if found and len(strip_spans(paragraph, found).split()) >= 3 else []


def strip_spans(paragraph: str, spans: Iterable[str]) -> str:
    """A paragraph without the teaser spans found inside it (a label and its linked headline),
    so that a rotating teaser inside one long paragraph does not change the paragraph.

    >>> strip_spans("Prices rose. Read more: Storm hits coast The mayor said so.", ["Read more: Storm hits coast"])
    'Prices rose. The mayor said so.'
    """
    for span in spans:
        if span and span in paragraph:
            paragraph = " ".join(paragraph.replace(span, " ").split())
    return paragraph


def strip_spans_as_captured(paragraph: str, spans: Iterable[str]) -> str:
    """``strip_spans`` for showing: the (comparable) spans are found in the paragraph's compared form and
    cut from the paragraph as captured, so the rest keeps the page's own dashes, quotes and spaces. Its
    compared form is exactly ``strip_spans(comparable(paragraph), spans)``; a paragraph that cannot be cut
    that way (a compatibility character composing with its neighbour) is shown in that compared form.

    >>> strip_spans_as_captured("The third \u2014 liquid water \u2014 Updated 5 minutes ago was \u201cfound\u201d.",
    ...                         ["Updated 5 minutes ago"])
    'The third \u2014 liquid water \u2014 was \u201cfound\u201d.'
    """
    spans = list(spans)
    whole = comparable(paragraph)
    compared = strip_spans(whole, spans)
    if compared == whole:  # no span in this paragraph: nothing to cut
        return paragraph
    shown, mapped = paragraph, comparable_map(paragraph)
    for span in spans:
        if mapped is None:
            return compared
        found, where = mapped
        cuts, at = [], found.find(span) if span else -1
        while at >= 0:
            cuts.append((where[at][0], where[at + len(span) - 1][1]))
            at = found.find(span, at + len(span))
        if cuts:
            kept = [shown[end:start] for (_, end), (start, _) in zip([(0, 0), *cuts], [*cuts, (len(shown), 0)])]
            shown = " ".join(piece.strip() for piece in kept if piece.strip())  # inner spaces as captured
            mapped = comparable_map(shown)
    return shown if comparable(shown) == compared else compared


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile user-supplied ignore patterns case-insensitively."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]
