"""Entity resolution without a store: mentions in, clusters of one real thing out.

The work is near-linear, not all-pairs: every mention gets a handful of
blocking keys (its normalised name, each distinctive word, its acronym, a
person's surname with the first initial, handles, prefix/suffix of one-word
names, and each long word with one letter deleted, so one slip still meets
its word); only mentions that share a key are compared, and a key shared by more
than ``max_block`` mentions is too common to say anything and is skipped
(exact-name keys are never skipped: their members are linked in a chain).
Members of word-based blocks are first screened with rapidfuzz's C++ ``cdist``;
the pairs left are scored with rapidfuzz and a few rules (see :func:`score_pair`);
pairs at or above ``merge_at`` are merged, pairs between ``ask_at`` and
``merge_at`` are *unclear* and go to an adjudicator (the LLM) when one is
given. Clusters are grown strongest pair first and never join two mentions a
user said are different, nor two incompatible classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from kgstudio.pipeline.names import ORGANIZATION, OTHER, PERSON, NormalName, handles, normalise

ClassCompatible = Callable[[str | None, str | None], bool]


@dataclass
class Mention:
    """An entity as resolution sees it: its names, class, and how often the graph uses it."""

    id: int
    name: str
    class_name: str | None = None
    aliases: Sequence[str] = ()
    kind: str = OTHER
    weight: int = 1  # triples and evidence: a tie-breaker for the canonical name


@dataclass(frozen=True)
class ResolutionSettings:
    merge_at: float = 0.90  # merge without asking
    ask_at: float = 0.80  # below: different; between: unclear (asked, when an adjudicator is given)
    max_block: int = 64  # a blocking key shared by more mentions than this is too common to use
    max_forms: int = 6  # surface forms per mention that are compared


@dataclass(frozen=True)
class Link:
    a: int
    b: int
    score: float
    reason: str


@dataclass
class Resolution:
    clusters: list[list[int]] = field(default_factory=list)  # each: mention ids, two or more
    links: dict[frozenset[int], Link] = field(default_factory=dict)  # the pairs that joined clusters
    unclear: list[Link] = field(default_factory=list)  # asked and refused, or not asked
    compared: int = 0  # pairs scored


@dataclass
class _Profile:
    mention: Mention
    forms: list[NormalName]
    handles: set[str]


def resolve(
    mentions: Sequence[Mention],
    settings: ResolutionSettings = ResolutionSettings(),
    *,
    distinct: Iterable[tuple[int, int]] = (),
    compatible: ClassCompatible | None = None,
    adjudicate: Callable[[list[Link]], list[bool]] | None = None,
    only_new_after: int | None = None,
) -> Resolution:
    """Group ``mentions`` that name the same thing.

    ``distinct``: pairs of ids that must never end in one cluster.
    ``compatible``: whether two classes may be one entity (default: equal, or one unknown).
    ``adjudicate``: asked about the unclear pairs, returns one yes/no each.
    ``only_new_after``: incremental runs compare only pairs with a mention id above this.
    """
    compatible = compatible or _same_or_unknown
    profiles = {m.id: _profile(m, settings) for m in mentions}
    pairs = _candidate_pairs(profiles, settings, only_new_after)
    result = Resolution(compared=len(pairs))
    merge, unclear = [], []
    for a, b in pairs:
        pa, pb = profiles[a], profiles[b]
        if not compatible(pa.mention.class_name, pb.mention.class_name):
            continue
        found = score_pair(pa.forms, pb.forms)
        if found is None or found[0] < settings.ask_at:
            continue
        link = Link(a, b, round(found[0], 3), found[1])
        (merge if found[0] >= settings.merge_at else unclear).append(link)
    clusters = _Clusters(profiles, distinct, compatible)
    for link in sorted(merge, key=lambda link: (-link.score, link.a, link.b)):
        if clusters.join(link):
            result.links[frozenset((link.a, link.b))] = link
    open_questions = [link for link in sorted(unclear, key=lambda link: (-link.score, link.a, link.b))
                      if clusters.find(link.a) != clusters.find(link.b)]
    answers = adjudicate(open_questions) if adjudicate and open_questions else [False] * len(open_questions)
    for link, same in zip(open_questions, answers, strict=True):
        if same and clusters.join(link):
            result.links[frozenset((link.a, link.b))] = link
        elif clusters.find(link.a) != clusters.find(link.b):
            result.unclear.append(link)
    result.clusters = clusters.groups()
    return result


def score_pair(forms_a: Sequence[NormalName], forms_b: Sequence[NormalName]) -> tuple[float, str] | None:
    """The best (score 0..1, reason) over two mentions' surface forms, or None when they must differ."""
    best: tuple[float, str] | None = None
    for x in forms_a:
        for y in forms_b:
            found = _score_forms(x, y)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
    if best is None or best[0] < 0.93:
        handle = _shared_handle(forms_a, forms_b) or _shared_handle(forms_b, forms_a)
        if handle is not None:
            best = (0.93, f"one signs with the other's e-mail handle {handle!r}")
    return best


def _shared_handle(addressed: Sequence[NormalName], named: Sequence[NormalName]) -> str | None:
    """A handle of one mention's address that the other's name is, or spells (sebb / sebb@apache.org).

    Only when names cannot decide: if both have a full person name, the names
    are compared instead (jdoe@ may be John or Jane Doe).
    """
    if any(f.person and not f.address for f in addressed) and any(f.person and not f.address for f in named):
        return None
    from_addresses = set().union(*(handles(f) for f in addressed if f.address)) if addressed else set()
    from_names = set().union(*(handles(f) for f in named if not f.address)) if named else set()
    shared = from_addresses & from_names
    return sorted(shared)[0] if shared else None


def _score_forms(x: NormalName, y: NormalName) -> tuple[float, str] | None:
    if x.address and y.address:
        return (1.0, "same e-mail address") if x.key == y.key else None
    if x.address or y.address:
        # An address meets a name only through the name it spells out (beth.apollo@ → Beth Apollo).
        addressed, named = (x, y) if x.address else (y, x)
        if addressed.person is None or named.person is None:
            return None
        spelled = normalise(" ".join((addressed.person.first, *addressed.person.middles, addressed.person.last)),
                            PERSON)
        found = _score_forms(spelled, named)
        return (min(found[0], 0.95), found[1] + " (name spelled by the e-mail address)") if found else None
    if x.digits != y.digits:
        return None  # "Message 1/3" and "Message 2/3", "Windows 10" and "Windows 11"
    if x.key == y.key:
        return 1.0, "same name after normalisation"
    if x.compact == y.compact:
        return 0.98, "same name but for spaces and punctuation"
    if x.person and y.person:
        return _score_people(x, y)
    acronym = _acronym_match(x, y) or _acronym_match(y, x)
    if acronym is not None:
        return acronym
    similarity = max(fuzz.ratio(x.key, y.key), fuzz.token_sort_ratio(x.key, y.key), fuzz.ratio(x.compact, y.compact))
    words_x, words_y = set(x.key.split()), set(y.key.split())
    if words_x != words_y and (words_x < words_y or words_y < words_x):
        # one is the other plus a word ("ABC" / "ABC Marketing"): a narrower thing, not a spelling
        return min(similarity / 100, 0.85), "one name extends the other"
    if not _only_typos(x.key.split(), y.key.split()) and fuzz.ratio(x.compact, y.compact) < 95:
        # "workforce engagement" / "workforce management": similar letters, different words
        return min(similarity / 100, 0.85), f"similar names but different words ({similarity:.0f}%)"
    return similarity / 100, f"similar names ({similarity:.0f}%)"


def _only_typos(words_x: list[str], words_y: list[str]) -> bool:
    """Every word that differs is a slip of the other (one edit; two in a long word), in order or sorted."""
    if len(words_x) != len(words_y):
        return True  # joined or split words: the compact comparison decides
    def slips(xs: list[str], ys: list[str]) -> bool:
        return all(a == b or OSA.distance(a, b) <= (2 if min(len(a), len(b)) >= 9 else 1) for a, b in zip(xs, ys))
    return slips(words_x, words_y) or slips(sorted(words_x), sorted(words_y))


def _score_people(x: NormalName, y: NormalName) -> tuple[float, str] | None:
    px, py = x.person, y.person
    assert px is not None and py is not None
    if px.last != py.last:
        if len(px.last) >= 5 and OSA.distance(px.last, py.last) == 1 and px.first == py.first:
            return 0.9, "same first name, surname one typo apart"
        return None
    middles_agree = not px.middles or not py.middles or px.middles == py.middles
    if not middles_agree:
        return None  # John A. Smith and John B. Smith
    if px.first == py.first:
        return (0.97, "same first and last name, a middle initial more or less") if px.middles != py.middles \
            else (1.0, "same name")
    if len(px.first) == 1 or len(py.first) == 1:
        full = py.first if len(px.first) == 1 else px.first
        initial = px.first if len(px.first) == 1 else py.first
        if full.startswith(initial):
            return 0.85, "same surname, first name given as an initial"  # J. Smith: John or Jane? ask
        return None
    if px.first.startswith(py.first) or py.first.startswith(px.first):
        return 0.86, "same surname, first name shortened"  # Sebastian / Seb
    if len(px.first) >= 5 and OSA.distance(px.first, py.first) == 1:
        return 0.9, "same surname, first name one typo apart"
    if OSA.distance(px.first, py.first) == 1:
        return 0.82, "same surname, first names one letter apart"  # Joan / John: ask
    return None


def _acronym_match(short: NormalName, full: NormalName) -> tuple[float, str] | None:
    if " " in short.key or full.acronym is None or short.compact != full.acronym:
        return None
    if short.kind not in (ORGANIZATION, OTHER):
        return None
    return (0.93 if len(short.compact) >= 3 else 0.84), f"{short.text!r} is the acronym of {full.text!r}"


def _profile(mention: Mention, settings: ResolutionSettings) -> _Profile:
    texts = list(dict.fromkeys([mention.name, *mention.aliases]))[:settings.max_forms]
    forms = [normalise(text, mention.kind) for text in texts]
    found: set[str] = set()
    for form in forms:
        found |= handles(form)
    return _Profile(mention, forms, found)


def _blocking_keys(profile: _Profile) -> tuple[set[str], set[str]]:
    """(exact keys, fuzzy keys) of a mention; keys carry its kind so kinds never meet."""
    kind = profile.mention.kind
    exact, fuzzy = set(), set()
    for form in profile.forms:
        exact.add(f"{kind}|k|{form.key}")
        if form.address:
            if form.person:
                fuzzy.add(f"{kind}|n|{form.person.last}|{form.person.first[0]}")
            continue
        tokens = form.key.split()
        if form.person:
            # a slip in the surname keeps the first name and its start; one in the first name, the surname
            fuzzy.add(f"{kind}|n|{form.person.last}|{form.person.first[0]}")
            fuzzy.add(f"{kind}|f|{form.person.first}|{form.person.last[:2]}")
        else:
            for token in tokens:
                if len(token) >= 3 and not token.isdigit():
                    fuzzy.add(f"{kind}|t|{token}")
        for token in tokens:
            if len(token) >= 5 and not token.isdigit():
                # one slip (a wrong, missing or swapped letter): both spellings share a one-letter deletion
                fuzzy.add(f"{kind}|d|{token}")
                fuzzy.update(f"{kind}|d|{token[:i]}{token[i + 1:]}" for i in range(len(token)))
        if form.acronym and kind != PERSON:
            fuzzy.add(f"{kind}|x|{form.acronym}")
        compact = form.compact
        if len(tokens) == 1:
            fuzzy.add(f"{kind}|x|{compact}")
            if len(compact) >= 6:  # a one-word name with a slip shares its start or its end
                fuzzy.add(f"{kind}|p|{compact[:4]}")
                fuzzy.add(f"{kind}|s|{compact[-4:]}")
    for handle in profile.handles:
        fuzzy.add(f"{kind}|h|{handle}")
    return exact, fuzzy


def _candidate_pairs(profiles: dict[int, _Profile], settings: ResolutionSettings,
                     only_new_after: int | None) -> list[tuple[int, int]]:
    exact: dict[str, list[int]] = defaultdict(list)
    fuzzy: dict[str, list[int]] = defaultdict(list)
    for mention_id, profile in profiles.items():
        keys_exact, keys_fuzzy = _blocking_keys(profile)
        for key in keys_exact:
            exact[key].append(mention_id)
        for key in keys_fuzzy - keys_exact:
            fuzzy[key].append(mention_id)
    pairs: set[tuple[int, int]] = set()

    def wanted(a: int, b: int) -> bool:
        return only_new_after is None or a > only_new_after or b > only_new_after

    for members in exact.values():
        # same normalised name: a chain links them all, in linear work however many there are
        ordered = sorted(set(members))
        pairs.update((a, b) for a, b in zip(ordered, ordered[1:], strict=False) if wanted(a, b))
    for key, members in fuzzy.items():
        if len(members) < 2 or len(members) > settings.max_block:
            continue
        ordered = sorted(set(members))
        if key.split("|", 2)[1] in _SCREENED and len(ordered) > 2:
            # shared word, prefix or suffix: most members are unrelated; C++ screens them before Python scores
            keys = [profiles[m].forms[0].key for m in ordered]
            close = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=_SCREEN_AT, workers=1)
            rows, columns = np.nonzero(np.triu(close, 1))
            screened = [(ordered[i], ordered[j]) for i, j in zip(rows.tolist(), columns.tolist(), strict=True)]
            multi = [m for m in ordered if len(profiles[m].forms) > 1]  # aliases: the first form is not enough
            screened += [(min(a, b), max(a, b)) for a in multi for b in ordered if a != b]
            pairs.update(pair for pair in screened if wanted(*pair))
            continue
        if key.split("|", 2)[1] == "x":
            # an acronym block: only a one-word name against the names it abbreviates
            short = [m for m in ordered if any(" " not in f.key for f in profiles[m].forms)]
            pairs.update((min(a, b), max(a, b)) for a in short for b in ordered if a != b and wanted(a, b))
            continue
        if key.split("|", 2)[1] == "h":
            # a handle links an address to a name: two plain names sharing "johndoe" prove nothing
            signers = [m for m in ordered if _signs(profiles[m])]
            pairs.update((min(a, b), max(a, b)) for a in signers for b in ordered if a != b and wanted(a, b))
            continue
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if wanted(a, b):
                    pairs.add((a, b))
    return sorted(pairs)


def _signs(profile: _Profile) -> bool:
    """Has an address, or is named by a bare handle ("sebb")."""
    return any(f.address or (f.person is None and f.kind == PERSON and f.text.strip().islower())
               for f in profile.forms)


# Block kinds whose members are screened by a fast ratio first: t(oken), p(refix), s(uffix), d(eletion). Exact names,
# acronyms, handles and person-name blocks are scored in full (their matches can look unlike each other).
_SCREENED = frozenset("tpsd")
_SCREEN_AT = 78  # the final score needs 80 (ask_at); ratio, token order and spacing differ a little


def _same_or_unknown(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


class _Clusters:
    """Union-find that refuses joins across a "distinct" pair or between incompatible classes."""

    def __init__(self, profiles: dict[int, _Profile], distinct: Iterable[tuple[int, int]],
                 compatible: ClassCompatible) -> None:
        self.parent = {mention_id: mention_id for mention_id in profiles}
        self.members = {mention_id: [mention_id] for mention_id in profiles}
        self.classes = {mention_id: {p.mention.class_name} - {None} for mention_id, p in profiles.items()}
        self.apart: dict[int, set[int]] = defaultdict(set)
        for a, b in distinct:
            if a in self.parent and b in self.parent:
                self.apart[a].add(b)
                self.apart[b].add(a)
        self.compatible = compatible

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def join(self, link: Link) -> bool:
        ra, rb = self.find(link.a), self.find(link.b)
        if ra == rb:
            return False
        small, large = sorted((ra, rb), key=lambda r: len(self.members[r]))
        if any(self.find(other) == large for member in self.members[small] for other in self.apart.get(member, ())):
            return False
        if not all(self.compatible(x, y) for x in self.classes[small] for y in self.classes[large]):
            return False
        self.parent[small] = large
        self.members[large].extend(self.members.pop(small))
        self.classes[large] |= self.classes.pop(small)
        return True

    def groups(self) -> list[list[int]]:
        return sorted(sorted(members) for members in self.members.values() if len(members) > 1)
