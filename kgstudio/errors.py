"""Errors a user can cause and kgstudio can explain in one line.

Everything that is the user's input being wrong (a file that is not a
project, a missing model, an entity id that does not exist) raises a subclass
of :class:`KgstudioError`. The CLI prints its message and exits non-zero; the
GUI shows it in a dialog. Anything else is a bug and keeps its traceback.
"""


class KgstudioError(Exception):
    """Base class of errors whose message is meant for the user."""


class ProjectError(KgstudioError):
    """A project cannot be created or opened (names the file and the problem)."""


class SchemaTooNewError(ProjectError):
    """The project was written by a newer kgstudio with a newer schema."""


class EditError(KgstudioError):
    """An edit command cannot be applied (unknown id, nothing to undo, ...)."""


class EditConflictError(EditError):
    """Undo/redo refused: the rows it would restore changed since the edit."""


class ModelError(KgstudioError):
    """A model file cannot be found or read, or a model server cannot be used."""


class PromptTooLongError(ModelError):
    """One request is longer than the model's context: that chunk fails, the run goes on."""


class ModelUnavailableError(ModelError):
    """A model server is gone, failing, too slow or garbling its answers, after the retries: worth trying later."""


class RunPausedError(KgstudioError):
    """A long run stopped on a problem outside kgstudio (a model server gone); what it did is kept.

    Running it again resumes. The CLI exits with :attr:`exit_code` (sysexits'
    EX_TEMPFAIL), not 1, so scripts can tell "try again later" from a mistake.
    """

    exit_code = 75
