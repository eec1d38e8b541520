"""The docqa page: chat with quoted answers, their sources, and the documents panel.

This module only arranges components and calls `qa`; the answers come from the same `Answerer`
a script uses. It imports no torch at import time: the model loads on the first question (or in
the background once the server has started).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from qa.errors import QAError, UserInputError
from qa.uploads import ALLOWED_SUFFIXES

from . import format as fmt

log = logging.getLogger("docqa.ui")

TITLE = "docqa"
SUBTITLE = ("Ask questions of your documents. Every answer is quoted word for word from them, "
            "with the document, the page and the passage it comes from.")
EXAMPLES = (
    "How many IS fighters were held in the prison?",
    "Who is the spokesman of the SDF?",
    "How did the attack begin?",
    "How many residents were displaced?",
)
STAGES = {"reading": "Reading files", "embedding": "Embedding passages"}

CSS = """
.qa-header h1 { margin-bottom: 0; }
.qa-header p { margin-top: .25rem; opacity: .8; }
.qa-sources { font-size: .92rem; line-height: 1.45; max-height: 640px; overflow-y: auto; }
.qa-sources .qa-list { list-style: none; padding: 0; margin: 0; }
.qa-passage { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .6rem .75rem; margin-bottom: .6rem; background: var(--background-fill-secondary); }
.qa-uncited { opacity: .75; }
.qa-meta { font-size: .82rem; margin-bottom: .3rem; color: var(--body-text-color-subdued); }
.qa-cite { font-weight: 700; color: var(--color-accent); }
.qa-doc { font-weight: 600; word-break: break-all; }
.qa-text { white-space: pre-wrap; }
.qa-text mark { background: #fde68a; color: #111; padding: 0 .1em; border-radius: 2px; }
.qa-badge { display: inline-block; margin-left: .4rem; padding: 0 .45rem; border-radius: 999px;
  background: #fee2e2; color: #991b1b; font-weight: 600; font-size: .75rem; }
.qa-note { padding: .5rem .75rem; border-radius: 6px; background: #fef3c7; color: #78350f; }
.qa-empty { opacity: .7; }
.qa-docs { width: 100%; border-collapse: collapse; font-size: .9rem; border: none !important; }
.qa-docs th, .qa-docs td { text-align: left; padding: .3rem .5rem; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; }
.qa-try p { margin: .25rem 0 0; font-size: .85rem; opacity: .75; }
.qa-docs .qa-num { text-align: right; }
"""


class Page:
    """The handlers behind the page, bound to one index; shared by every visitor."""

    def __init__(self, index: Any, *, max_upload_mb: float = 20.0) -> None:
        from qa import Answerer, Retriever

        self.index = index
        self.max_upload_mb = max_upload_mb
        self.answerer = Answerer(Retriever(index))
        self._write_lock = threading.Lock()

    # --- chat ---------------------------------------------------------------------------
    def ask(self, question: str, history: list[str] | None = None) -> Any:
        return self.answerer.ask(question, history=list(history or []) or None)

    def ask_json(self, question: str) -> dict:
        """Answer one question; returns the answer as JSON (question, answer, abstained, quotes, passages)."""
        try:
            return self.ask(question).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    def add_question(self, question: str, chat: list[dict]) -> tuple[str, list[dict], str]:
        question = (question or "").strip()
        if not question:
            return "", chat, ""
        return "", [*chat, {"role": "user", "content": question}], question

    def respond(self, question: str, chat: list[dict], history: list[str]) -> tuple:
        if not question:
            return chat, history, gr.skip()
        try:
            answer = self.ask(question, history)
        except QAError as exc:
            gr.Warning(str(exc))
            return [*chat, {"role": "assistant", "content": fmt.error_markdown(str(exc))}], history, gr.skip()
        except Exception:
            log.exception("answering %r failed", question)
            message = "Something went wrong while answering; the server log has the details."
            gr.Warning(message)
            return [*chat, {"role": "assistant", "content": fmt.error_markdown(message)}], history, gr.skip()
        chat = [*chat, {"role": "assistant", "content": fmt.answer_markdown(answer)}]
        return chat, [*history, question], fmt.sources_html(answer)

    @staticmethod
    def clear() -> tuple[list, list, str, str]:
        return [], [], fmt.sources_html(None), ""

    # --- documents ----------------------------------------------------------------------
    def documents_view(self) -> tuple[str, Any]:
        try:
            documents = self.index.documents()
        except QAError as exc:
            return fmt.documents_html([]) + f"<p>{fmt.escape_markdown(str(exc))}</p>", gr.update(choices=[])
        names = [d.name for d in documents]
        return fmt.documents_html(documents), gr.update(choices=names, value=None)

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """Hand the files to `Index.upload`, which decides where they go and what is kept."""
        files = [f for f in (files or []) if f]
        if not files:
            return (gr.skip(),) * 4

        def step(stage: str, done: int, total: int) -> None:
            progress((done, total or None), desc=STAGES.get(stage, stage.capitalize()),
                     unit="files" if stage == "reading" else "chunks")

        try:
            with self._write_lock:
                progress(0, desc="Reading files")
                report = self.index.upload(files, max_upload_mb=self.max_upload_mb, progress=step)
        except QAError as exc:
            gr.Warning(str(exc))
            return (fmt.error_markdown(str(exc)), *self.documents_view(), None)
        if report.skipped:
            gr.Warning("Some files could not be indexed; see the documents panel.")
        return (fmt.status_markdown(report), *self.documents_view(), None)

    def remove(self, name: str | None) -> tuple:
        if not name:
            gr.Warning("Choose a document to remove first.")
            return (gr.skip(),) * 3
        try:
            with self._write_lock:
                report = self.index.remove([name])  # also deletes an uploaded file
        except QAError as exc:
            gr.Warning(str(exc))
            return (fmt.error_markdown(str(exc)), *self.documents_view())
        return (fmt.status_markdown(report), *self.documents_view())


def create_app(index: Any, *, max_upload_mb: float = 20.0) -> gr.Blocks:
    """The page for one opened `qa.Index`."""
    page = Page(index, max_upload_mb=max_upload_mb)
    private: dict[str, Any] = {"api_visibility": "private"}

    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"# {TITLE}\n{SUBTITLE}", elem_classes="qa-header")
        history = gr.State([])
        pending = gr.State("")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat", elem_id="qa-chat", height=560, latex_delimiters=[],
                    sanitize_html=True, buttons=["copy"], feedback_options=None,
                    placeholder="**Ask about your documents.** Answers are quoted sentences, "
                                "numbered like the passages under *Sources*.")
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question, e.g. “How many IS fighters were held in the prison?”",
                        show_label=False, scale=5, elem_id="qa-question", autofocus=True,
                        submit_btn=False, max_lines=4)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask", min_width=80)
                gr.Markdown("Try an example:", elem_classes="qa-try")
                with gr.Row():
                    example_buttons = [gr.Button(text, size="sm", variant="secondary", scale=0)
                                       for text in EXAMPLES]
                clear = gr.Button("Clear conversation", size="sm", variant="stop", elem_id="qa-clear")
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Sources")
                sources = gr.HTML(fmt.sources_html(None), elem_id="qa-sources")

        with gr.Accordion("Documents", open=True, elem_id="qa-documents"):
            initial_table, _ = page.documents_view()
            table = gr.HTML(initial_table, elem_id="qa-doc-table")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    upload = gr.File(
                        label=f"Add documents (PDF, TXT, MD, HTML; up to {max_upload_mb:g} MB each)",
                        file_count="multiple", file_types=list(ALLOWED_SUFFIXES),
                        elem_id="qa-upload", height=120)
                with gr.Column(scale=2):
                    choices = [d.name for d in _safe_documents(index)]
                    chosen = gr.Dropdown(choices=choices, value=None, label="Remove a document",
                                         elem_id="qa-remove-choice", interactive=True)
                    remove = gr.Button("Remove", variant="secondary", elem_id="qa-remove")
            status = gr.Markdown("", elem_id="qa-status")

        def submit_chain(trigger: Any) -> None:
            trigger(page.add_question, [question, chatbot], [question, chatbot, pending],
                    queue=False, **private).then(
                page.respond, [pending, chatbot, history], [chatbot, history, sources],
                show_progress_on=[sources], **private)

        submit_chain(question.submit)
        submit_chain(ask.click)
        for button in example_buttons:
            event = button.click(_constant(button.value), None, question, queue=False, **private)
            submit_chain(event.then)
        clear.click(page.clear, None, [chatbot, history, sources, question], queue=False, **private)
        upload.upload(page.upload, [upload], [status, table, chosen, upload], **private)
        remove.click(page.remove, [chosen], [status, table, chosen], **private)
        app.load(page.documents_view, None, [table, chosen], queue=False, **private)

        gr.api(page.ask_json, api_name="ask",
               api_description="Answer a question from the indexed documents; returns the answer as JSON.")
    return app


def _constant(value: str) -> Any:
    def fill() -> str:
        return value

    return fill


def _safe_documents(index: Any) -> list[Any]:
    try:
        return index.documents()
    except QAError:
        return []


def _warm_up(index: Any) -> None:
    """Load the model in the background so that the first question does not wait for it."""
    try:
        index.embedder  # noqa: B018
    except Exception:  # the first question reports the problem properly
        log.debug("warm-up failed", exc_info=True)


def launch_options(*, max_upload_mb: float = 20.0) -> dict[str, Any]:
    """What `launch()` needs besides host and port: the look and the upload limit."""
    return {"css": CSS, "theme": gr.themes.Soft(primary_hue="indigo"),
            "max_file_size": int(max_upload_mb * 1024 * 1024), "footer_links": ["api"]}


def serve(index_path: Path, *, host: str = "127.0.0.1", port: int = 7860,
          auth: tuple[str, str] | None = None, max_upload_mb: float = 20.0,
          open_browser: bool = False, backend: str = "auto",
          on_ready: Callable[[], None] | None = None) -> None:
    """Open the index at `index_path` and serve the page until interrupted; `on_ready` runs once
    the server really listens, so "the page is at …" is never said of a page that is not there."""
    from qa import Index

    index = Index.open(index_path, backend=backend)
    app = create_app(index, max_upload_mb=max_upload_mb)
    app.queue(default_concurrency_limit=4)
    try:
        app.launch(server_name=host, server_port=port, auth=auth, inbrowser=open_browser,
                   show_error=False, quiet=True, prevent_thread_lock=True,
                   **launch_options(max_upload_mb=max_upload_mb))
    except OSError as exc:
        raise UserInputError(f"Cannot serve the page on {host}:{port}: the port is taken or the "
                             "address is not this machine's; pick another with --port "
                             "(or --host).") from exc
    threading.Thread(target=_warm_up, args=(index,), daemon=True, name="docqa-warm-up").start()
    if on_ready is not None:
        on_ready()
    app.block_thread()
