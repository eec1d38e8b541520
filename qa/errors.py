"""Exceptions raised by docqa; the CLI and the page show their message, never a traceback."""


class QAError(Exception):
    "Base class for every error docqa reports to a person."


class IndexNotFound(QAError):
    "There is no index at the given location yet."


class IndexCorrupt(QAError):
    "The index folder exists but cannot be read; rebuild it."


class ModelMismatch(QAError):
    "The index was built with a different embedding model."


class IndexLocked(QAError):
    "Another process is writing to the index."


class DocumentError(QAError):
    "One file cannot be read; the build skips it with this reason."


class ModelNotFound(QAError):
    "The embedding model cannot be found or loaded."


class UserInputError(QAError):
    "A question, path or option given by the person is not usable."


class OnnxExportError(QAError):
    "The embedding model could not be exported to ONNX; the message names the cause."


class ReaderError(QAError):
    "The reader model file is missing or damaged."
