"""Editorial notices: corrections, clarifications, editor's notes and update lines.

They are what readers of a changed article most need to see, so a paragraph
that reads as one is never noise, whatever rule or learned template would skip
it, and its appearance makes a change of kind ``correction``.
"""
from __future__ import annotations

import re

_LABELS = (
    # en
    r"correction|corrections|clarification|editor'?s note|note from the editor|update|updated to add|amendment"
    r"|retraction"
    # de, fr, es, it, pt, nl, sv
    r"|korrektur|berichtigung|richtigstellung|anmerkung der redaktion|aktualisierung|nachtrag"
    r"|rectificatif|erratum|note de la rédaction|mise à jour"
    r"|corrección|fe de errores|aclaración|nota del editor|nota de la redacción|actualización"
    r"|correzione|rettifica|nota della redazione|aggiornamento"
    r"|correção|errata|nota do editor|nota da redação|atualização"
    r"|correctie|rectificatie|noot van de redactie"
    r"|rättelse|redaktionens anmärkning|uppdatering"
)
_SENTENCES = (
    r"an earlier version of this|a previous version of this|this (?:article|story|post) (?:was|has been) "
    r"(?:amended|corrected|updated|changed)"
    r"|in einer früheren version (?:dieses|des) artikels|dieser artikel wurde (?:korrigiert|aktualisiert)"
    r"|une (?:version précédente|précédente version) de cet article|cet article a été (?:corrigé|modifié|mis à jour)"
    r"|una versión anterior de (?:este|esta)|este artículo (?:fue|ha sido) (?:corregido|actualizado)"
    r"|una versione precedente di questo|questo articolo è stato (?:corretto|aggiornato)"
    r"|uma versão anterior dest[ea]|este artigo foi (?:corrigido|atualizado)"
    r"|in een eerdere versie van dit|dit artikel is (?:aangepast|gecorrigeerd)"
    r"|i en tidigare version av (?:den här|denna) artikel|artikeln har (?:rättats|uppdaterats|korrigerats)"
)
NOTICE_RE = re.compile(rf"^\W{{0,3}}(?:{_LABELS})\b[^:\n]{{0,40}}?\s*[:\-–—]|^\W{{0,3}}(?:{_SENTENCES})",
                       re.IGNORECASE)


def is_editorial_notice(paragraph: str) -> bool:
    """True when a paragraph reads as a correction, clarification, editor's note or update line.

    >>> is_editorial_notice("Correction: An earlier version of this article misstated the toll.")
    True
    >>> is_editorial_notice("An earlier version of this story gave the wrong date.")
    True
    >>> is_editorial_notice("Update, Dec. 5, 10:14 a.m.: The death toll has risen to 45.")
    True
    >>> is_editorial_notice("Rättelse: I en tidigare version angavs fel datum.")
    True
    >>> is_editorial_notice("Anmerkung der Redaktion: Der Artikel wurde ergänzt.")
    True
    >>> is_editorial_notice("The correction in share prices continued on Tuesday.")
    False
    >>> is_editorial_notice("Updated figures show 21,000 homes lost power.")
    False
    """
    return bool(NOTICE_RE.match(paragraph))
