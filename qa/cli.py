"""The `qa` command: a thin layer over the library; errors become one line, never a traceback."""

from __future__ import annotations

import errno
import json
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from .config import requested_model, resolve_backend, resolve_serve
from .display import count, shown_score
from .errors import QAError, UserInputError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def index_option(f: Any) -> Any:
    return click.option("--index", "index_path", default=None, metavar="DIR",
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Index folder (env QA_INDEX; default: ./index).")(f)


def backend_option(f: Any) -> Any:
    return click.option("--backend", type=click.Choice(["auto", "onnx", "torch"]), default=None,
                        help="Embedding runtime: ONNX int8 (fast) or sentence-transformers on torch "
                             "(env QA_BACKEND; default: auto).")(f)


def json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


class Bar:
    """A tqdm progress bar per stage on standard error, shown only on a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0 or (stage == "reading" and total < 20):
            return
        if stage not in self.bars:
            from tqdm import tqdm

            self.bars[stage] = tqdm(total=total, desc=stage.capitalize(), unit=" chunks"
                                    if stage == "embedding" else " files", leave=False, file=sys.stderr)
        bar = self.bars[stage]
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="docqa", prog_name="qa")
def cli() -> None:
    """Ask questions of your own documents; answers quote the sentences they come from.

    \b
    Examples:
      qa index build                 index the documents in seeds/ (and page uploads)
      qa index build ~/papers        make the index match the files in ~/papers
      qa ask "How many IS fighters were held in the prison?"
      qa serve                       open the chat in your browser at http://127.0.0.1:7860
    """


@cli.group("index", context_settings=CONTEXT)
def index_group() -> None:
    """Build, update and inspect the index."""


def _open_for_writing(index_path: Path | None, model: str | None, backend: str | None) -> Any:
    from .index import Index

    return Index(index_path, model=requested_model(model), backend=resolve_backend(backend))


def _print_report(report: Any, index: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    parts = [f"{len(getattr(report, name))} {name}" for name in
             ("added", "updated", "renamed", "unchanged", "removed", "skipped")]
    click.echo(f"Documents in {index.path}: " + ", ".join(parts))
    for mark, names in (("+", report.added), ("~", report.updated), ("-", report.removed)):
        for name in names:
            click.echo(f"  {mark} {name}")
    for old, new in report.renamed:
        click.echo(f"  > {old} -> {new}")
    for item in report.skipped:
        click.echo(f"  ! skipped {item.path}: {item.reason}")
    click.echo(f"{count(report.chunks_embedded, 'chunk')} embedded in {report.seconds:.1f} s")


def _model_options(f: Any) -> Any:
    f = backend_option(f)
    return click.option("--model", default=None, metavar="NAME_OR_PATH",
                        help="Embedding model name or folder (env QA_MODEL; default: the bundled "
                             "all-MiniLM-L6-v2). Must match the index's model.")(f)


@index_group.command("build", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@_model_options
@json_option
@click.option("--prune-uploads", is_flag=True,
              help="Also drop the files uploaded on the page (and delete them from index/uploads/).")
def index_build(paths: tuple[Path, ...], index_path: Path | None, model: str | None, backend: str | None,
                as_json: bool, prune_uploads: bool) -> None:
    """Make the index match PATHS (files or folders; default: seeds/), keeping page uploads.

    New files are added, changed ones re-embedded, moved ones renamed, missing ones removed,
    unchanged ones kept.
    """
    index = _open_for_writing(index_path, model, backend)
    bar = Bar()
    try:
        report = index.sync(list(paths) or None, progress=bar, prune_uploads=prune_uploads)
    finally:
        bar.close()
    _print_report(report, index, as_json)


@index_group.command("add", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@_model_options
@json_option
def index_add(paths: tuple[Path, ...], index_path: Path | None, model: str | None, backend: str | None,
              as_json: bool) -> None:
    """Add new or changed files and folders to the index; nothing is removed."""
    index = _open_for_writing(index_path, model, backend)
    bar = Bar()
    try:
        report = index.add(list(paths), progress=bar)
    finally:
        bar.close()
    _print_report(report, index, as_json)


@index_group.command("remove", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True)
@index_option
@json_option
def index_remove(paths: tuple[str, ...], index_path: Path | None, as_json: bool) -> None:
    """Remove documents by path, folder or document name (as `qa index status --documents` lists).

    A name that is not indexed, or that matches several documents, is an error: nothing is removed.
    """
    from .index import Index

    index = Index.open(index_path)
    _print_report(index.remove(list(paths)), index, as_json)


@index_group.command("status", context_settings=CONTEXT)
@index_option
@json_option
@click.option("--documents", "list_documents", is_flag=True, help="List the indexed documents too.")
def index_status(index_path: Path | None, as_json: bool, list_documents: bool) -> None:
    """Show what the index holds: documents, chunks, sentences, model, size."""
    from .index import Index

    index = Index.open(index_path)
    status = index.status()
    if list_documents:
        status["documents_list"] = [d.to_dict() for d in index.documents()]
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"Index:      {status['path']} ({status['generation']}, {status['index_type']})")
    click.echo(f"Documents:  {status['documents']}")
    click.echo(f"Chunks:     {status['chunks']}")
    click.echo(f"Sentences:  {status['sentences']}")
    click.echo(f"Model:      {status['model']} (dim {status['dim']}, {status['backend']})")
    click.echo(f"Size:       {status['size_bytes'] / 1e6:.1f} MB")
    for doc in status.get("documents_list", []):
        click.echo(f"  {doc['name']}  ({count(doc['pages'], 'page')}, {count(doc['chunks'], 'chunk')})")


def _print_answer(answer: Any) -> None:
    width = 100
    if answer.abstained:
        click.echo(answer.answer)
    elif answer.short_answer:
        click.echo(f"Answer: {answer.short_answer.text}\n")
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            click.echo("Related sentences:")
        click.echo(textwrap.fill(f"“{quote.text}” [{quote.citation}]", width=width,
                                 subsequent_indent="  "))
        click.echo(f"  — {quote.source}, page {quote.page}")
    if answer.passages:
        title = "Closest passages (not answering):" if answer.abstained else "Passages:"
        click.echo(f"\n{title}")
        for n, passage in enumerate(answer.passages, 1):
            click.echo(f"[{n}] {passage.source}, page {passage.page} "
                       f"(similarity {shown_score(passage.score):.2f})")
            text = " ".join(passage.text.split())
            click.echo(textwrap.indent(textwrap.fill(textwrap.shorten(text, 400, placeholder=" …"),
                                                     width=width - 4), "    "))


@cli.command("ask", context_settings=CONTEXT)
@click.argument("question", required=False)
@index_option
@click.option("-k", "k", type=click.IntRange(1, 50), default=None,
              help="Passages to retrieve (env QA_K; default: 5).")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default=None,
              help="Retrieval: dense vectors, BM25 words, or both fused (env QA_MODE; default: hybrid).")
@click.option("--batch", type=click.File("r"), default=None,
              help="Answer one question per line of FILE ('-' for standard input), as JSON Lines.")
@backend_option
@click.option("--reader", default=None, metavar="on|off|FOLDER",
              help="on: the shipped reader picks quotes and the short answer; off: the heuristic "
                   "scorer alone; FOLDER: a reader you trained (env QA_READER; default: on).")
@json_option
def ask(question: str | None, index_path: Path | None, k: int | None, mode: str | None, batch: Any,
        backend: str | None, reader: str | None, as_json: bool) -> None:
    """Answer QUESTION with verbatim quotes from the indexed documents.

    \b
    Examples:
      qa ask "Who is the spokesman of the SDF?"
      qa ask --json "How many IS fighters were held in the prison?"
      qa ask --json --batch questions.txt > answers.jsonl
    """
    from .answerer import Answerer
    from .index import Index
    from .retriever import Retriever

    if batch is None and question is None:
        raise UserInputError('Give a question, e.g. qa ask "What is this about?", or --batch FILE.')
    if batch is not None and question is not None:
        raise UserInputError("Give either a QUESTION or --batch FILE, not both.")
    if question is not None and not question.strip():
        raise UserInputError("The question is empty.")
    index = Index.open(index_path, backend=resolve_backend(backend))
    answerer = Answerer(Retriever(index, mode=mode), reader=reader)
    if batch is not None:
        for line in batch:
            if line.strip():
                click.echo(json.dumps(answerer.ask(line.strip(), k=k).to_dict(), ensure_ascii=False))
        return
    answer = answerer.ask(question or "", k=k)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_answer(answer)


def check_address(host: str, port: int) -> None:
    """Refuse a busy port or an address this machine cannot listen on, before any slow work."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise UserInputError(f"Cannot listen on {host!r}: it is not an address of this machine; "
                             "pick another with --host (e.g. --host 127.0.0.1).") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except PermissionError:
            raise UserInputError(f"Port {port} needs administrator rights: pick another with --port, "
                                 "e.g. --port 7860.") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserInputError(f"Port {port} on {host} is already in use: pick another with "
                                     f"--port, e.g. --port {port + 1 if port < 65535 else 7860}.") from None
            raise UserInputError(f"Cannot listen on {host}:{port} ({exc.strerror}): "
                                 "pick another address with --host.") from None


@cli.command("serve", context_settings=CONTEXT)
@index_option
@click.option("--host", default=None,
              help="Address to listen on; 0.0.0.0 shares the page on your network (use --auth) "
                   "(env QA_HOST; default: 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (env QA_PORT; default: 7860).")
@click.option("--auth", default=None, metavar="USER:PASSWORD",
              help="Require this login on the page (env QA_AUTH).")
@click.option("--max-upload-mb", type=click.FloatRange(0.1, 1000), default=None,
              help="Largest file the page accepts, in MB (env QA_MAX_UPLOAD_MB; default: 20).")
@backend_option
def serve(index_path: Path | None, host: str | None, port: int | None, auth: str | None,
          max_upload_mb: float | None, backend: str | None) -> None:
    """Open the chat page; builds the index from seeds/ first if there is none.

    \b
    Examples:
      qa serve                                  http://127.0.0.1:7860 on this machine only
      qa serve --port 8080
      qa serve --host 0.0.0.0 --auth alice:s3cret
    """
    from .index import Index

    options = resolve_serve(host=host, port=port, auth=auth, max_upload_mb=max_upload_mb)
    backend = resolve_backend(backend)
    check_address(options["host"], options["port"])
    index = Index(index_path, backend=backend)
    if not index.exists:
        click.echo(f"No index at {index.path} yet: building it from seeds/ …", err=True)
        bar = Bar()
        try:
            report = index.sync(None, progress=bar)
        finally:
            bar.close()
        _print_report(report, index, False)
    from ui.app import serve as serve_app

    shown_host = "127.0.0.1" if options["host"] in ("0.0.0.0", "::") else options["host"]

    def ready() -> None:
        click.echo(f"docqa is at http://{shown_host}:{options['port']}", err=True)

    serve_app(index.path, backend=backend, on_ready=ready, **options)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="qa", standalone_mode=False)
    except QAError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
