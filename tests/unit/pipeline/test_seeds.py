"""Seed concepts by TextRank: on a paragraph written here and on a real building-energy paper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kgstudio.domain import Seed, SeedOrigin, SeedStatus
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.seeds import add_user_seed, compute_seeds, run_seeds, seed_hints
from kgstudio.pipeline.stopwords import stopwords
from kgstudio.progress import CancelToken, Cancelled
from kgstudio.store import Project

PARAGRAPH = """\
Heat pumps move heat from the outdoor air into buildings. A heat pump in Berlin saves 30% of the
energy that gas boilers burn. In 2021, heat pumps replaced 1200 gas boilers in Berlin. Gas boilers
burn natural gas, while heat pumps run on electricity. See https://example.org/heat-pumps for details.

Die Wärmepumpe nutzt Umweltwärme. Eine Wärmepumpe senkt den Energieverbrauch des Gebäudes.
"""


def words_of(phrases: list[str]) -> set[str]:
    return {word.casefold() for phrase in phrases for word in re.split(r"[\s-]+", phrase)}


def test_compute_seeds_finds_the_phrases_of_a_paragraph() -> None:
    seeds = compute_seeds([PARAGRAPH], top=10)
    texts = [text for text, _ in seeds]
    assert texts[0] == "heat pumps"  # the plural is how the text says it most often
    assert {"gas boilers", "Wärmepumpe", "Energieverbrauch"} <= set(texts)  # German nouns keep their capital
    scores = [score for _, score in seeds]
    assert scores[0] == 1.0 and scores == sorted(scores, reverse=True)
    assert not words_of(texts) & stopwords(["en", "de"])
    assert not any(ch.isdigit() for text in texts for ch in text)
    assert not words_of(texts) & {"https", "example", "org"}  # links are not text


def test_compute_seeds_streams_any_iterable_and_handles_nothing() -> None:
    assert compute_seeds([]) == []
    assert compute_seeds(["the of and 2021 ."]) == []
    paragraphs = (paragraph for paragraph in PARAGRAPH.split("\n\n"))  # read once, as chunks are
    assert compute_seeds(paragraphs, top=5) == compute_seeds([PARAGRAPH], top=5)


def test_repeated_paragraphs_count_once() -> None:
    """Chunk overlap and running page headers must not outweigh the body text."""
    header = "Journal of Building Physics 12 (2021)"
    assert compute_seeds([header + "\n\n" + PARAGRAPH] * 5) == compute_seeds([header + "\n\n" + PARAGRAPH])


@pytest.fixture
def paper(tmp_path: Path, shared_data: Path) -> Project:
    project = Project.create(tmp_path / "p.kgs")
    report = import_paths(project, [shared_data / "pdf" / "text" / "seasonal.pdf"])
    assert report.count("imported") == 1
    yield project
    project.close()


def test_seeds_of_a_building_energy_paper(paper: Project) -> None:
    seeds = run_seeds(paper, top=30)
    texts = [seed.text for seed in seeds]
    assert len(seeds) == 30 and all(s.status is SeedStatus.PROPOSED and s.origin is SeedOrigin.TEXTRANK for s in seeds)
    # "Effect of seasonal temperature on the heat transfer through a building envelope": what a reader would list
    assert {"building", "heat transfer", "thermal insulation", "heat flow", "energy consumption", "air gap",
            "temperature"} <= set(texts[:20])
    assert any(text in ("wall", "walls", "exterior walls", "external walls") for text in texts[:10])
    assert not words_of(texts) & stopwords(["en", "de"])
    assert not any(ch.isdigit() for text in texts for ch in text)  # no years, page numbers, "12h", "W/m²"
    assert [s.score for s in seeds] == sorted((s.score for s in seeds), reverse=True)
    assert paper.counts()["seeds"] == {"total": 30, "by_status": {"proposed": 30, "accepted": 0, "rejected": 0}}


def test_seeds_are_deterministic(paper: Project) -> None:
    first = [(s.text, s.score) for s in run_seeds(paper, top=25)]
    second = [(s.text, s.score) for s in run_seeds(paper, top=25)]
    assert first == second


def test_a_recompute_keeps_the_users_review(paper: Project) -> None:
    seeds = {seed.text: seed for seed in run_seeds(paper, top=10)}
    with paper.transaction() as repos:
        repos.seeds.set_status(seeds["heat transfer"].id, SeedStatus.REJECTED)
        repos.seeds.set_status(seeds["thermal insulation"].id, SeedStatus.ACCEPTED)
        repos.seeds.rename(seeds["heat flow"].id, "heat flux")
    mine = add_user_seed(paper, "hemp wool")

    again = run_seeds(paper, top=10)
    by_text = {seed.text: seed for seed in again}
    assert "heat transfer" not in by_text  # rejected: not listed, and not proposed again
    with paper.repositories() as repos:
        every = repos.seeds.list(include_rejected=True)
    assert [s.status for s in every if s.text.casefold() == "heat transfer"] == [SeedStatus.REJECTED]
    assert by_text["thermal insulation"].status is SeedStatus.ACCEPTED
    assert by_text["heat flux"].origin is SeedOrigin.USER  # a renamed seed is the user's
    assert by_text["hemp wool"] == Seed("hemp wool", 0.0, SeedStatus.ACCEPTED, SeedOrigin.USER, mine.id)
    assert "heat flow" in by_text  # the renamed phrase itself may be proposed again
    assert sum(1 for s in again if s.status is SeedStatus.PROPOSED and s.origin is SeedOrigin.TEXTRANK) == 10
    hints = seed_hints(paper, limit=3)
    assert hints[:2] == ["thermal insulation", "hemp wool"]  # accepted first


def test_adding_an_existing_phrase_accepts_it(paper: Project) -> None:
    seeds = {seed.text: seed for seed in run_seeds(paper, top=10)}
    added = add_user_seed(paper, "  Heat   Transfer ")
    assert added.id == seeds["heat transfer"].id and added.status is SeedStatus.ACCEPTED


def test_cancel_stores_nothing(paper: Project) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        run_seeds(paper, cancel=cancel)
    assert paper.counts()["seeds"]["total"] == 0


def test_progress_is_reported(paper: Project) -> None:
    calls: list[tuple[int, int | None]] = []
    run_seeds(paper, top=5, progress=lambda done, total, message="": calls.append((done, total)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] == paper.counts()["chunks"]


def test_seeds_do_not_depend_on_the_hash_seed(shared_data: Path) -> None:
    """Set and dict order of strings changes between processes; the seeds must not."""
    code = (
        "import sys; from kgstudio.pipeline.seeds import compute_seeds\n"
        "print(compute_seeds([open(sys.argv[1], encoding='utf-8-sig').read()], top=50))\n"
    )
    text = shared_data / "pdf" / "text" / "seasonal.txt"
    outputs = {
        subprocess.run([sys.executable, "-c", code, str(text)], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1 and "heat transfer" in outputs.pop()
