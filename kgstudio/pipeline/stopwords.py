"""Stopwords for keyphrase extraction: small English and German lists, plus document boilerplate.

Kept as code rather than data files so they ship with the package without
any packaging rule. Words are lowercase; look-ups casefold first.
"""

from __future__ import annotations

from collections.abc import Iterable

ENGLISH = frozenset("""
a about above across after again against all almost along also although always am among an and another any
anyone anything are around as at be became because become becomes been before being below between both but by
can cannot could did do does doing done down during each either else enough etc even ever every few first for
from further get gets given gives got had has have having he her here hers herself him himself his how however
i if in into is it its itself just last least less like made make makes many may me might more most mostly
much must my myself near need neither never next no nor not now of off often on once one only onto or other
others otherwise our ours ourselves out over own per perhaps rather really same second several shall she should
see seen show shows shown since so some something sometimes still such than that the their theirs them themselves then
there thereby therefore these they this those though three through thus to together too toward towards two
under until up upon us use used uses using very via was we well were what whatever when where whereas whether
which while who whom whose why will with within without would yet you your yours yourself yourselves
based different due new study
""".split())

GERMAN = frozenset("""
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch auf aus bei
beim bereits bin bis bist bzw da dabei dadurch daher damit dann darauf daran darin darum das dass dazu dem den
denen denn der deren derer des deshalb dessen die dies diese diesem diesen dieser dieses doch dort du durch
eben ein eine einem einen einer eines einige einigen einiges einmal er es etwa etwas euch euer eure für gegen
gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im
immer in indem ins ist ja jede jedem jeden jeder jedes jedoch jene jenem jenen jener jenes jetzt kann kein keine
keinem keinen keiner keines können könnte man manche manchem manchen mancher manches mehr mein meine meinem
meinen meiner meines mit muss musste nach nicht nichts noch nun nur ob oder ohne schon sehr sein seine seinem
seinen seiner seines seit sich sie sind so solche solchem solchen solcher soll sollte sondern sowie sowohl über
um und uns unser unsere unter usw viel vom von vor wann war waren warum was weil welche welchem welchen welcher
welches wenn wer werde werden wie wieder will wir wird wo wurde wurden zu zum zur zwar zwischen
""".split())

# Words of scholarly and office documents that are never a concept of their own.
BOILERPLATE = frozenset("""
al bzw ca cf doi eg et etc fig figs figure figures http https ie pp ref refs s seite table tables vgl vol www
abb abbildung tab tabelle
""".split())

LANGUAGES = {"en": ENGLISH, "de": GERMAN}


def stopwords(languages: Iterable[str]) -> frozenset[str]:
    """The stopwords of these languages (ISO 639-1 codes; unknown codes add nothing) plus boilerplate."""
    words = set(BOILERPLATE)
    for language in languages:
        words |= LANGUAGES.get(language.lower()[:2], frozenset())
    return frozenset(words)
