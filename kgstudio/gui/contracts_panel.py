"""The Contracts panel: per extraction run, each contract rule's pass rate and the triples that broke one.

Extraction under contracts (``kgstudio.pipeline.contracts``) records a verdict
per candidate triple and rule (table ``contract_result``). This panel shows,
for the run the user picks, how often each rule held, and lists the
candidates that still broke a rule after the retry, with the rule and the
message the model was given. Those candidates never became triples; clicking
one selects the entities it names on the canvas (and the triple, where the
same fact was accepted from elsewhere) and shows the passage it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import func, select

from kgstudio.store import Project
from kgstudio.store.schema import CandidateRow, ChunkRow, ContractResultRow, DocumentRow, RunRow

MAX_LISTED = 500  # violations listed per run (the newest); the count says how many there are
FAILING = QColor(190, 40, 40)


@dataclass(frozen=True)
class RuleRate:
    """How often one rule held in one run."""

    rule: str
    passed: int
    checked: int

    @property
    def rate(self) -> float:
        return self.passed / self.checked if self.checked else 1.0


@dataclass(frozen=True)
class Violation:
    """A candidate triple that broke a rule, with where it came from."""

    rule: str
    message: str
    candidate_id: int
    subject: str
    predicate: str
    object: str
    chunk_id: int
    span: tuple[int, int] | None
    document: str  # the file's name
    times: int = 1  # the same violation, repeated (a small model says the same thing again and again)


def contract_runs(project: Project) -> list[tuple[int, str]]:
    """``(run id, "run 3: extract, 2026-11-22 06:30")`` for every run with contract verdicts, newest first."""
    judged = select(ContractResultRow.id).where(ContractResultRow.run_id == RunRow.id).exists()  # by the index
    with project.read() as session:
        runs = session.execute(select(RunRow.id, RunRow.stage, RunRow.started_at)
                               .where(judged).order_by(RunRow.id.desc())).all()
    return [(r.id, f"run {r.id}: {r.stage}" + (f", {r.started_at:%Y-%m-%d %H:%M}" if r.started_at else ""))
            for r in runs]


def rule_rates(project: Project, run_id: int) -> list[RuleRate]:
    """Each rule's verdicts in ``run_id``, worst pass rate first."""
    with project.repositories() as repos:
        rules = repos.contracts.pass_rates(run_id).get(run_id, {})
    rates = [RuleRate(rule, passed, checked) for rule, (passed, checked) in rules.items()]
    return sorted(rates, key=lambda r: (r.rate, r.rule))


def violations(project: Project, run_id: int, limit: int = MAX_LISTED) -> tuple[list[Violation], int]:
    """The newest ``limit`` failed verdicts of ``run_id`` with their candidates, and how many there are.

    Repeats (same rule, triple and message) are listed once with :attr:`Violation.times`.
    """
    failed = (ContractResultRow.run_id == run_id, ContractResultRow.passed.is_(False),
              ContractResultRow.subject_table == "candidate")
    query = (select(ContractResultRow.rule, ContractResultRow.message, CandidateRow.id, CandidateRow.subject,
                    CandidateRow.predicate, CandidateRow.object, CandidateRow.chunk_id, CandidateRow.span_start,
                    CandidateRow.span_end, DocumentRow.path)
             .join(CandidateRow, CandidateRow.id == ContractResultRow.subject_id)
             .join(ChunkRow, ChunkRow.id == CandidateRow.chunk_id)
             .join(DocumentRow, DocumentRow.id == ChunkRow.document_id)
             .where(*failed).order_by(ContractResultRow.id.desc()).limit(limit))
    with project.read() as session:
        total = session.scalar(select(func.count()).select_from(ContractResultRow).where(*failed)) or 0
        rows = session.execute(query).all()
    found: dict[tuple, Violation] = {}
    for r in rows:
        key = (r[0], r[1], r[3], r[4], r[5])
        if key in found:
            found[key] = replace(found[key], times=found[key].times + 1)
        else:
            found[key] = Violation(r[0], r[1] or "", r[2], r[3] or "", r[4] or "", r[5] or "", r[6],
                                   (r[7], r[8]) if r[7] is not None and r[8] is not None else None,
                                   r[9].replace("\\", "/").rsplit("/", 1)[-1])
    return list(found.values()), total


class ContractsPanel(QWidget):
    """Pass rate per rule for one run, and the violating candidates; :attr:`violation_chosen` on a click."""

    violation_chosen = Signal(object)  # Violation

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contractsPanel")
        self._project: Project | None = None
        self.run_choice = QComboBox()
        self.run_choice.setMinimumWidth(220)
        self.run_choice.currentIndexChanged.connect(lambda _i: self._show_run())
        self.summary = QLabel("")
        self.rules = QTreeWidget()
        self.rules.setObjectName("contractRules")
        self.rules.setHeaderLabels(["Rule", "Pass rate", "Passed", "Checked"])
        self.rules.setRootIsDecorated(False)
        self.rules.itemSelectionChanged.connect(self._filter_by_rule)
        self.rules.setMinimumWidth(320)  # rule names and the three figures, without scrolling
        self.list = QTreeWidget()
        self.list.setObjectName("contractViolations")
        self.list.setHeaderLabels(["Rule", "Subject", "Predicate", "Object", "Times", "Message", "Document"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.currentItemChanged.connect(self._on_current)
        self.list_note = QLabel("")
        top = QHBoxLayout()
        top.addWidget(QLabel("Run:"))
        top.addWidget(self.run_choice)
        top.addWidget(self.summary, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.list, 1)
        right_layout.addWidget(self.list_note)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.rules)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._violations: list[Violation] = []
        self._stale = False
        self.refresh(None)

    def refresh(self, project: Project | None) -> None:
        """Re-read the runs (after opening a project or an extraction), now if shown, else when next shown."""
        self._project, self._stale = project, True
        if self.isVisible():
            self._load()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:  # read only when looked at: the window reloads after every import and extraction
            self._load()

    def _load(self) -> None:
        """Fill the run list; the newest run is shown."""
        self._stale = False
        project = self._project
        runs = contract_runs(project) if project is not None else []
        self.run_choice.blockSignals(True)
        self.run_choice.clear()
        for run_id, label in runs:
            self.run_choice.addItem(label, run_id)
        self.run_choice.blockSignals(False)
        self.run_choice.setEnabled(bool(runs))
        self._show_run()

    @property
    def run_id(self) -> int | None:
        """The run shown."""
        data = self.run_choice.currentData()
        return int(data) if data is not None else None

    def show_run(self, run_id: int) -> None:
        index = self.run_choice.findData(run_id)
        if index >= 0:
            self.run_choice.setCurrentIndex(index)

    def rates(self) -> dict[str, tuple[int, int]]:
        """What the rules table shows: ``{rule: (passed, checked)}``."""
        return {self.rules.topLevelItem(i).text(0): (int(self.rules.topLevelItem(i).text(2)),
                                                      int(self.rules.topLevelItem(i).text(3)))
                for i in range(self.rules.topLevelItemCount())}

    def rows(self) -> list[Violation]:
        """The violations listed (those of the chosen rule, when one is selected)."""
        return [self.list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.list.topLevelItemCount()) if not self.list.topLevelItem(i).isHidden()]

    def choose(self, row: int) -> None:
        """Select the ``row``-th listed violation (as a click does)."""
        shown = [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())
                 if not self.list.topLevelItem(i).isHidden()]
        self.list.setCurrentItem(shown[row])

    # --- internals -------------------------------------------------------------------------

    def _show_run(self) -> None:
        self.rules.clear()
        self.list.clear()
        self._violations = []
        run_id, project = self.run_id, self._project
        if project is None or run_id is None:
            self.summary.setText("No extraction under contracts yet." if project is not None else "")
            self.list_note.setText("")
            return
        rates = rule_rates(project, run_id)
        for rate in rates:
            item = QTreeWidgetItem([rate.rule, f"{rate.rate:.0%}", str(rate.passed), str(rate.checked)])
            for column in (1, 2, 3):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if rate.passed < rate.checked:
                item.setForeground(1, QBrush(FAILING))
            self.rules.addTopLevelItem(item)
        for column in range(4):
            self.rules.resizeColumnToContents(column)
        self._violations, total = violations(project, run_id)
        for v in self._violations:
            item = QTreeWidgetItem([v.rule, v.subject, v.predicate, v.object, f"{v.times}", v.message, v.document])
            item.setData(0, Qt.ItemDataRole.UserRole, v)
            item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(5, v.message)
            self.list.addTopLevelItem(item)
        for column in (0, 1, 2, 3, 4):
            self.list.resizeColumnToContents(column)
        checked = max((r.checked for r in rates), default=0)
        self.summary.setText(f"{checked:,} candidate triples checked; {total:,} rule violations kept out of the graph"
                             if total else f"{checked:,} candidate triples checked; every rule held")
        listed = sum(v.times for v in self._violations)
        self.list_note.setText(f"showing the newest {listed:,} of {total:,}" if total > listed else "")

    def _filter_by_rule(self) -> None:
        chosen = {item.text(0) for item in self.rules.selectedItems()}
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.setHidden(bool(chosen) and item.text(0) not in chosen)

    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.violation_chosen.emit(current.data(0, Qt.ItemDataRole.UserRole))
