"""`sofer-gateway fetch --format` with the export formats of issue 22: Markdown, DOCX and the
words JSON, with the others, from one transcript fetch per item.

Each file is read back by an independent parser (markdown-it-py, python-docx, json).
"""

from __future__ import annotations

import json
from pathlib import Path

import docx
from markdown_it import MarkdownIt
from sofer.batch.v1 import batch_pb2
from sofer_sandbox import SandboxServer

from gateway import captions
from gateway.cli.errors import ExitCode
from gateway.cli.fetch import parse_formats
from gateway.cli.fetch_folder import MANIFEST_NAME
from gateway.server.process import Gateway
from tests.cli.test_client import cli, to
from tests.cli.test_fetch import Stub, create, fetches, files, item, transcript

NEW = "md,docx,words.json"


def test_every_format_is_a_format_name() -> None:
    """--format takes the new names with the old ones, in any case, each once."""
    assert parse_formats("TXT,md,docx,Words.JSON,srt,vtt,json,md") == (
        "txt",
        "md",
        "docx",
        "words.json",
        "srt",
        "vtt",
        "json",
    )


async def test_fetch_writes_markdown_docx_and_words_json(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """fetch --format txt,srt,md,docx,words.json writes every file of every item, each as
    ExportTranscription renders it, from one transcript fetch per item upstream: the Markdown
    parses into paragraphs, the DOCX opens with python-docx with the transcript's words, the
    JSON has a word per timestamp."""
    batch_id, ids = await create(stub, item(1, client_item_id="m-1"), item(2, client_item_id="m-2"))
    before = await fetches(sandbox)
    out = tmp_path / "out"
    result = await cli(
        "fetch", batch_id, "--out", str(out), "--format", f"txt,srt,{NEW}", *to(gateway)
    )
    assert result.code == ExitCode.OK, result.err
    assert await fetches(sandbox) - before == 2  # one per item, for five formats
    exts = ("txt", "srt", "md", "docx", "words.json")
    assert files(out) == {f"m-{n}.{ext}" for n in (1, 2) for ext in exts} | {MANIFEST_NAME}
    for n, tid in enumerate(ids, start=1):
        want = await transcript(stub, tid)
        md = (out / f"m-{n}.md").read_text(encoding="utf-8")
        assert md == captions.MARKDOWN.render(want).content
        kinds = [t.type for t in MarkdownIt("commonmark").parse(md) if t.type.endswith("_open")]
        assert kinds
        assert set(kinds) <= {"heading_open", "paragraph_open"}
        document = docx.Document(str(out / f"m-{n}.docx"))
        body = [p.text for p in document.paragraphs if p.style and p.style.name != "Heading 1"]
        text = captions.TEXT.render(want).content.strip().split("\n\n")
        assert body == [paragraph.replace("\n", " ") for paragraph in text]
        data = json.loads((out / f"m-{n}.words.json").read_text(encoding="utf-8"))
        assert data["transcription_id"] == tid
        assert len(data["words"]) == len(want.timestamps)
        assert want.info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    again = await cli("fetch", batch_id, "--out", str(out), "--format", NEW, *to(gateway))
    assert again.code == ExitCode.OK, again.err
    assert await fetches(sandbox) - before == 2  # a complete folder fetches nothing more
