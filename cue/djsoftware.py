"""Cue points for DJ software: Traktor's NML collection and rekordbox's XML collection.

Neither Traktor nor rekordbox reads a CUE sheet; both import cue points only through their
own collection files. Each output describes one collection entry, the recording itself,
with a cue point at every track start, so the mix can be navigated on the decks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from urllib.parse import quote

from cue.chapters import chapter_title
from cue.defaults import (
    DEFAULT_AUDIO_NAME,
    DJ_SEPARATOR,
    GENRE_SEPARATOR,
    REKORDBOX_CUE_TYPE,
    REKORDBOX_MEMORY_CUE,
    TRAKTOR_CUE_TYPE,
    TRAKTOR_HOTCUES,
)
from cue.model import Notice
from cue.options import Options
from cue.plan import Plan
from cue.text import one_line
from cue.timing import format_seconds

_NML_VERSION = "19"
# The two BMP characters XML 1.0 forbids that survive one_line (controls are gone already).
_NOT_XML = str.maketrans("", "", "\ufffe\uffff")


def _text(value: str) -> str:
    """One line of text an XML parser accepts."""
    return one_line(value).translate(_NOT_XML)


def _audio_path(options: Options, notices: list[Notice]) -> PurePath:
    name = options.audio_name or DEFAULT_AUDIO_NAME
    path: PurePath = PureWindowsPath(name) if PureWindowsPath(name).drive else PurePosixPath(name)
    if not path.is_absolute():
        notices.append(Notice(f"{name!r} is not an absolute path: relocate it in the software"))
    return path


_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>'


def _xml(root: ET.Element) -> str:
    # Written by hand: ElementTree's own declaration uses single quotes, as neither
    # Traktor nor rekordbox does.
    ET.indent(root)
    return f"{_DECLARATION}\n{ET.tostring(root, encoding='unicode')}\n"


def traktor_nml(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """A Traktor NML collection with one ENTRY and a ``CUE_V2`` per track (times in ms).

    The first eight tracks get hot cues 1-8 (Traktor's eight pads); later ones are plain
    cue points. LOCATION uses Traktor's ``/:dir/:`` notation of the audio path.
    """
    notices: list[Notice] = []
    path = _audio_path(options, notices)
    tracklist = plan.tracklist
    root = ET.Element("NML", VERSION=_NML_VERSION)
    ET.SubElement(root, "HEAD", COMPANY="www.native-instruments.com", PROGRAM="Traktor")
    collection = ET.SubElement(root, "COLLECTION", ENTRIES="1")
    entry = ET.SubElement(
        collection,
        "ENTRY",
        TITLE=_text(tracklist.title),
        ARTIST=_text(DJ_SEPARATOR.join(tracklist.djs)),
    )
    folders = [part for part in path.parent.parts if part not in (path.anchor, "")]
    ET.SubElement(
        entry,
        "LOCATION",
        DIR="/:" + "".join(f"{folder}/:" for folder in folders),
        FILE=path.name,
        VOLUME=path.drive,
        VOLUMEID="",
    )
    info = {"GENRE": _text(GENRE_SEPARATOR.join(tracklist.genres))}
    if plan.duration_ms is not None:
        info["PLAYTIME"] = str(plan.duration_ms // 1000)
    ET.SubElement(entry, "INFO", info)
    for order, track in enumerate(plan.tracks):
        ET.SubElement(
            entry,
            "CUE_V2",
            NAME=_text(chapter_title(track, order + 1)),
            DISPL_ORDER="0",
            TYPE=str(TRAKTOR_CUE_TYPE),
            START=f"{track.start_ms}.000000",
            LEN="0.000000",
            REPEATS="-1",
            HOTCUE=str(order if order < TRAKTOR_HOTCUES else -1),
        )
    if len(plan.tracks) > TRAKTOR_HOTCUES:
        notices.append(Notice(f"hot cues on the first {TRAKTOR_HOTCUES} tracks only (pads)"))
    return [_xml(root)], notices


def rekordbox_xml(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """A rekordbox XML collection with one TRACK and a memory cue per track (seconds).

    Memory cues (``Num="-1"``) have no pad limit and show on CDJs without a laptop.
    ``Location`` is a ``file://localhost/`` URL of the audio path.
    """
    notices: list[Notice] = []
    path = _audio_path(options, notices)
    tracklist = plan.tracklist
    root = ET.Element("DJ_PLAYLISTS", Version="1.0.0")
    ET.SubElement(root, "PRODUCT", Name="tracklists", Version="1", Company="Tracklist Service")
    collection = ET.SubElement(root, "COLLECTION", Entries="1")
    attributes = {
        "TrackID": "1",
        "Name": _text(tracklist.title),
        "Artist": _text(DJ_SEPARATOR.join(tracklist.djs)),
        "Genre": _text(GENRE_SEPARATOR.join(tracklist.genres)),
        "Location": "file://localhost/" + quote(path.as_posix().lstrip("/")),
    }
    if tracklist.date:
        attributes["DateAdded"] = tracklist.date
    if plan.duration_ms is not None:
        attributes["TotalTime"] = str(plan.duration_ms // 1000)
    track_element = ET.SubElement(collection, "TRACK", attributes)
    for number, track in enumerate(plan.tracks, start=1):
        ET.SubElement(
            track_element,
            "POSITION_MARK",
            Name=_text(chapter_title(track, number)),
            Type=str(REKORDBOX_CUE_TYPE),
            Start=format_seconds(track.start_ms),
            Num=str(REKORDBOX_MEMORY_CUE),
        )
    playlists = ET.SubElement(root, "PLAYLISTS")
    ET.SubElement(playlists, "NODE", Type="0", Name="ROOT", Count="0")
    return [_xml(root)], notices
