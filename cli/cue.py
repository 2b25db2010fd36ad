"""``tracklists cue``: a CUE sheet or chapter file from a saved page or a tracklist JSON.

The input is a 1001tracklists page saved as HTML (read through :mod:`crawler.pages`) or the
JSON document ``tracklists parse`` prints. The sheet goes to stdout or ``--out``; what was
changed on the way (rows without cues, merged rows, cut strings...) goes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import click

from cue import (
    FORMATS,
    AudioInfo,
    CueError,
    Entry,
    Export,
    Options,
    Tracklist,
    check_audio,
    export,
    has_errors,
    read_audio,
)
from cue.options import LONG_SET_CHOICES, TOO_MANY_TRACKS_CHOICES
from cue.plan import MISSING_CUE_CHOICES

_MS = 1000
_Choice = TypeVar("_Choice", bound=str)


def _choice(value: str, choices: tuple[_Choice, ...]) -> _Choice:
    """``value`` as its typed literal (click.Choice has already checked it is one)."""
    return next(choice for choice in choices if choice == value)


def _load(source: Path) -> dict[str, Any]:
    """The tracklist document of a saved page or JSON file, or a one-line ClickException."""
    try:
        body = source.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {source}: {exc.strerror or exc}") from None
    is_json = source.suffix.lower() == ".json" or (
        source.suffix.lower() not in (".html", ".htm") and body.lstrip().startswith(b"{")
    )
    if is_json:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.ClickException(f"{source}: not valid JSON: {exc}") from None
    else:
        document = _parse_html(source, body)
    if not isinstance(document, dict):
        raise click.ClickException(f"{source}: not a tracklist document")
    if document.get("page_type") != "tracklist":
        kind = document.get("page_type", "unknown")
        raise click.ClickException(f"{source}: a {kind} page, not a tracklist")
    return document


def _parse_html(source: Path, body: bytes) -> dict[str, Any]:
    # Imported here so the JSON path never pays for the HTML parsers.
    from crawler.pages import BlockedPage, PageError, parse_page, to_document

    try:
        return to_document(parse_page(body))
    except BlockedPage as exc:
        raise click.ClickException(
            f"{source}: an anti-bot page ({exc.page_type}), not a tracklist"
        ) from None
    except PageError as exc:
        raise click.ClickException(f"{source}: {exc}") from None


def to_tracklist(document: dict[str, Any]) -> Tracklist:
    """The :class:`cue.Tracklist` of a tracklist document (``tracklists parse`` JSON).

    :raises KeyError, TypeError, ValueError: the document lacks a field or has a wrong type.
    """
    entries = tuple(
        Entry(
            row=int(item["row"]),
            artist=str(item["artist"] or ""),
            title=str(item["title"] or ""),
            cue_ms=None if item["cue_seconds"] is None else int(item["cue_seconds"]) * _MS,
            version=item.get("version"),
            label=item.get("label"),
            is_id=bool(item.get("is_id", False)),
            played_with_previous=bool(item.get("played_with_previous", False)),
            position=item.get("position"),
        )
        for item in document["entries"]
    )
    return Tracklist(
        title=str(document["title"]),
        entries=entries,
        djs=tuple(str(dj) for dj in document.get("djs") or ()),
        date=document.get("date"),
        genres=tuple(str(genre) for genre in document.get("genres") or ()),
        url=document.get("url"),
    )


def _audio(path: Path | None) -> AudioInfo | None:
    if path is None:
        return None
    try:
        return read_audio(path)
    except CueError as exc:
        raise click.ClickException(str(exc)) from None


def _check(result: Export, audio: AudioInfo | None) -> None:
    """Report the sheet's problems against the audio; stop on errors."""
    if audio is None:
        return
    problems = [problem for sheet in result.sheets for problem in check_audio(sheet, audio)]
    for problem in problems:
        click.echo(f"audio {problem}", err=True)
    if has_errors(problems):
        raise click.ClickException(f"the sheet does not fit {audio.name}")


def _write(result: Export, out: Path | None, suffix: str) -> None:
    if len(result.documents) == 1:
        if out is None:
            click.echo(result.documents[0], nl=False)
        else:
            out.write_text(result.documents[0], encoding="utf-8")
        return
    if out is None:
        raise click.ClickException(
            f"{len(result.documents)} sheets (more than 99 tracks): give --out to write them"
        )
    for number, text in enumerate(result.documents, start=1):
        path = out.with_name(f"{out.stem}.disc{number}{out.suffix or suffix}")
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)


def _epilog() -> str:
    lines = [f"{name} ({found.kind}): {found.summary}" for name, found in FORMATS.items()]
    return "\b\nFormats (see docs/cue-formats.md):\n" + "\n".join(lines)


@click.command(epilog=_epilog())
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "format_name",
    required=True,
    type=click.Choice(list(FORMATS)),
    help="Output format.",
)
@click.option(
    "--audio-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The recording: names the FILE, gives the set's length, and is checked against.",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
@click.option(
    "--missing-cue",
    type=click.Choice(MISSING_CUE_CHOICES),
    default="fold",
    show_default=True,
    help="Rows without a cue time: fold into the previous track, estimate, or drop.",
)
@click.option(
    "--long-set",
    type=click.Choice(LONG_SET_CHOICES),
    default=None,
    help="CUE past 99 minutes: warn, split into FILE parts, or error. [default: per format]",
)
@click.option(
    "--too-many-tracks",
    type=click.Choice(TOO_MANY_TRACKS_CHOICES),
    default="error",
    show_default=True,
    help="CUE over 99 tracks: error, or split into several sheets.",
)
@click.option("--include-pregap", is_flag=True, help="CUE: INDEX 00 before each track.")
@click.option("--bom", is_flag=True, help="CUE: start with a UTF-8 byte order mark.")
def cue(
    source: Path,
    format_name: str,
    audio_file: Path | None,
    out: Path | None,
    missing_cue: str,
    long_set: str | None,
    too_many_tracks: str,
    include_pregap: bool,
    bom: bool,
) -> None:
    """Write a cue sheet or chapter file for SOURCE (a saved PAGE.html or TRACKLIST.json)."""
    document = _load(source)
    try:
        tracklist = to_tracklist(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise click.ClickException(f"{source}: not a tracklist document: {exc!r}") from None
    audio = _audio(audio_file)
    options = Options(
        missing_cue=_choice(missing_cue, MISSING_CUE_CHOICES),
        duration_ms=audio.duration_ms if audio else None,
        audio_name=str(audio_file.resolve()) if audio_file else None,
        include_pregap=include_pregap,
        bom=bom,
        long_set=_choice(long_set, LONG_SET_CHOICES) if long_set else None,
        too_many_tracks=_choice(too_many_tracks, TOO_MANY_TRACKS_CHOICES),
    )
    try:
        result = export(tracklist, format_name, options)
    except CueError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in result.notices:
        click.echo(f"warning: {notice}", err=True)
    _check(result, audio)
    _write(result, out, FORMATS[format_name].suffix)
