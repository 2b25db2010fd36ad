"""From tracklist rows to tracks with strictly increasing frame starts.

This is where DJ data meets the rules of the formats, once for every output:

* **"w/" rows** are played together with the previous row and share its start, so they join
  the previous track: its title gains ``" w/ Artist - Title"``. Their own cue, if any, is
  ignored. A "w/" row with nothing before it is treated as an ordinary row.
* **Rows without a cue** follow ``missing_cue``:

  - ``"fold"`` (default): the row joins the track before it (``" / Artist - Title"``).
  - ``"estimate"``: the row gets a start spread evenly between the known cues around it;
    after the last known cue, towards ``duration_ms`` when given, otherwise
    :data:`~cue.defaults.FALLBACK_TRACK_MS` apart. Rows that cannot get a distinct frame
    fold instead.
  - ``"drop"``: the row is left out.

  Every affected row is reported as a :class:`~cue.model.Notice`.
* **The opening track** starts at 0:00 in every output (CUE demands ``INDEX 01 00:00:00``
  on track 1, YouTube demands ``0:00``): a missing or later first cue becomes 0 and is
  reported.
* **Equal or out-of-order cues** are judged after flooring to frames: a row starting on the
  same frame as the track before it joins that track; a row starting earlier than the
  latest start so far is treated as a row without a cue. Both are reported.
* **ID tracks** are kept as the site shows them ("ID - ID") and reported, never dropped.
* **Negative cues** (broken input) are treated as missing, and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cue.defaults import FALLBACK_TRACK_MS, FOLD_PREFIX, WITH_PREFIX
from cue.errors import EmptyTracklistError
from cue.model import Entry, Notice, Tracklist
from cue.timing import format_clock, frames_to_ms, ms_to_frames

MissingCue = Literal["fold", "estimate", "drop"]
MISSING_CUE_CHOICES: tuple[MissingCue, ...] = ("fold", "estimate", "drop")


@dataclass(frozen=True, slots=True)
class Track:
    """One output track: where it starts and what it is called.

    ``start_frame`` is in CUE frames; ``start_ms`` is the same instant in milliseconds
    (the source's own value when it had one, so chapter formats lose nothing to frames).
    ``rows`` lists every tracklist row the track stands for, its own first; ``label`` is
    that first row's record label.
    """

    start_frame: int
    start_ms: int
    performer: str
    title: str
    rows: tuple[int, ...]
    is_id: bool = False
    estimated: bool = False
    label: str | None = None

    @property
    def display(self) -> str:
        """``Performer - Title`` (just the title when the performer is empty)."""
        return f"{self.performer} - {self.title}" if self.performer else self.title


@dataclass(frozen=True, slots=True)
class Plan:
    """A tracklist reduced to tracks every format can hold, plus what was changed."""

    tracklist: Tracklist
    tracks: tuple[Track, ...]
    notices: tuple[Notice, ...]
    duration_ms: int | None = None


@dataclass(slots=True)
class _Group:
    """Rows that end up as one track while planning."""

    head: Entry
    frame: int | None
    ms: int | None
    extra: list[tuple[str, Entry]] = field(default_factory=list)
    estimated: bool = False


def plan(
    tracklist: Tracklist, *, missing_cue: MissingCue = "fold", duration_ms: int | None = None
) -> Plan:
    """Turn ``tracklist`` into tracks with strictly increasing starts, the first at 0.

    ``duration_ms`` is the recording's length when known (from the audio file); it bounds
    ``"estimate"`` after the last cue and gives chapter formats their last end time.

    :raises EmptyTracklistError: the tracklist has no rows.
    """
    if not tracklist.entries:
        raise EmptyTracklistError("the tracklist has no rows")
    notices: list[Notice] = []
    groups = _group_with_rows(tracklist.entries, notices)
    _anchor_first(groups[0], notices)
    groups = _order(groups, notices)
    if missing_cue == "fold":
        groups = _fold(groups, notices)
    elif missing_cue == "drop":
        groups = _drop(groups, notices)
    else:
        groups = _estimate(groups, duration_ms, notices)
    ids = [group.head.row for group in groups if group.head.is_id]
    ids += [entry.row for group in groups for _, entry in group.extra if entry.is_id]
    if ids:
        notices.append(Notice("unidentified track (ID), kept as the site shows it", tuple(ids)))
    tracks = tuple(_track(group) for group in groups)
    return Plan(tracklist, tracks, tuple(notices), duration_ms)


def _group_with_rows(entries: tuple[Entry, ...], notices: list[Notice]) -> list[_Group]:
    groups: list[_Group] = []
    for entry in entries:
        if entry.played_with_previous and groups:
            groups[-1].extra.append((WITH_PREFIX, entry))
            notices.append(Notice(f"'w/' row joins row {groups[-1].head.row}", (entry.row,)))
            continue
        cue_ms = entry.cue_ms
        if cue_ms is not None and cue_ms < 0:
            notices.append(Notice(f"negative cue {cue_ms} ms ignored", (entry.row,)))
            cue_ms = None
        frame = None if cue_ms is None else ms_to_frames(cue_ms)
        groups.append(_Group(entry, frame, cue_ms))
    return groups


def _anchor_first(first: _Group, notices: list[Notice]) -> None:
    if first.ms is None:
        notices.append(Notice("no cue on the opening track: it starts at 0:00", (first.head.row,)))
    elif first.frame != 0:
        was = format_clock(first.ms)
        notices.append(Notice(f"opening cue {was} moved to 0:00", (first.head.row,)))
    first.frame, first.ms = 0, 0


def _order(groups: list[_Group], notices: list[Notice]) -> list[_Group]:
    """Merge same-frame starts into the previous track; demote earlier ones to missing."""
    kept = [groups[0]]
    latest = 0
    for group in groups[1:]:
        if group.frame is not None and group.frame <= latest:
            previous = kept[-1]
            if group.frame == latest and previous.frame == latest:
                previous.extra.append((FOLD_PREFIX, group.head))
                previous.extra.extend(group.extra)
                message = f"starts on the same frame as row {previous.head.row}: merged into it"
                notices.append(Notice(message, (group.head.row,)))
                continue
            message = f"cue {format_clock(group.ms or 0)} is not after the previous cue: ignored"
            notices.append(Notice(message, (group.head.row,)))
            group.frame = group.ms = None
        if group.frame is not None:
            latest = group.frame
        kept.append(group)
    return kept


def _fold(groups: list[_Group], notices: list[Notice]) -> list[_Group]:
    kept: list[_Group] = []
    folded: dict[int, list[int]] = {}
    for group in groups:
        if group.frame is None:
            kept[-1].extra.append((FOLD_PREFIX, group.head))
            kept[-1].extra.extend(group.extra)
            folded.setdefault(kept[-1].head.row, []).append(group.head.row)
        else:
            kept.append(group)
    for target, rows in folded.items():
        notices.append(Notice(f"no cue: folded into the track of row {target}", tuple(rows)))
    return kept


def _drop(groups: list[_Group], notices: list[Notice]) -> list[_Group]:
    dropped = [group.head.row for group in groups if group.frame is None]
    if dropped:
        notices.append(Notice("no cue: left out", tuple(dropped)))
    return [group for group in groups if group.frame is not None]


def _estimate(groups: list[_Group], duration_ms: int | None, notices: list[Notice]) -> list[_Group]:
    index = 0
    while index < len(groups):
        if groups[index].frame is not None:
            index += 1
            continue
        run_end = index
        while run_end < len(groups) and groups[run_end].frame is None:
            run_end += 1
        _spread(groups[index - 1], groups[index:run_end], groups[run_end:], duration_ms, notices)
        index = run_end
    return _fold(groups, notices)


def _spread(
    before: _Group,
    run: list[_Group],
    after: list[_Group],
    duration_ms: int | None,
    notices: list[Notice],
) -> None:
    """Give the cue-less ``run`` evenly spaced frames between ``before`` and what follows."""
    assert before.frame is not None  # the opening track always has a frame
    slots = len(run) + 1
    if after:
        end = after[0].frame
    elif duration_ms is not None and ms_to_frames(duration_ms) > before.frame + slots:
        end = ms_to_frames(duration_ms)
    else:
        end = before.frame + ms_to_frames(FALLBACK_TRACK_MS) * slots
        reason = "set length unknown" if duration_ms is None else "the audio ends before them"
        rows = tuple(group.head.row for group in run)
        notices.append(Notice(f"{reason}: estimated 4-minute tracks", rows))
    assert end is not None
    step = (end - before.frame) // slots
    if step == 0:
        return  # no room for distinct frames: the run stays cue-less and folds
    for number, group in enumerate(run, start=1):
        group.frame = before.frame + step * number
        group.ms = frames_to_ms(group.frame)
        group.estimated = True
    notices.append(Notice("no cue: start estimated", tuple(group.head.row for group in run)))


def _track(group: _Group) -> Track:
    assert group.frame is not None
    assert group.ms is not None
    title = group.head.full_title + "".join(prefix + entry.display for prefix, entry in group.extra)
    rows = (group.head.row, *(entry.row for _, entry in group.extra))
    return Track(
        start_frame=group.frame,
        start_ms=group.ms,
        performer=group.head.artist,
        title=title,
        rows=rows,
        is_id=group.head.is_id,
        estimated=group.estimated,
        label=group.head.label,
    )
