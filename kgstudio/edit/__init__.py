"""Qt-free edit commands with exact inverses, undo/redo and the audit log."""

from kgstudio.edit.commands import (
    AcceptCandidate,
    AddEntity,
    AddTriple,
    DeleteEntity,
    EditCommand,
    MergeEntities,
    RejectCandidate,
    RenameEntity,
    RepointTriple,
    RetractTriple,
    SetEntityClass,
    SplitEntity,
    command_from_dict,
    command_names,
)
from kgstudio.edit.extract_commands import AddExtractedTriples
from kgstudio.edit.fusion_commands import AddFusedTriples, FuseCluster, MarkDistinct, RejectConflicting
from kgstudio.edit.history import EditHistory
from kgstudio.edit.import_commands import ImportStructuralFacts, RetractDocumentFacts
from kgstudio.edit.reflect_commands import ApplyReflection

__all__ = [
    "AcceptCandidate", "AddEntity", "AddExtractedTriples", "ApplyReflection", "AddTriple", "DeleteEntity", "EditCommand", "EditHistory",
    "ImportStructuralFacts", "MergeEntities", "RejectCandidate", "RetractDocumentFacts", "RenameEntity", "RepointTriple", "RetractTriple",
    "SetEntityClass", "SplitEntity", "command_from_dict", "command_names",
    "AddFusedTriples", "FuseCluster", "MarkDistinct", "RejectConflicting",
]
