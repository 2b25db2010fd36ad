"""Cue times: the visible ``div.cue`` text, and the page's inline cue script.

The visible time is authoritative. The inline script (``cueValuesEntry.seconds = N;
cueValuesEntry.ids[k] = 'tlpX_content'``) says 0 for uncued rows and files a "w/" row under
the previous row's time, so it is only ever kept alongside, never used instead.
"""

from __future__ import annotations

import re

_VISIBLE = re.compile(r"^(?:(\d{1,3}):)?(\d{1,3}):(\d{2})$")
_SCRIPT_ENTRY = re.compile(r"cueValuesEntry\s*=\s*\{\}")
_SCRIPT_SECONDS = re.compile(r"cueValuesEntry\.seconds\s*=\s*(\d{1,9})\s*;")
_SCRIPT_ID = re.compile(r"cueValuesEntry\.ids\[\d+\]\s*=\s*'([^']{1,64})'")


def parse_visible_cue(text: str) -> int | None:
    """``"1:02:56"`` / ``"03:47"`` / ``"0:07"`` -> milliseconds; anything else -> ``None``."""
    match = _VISIBLE.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return total * 1000


def parse_cue_script(page_text: str) -> dict[str, int]:
    """Map content element ids (``tlp12_content``) to the script's cue in milliseconds."""
    if "cueValuesEntry" not in page_text:
        return {}
    cues: dict[str, int] = {}
    chunks = _SCRIPT_ENTRY.split(page_text)
    for chunk in chunks[1:]:
        seconds = _SCRIPT_SECONDS.search(chunk)
        if seconds is None:
            continue
        for content_id in _SCRIPT_ID.findall(chunk):
            cues.setdefault(content_id, int(seconds.group(1)) * 1000)
    return cues
