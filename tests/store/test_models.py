"""Model round-trips and constraints on both backends (migrated schema, not create_all)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.db import make_session_factory, session_scope
from store.models import (
    ApiKey,
    CrawlRequest,
    CueFile,
    Dj,
    OutboxEvent,
    Source,
    Track,
    Tracklist,
    TracklistDj,
    TracklistEntry,
    TracklistSource,
    TracklistVersion,
    User,
)


def _tracklist(site_id: str = "1pmwyfn1") -> Tracklist:
    return Tracklist(
        site_id=site_id,
        url=f"https://www.1001tracklists.com/tracklist/{site_id}/set.html",
        title="Max Styler @ circuitGROUNDS, EDC Las Vegas, United States 2025-05-16",
        set_date=date(2025, 5, 16),
        genres=["House", "Tech House"],
        track_count=2,
        source_html_hash="ab" * 32,
    )


def test_full_tracklist_round_trip(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    with session_scope(factory) as session:
        dj = Dj(slug="maxstyler", name="Max Styler")
        source = Source(
            site_id="u8bf5c", slug="edc-las-vegas", name="EDC Las Vegas", kind="Festival"
        )
        track = Track(
            track_key="max styler|cant stop|",
            artist="Max Styler",
            title="Can't Stop",
            artist_normalized="max styler",
            title_normalized="cant stop",
            label="Insomniac",
        )
        tracklist = _tracklist()
        session.add_all([dj, source, track, tracklist])
        session.flush()
        session.add_all(
            [
                TracklistDj(tracklist_id=tracklist.id, dj_id=dj.id, position=0),
                TracklistSource(tracklist_id=tracklist.id, source_id=source.id, position=0),
                TracklistEntry(
                    tracklist=tracklist,
                    row=1,
                    position=1,
                    cue_ms=0,
                    artist="Max Styler",
                    title="Can't Stop",
                    track=track,
                    mashup_parts=[{"display": "A - B"}],
                ),
                TracklistEntry(
                    tracklist=tracklist,
                    row=2,
                    position=None,
                    cue_ms=None,
                    played_with_previous=True,
                    is_id=True,
                    artist="ID",
                    title="ID",
                ),
                TracklistVersion(
                    tracklist_id=tracklist.id,
                    version=1,
                    content={"entries": [1, 2]},
                    content_hash="cd" * 32,
                ),
                CueFile(
                    tracklist_id=tracklist.id,
                    tracklist_version=1,
                    format="standard",
                    filename="set.cue",
                    content='TITLE "x"\n',
                    file_size=10,
                    checksum="sha256:" + "0" * 64,
                ),
            ]
        )
        tracklist_id = tracklist.id

    with Session(migrated_engine) as session:
        loaded = session.get(Tracklist, tracklist_id)
        assert loaded is not None
        assert isinstance(loaded.id, uuid.UUID)
        assert loaded.set_date == date(2025, 5, 16)
        assert loaded.genres == ["House", "Tech House"]
        assert [d.name for d in loaded.djs] == ["Max Styler"]
        assert [s.name for s in loaded.sources] == ["EDC Las Vegas"]
        assert [(e.row, e.position, e.cue_ms) for e in loaded.entries] == [
            (1, 1, 0),
            (2, None, None),
        ]
        assert loaded.entries[0].track is not None
        assert loaded.entries[0].track.label == "Insomniac"
        assert loaded.entries[0].mashup_parts == [{"display": "A - B"}]
        assert loaded.entries[1].played_with_previous
        assert loaded.entries[1].is_id
        assert loaded.created_at.tzinfo is not None or migrated_engine.dialect.name == "sqlite"

        # Deleting a tracklist removes what hangs off it, not the shared DJs and tracks.
        session.delete(loaded)
        session.commit()
        assert session.scalar(select(func.count()).select_from(TracklistEntry)) == 0
        assert session.scalar(select(func.count()).select_from(CueFile)) == 0
        assert session.scalar(select(func.count()).select_from(Dj)) == 1
        assert session.scalar(select(func.count()).select_from(Track)) == 1


@pytest.mark.parametrize(
    "duplicate",
    ["tracklist_url", "tracklist_site_id", "track_key", "entry_row", "correlation_id", "username"],
)
def test_unique_constraints(migrated_engine: Engine, duplicate: str) -> None:
    factory = make_session_factory(migrated_engine)
    with session_scope(factory) as session:
        session.add(_tracklist("aaa"))
    session = factory()
    try:
        if duplicate == "tracklist_url":
            other = _tracklist("bbb")
            other.url = _tracklist("aaa").url
            session.add(other)
        elif duplicate == "tracklist_site_id":
            other = _tracklist("aaa")
            other.url = "https://www.1001tracklists.com/tracklist/aaa/other.html"
            session.add(other)
        elif duplicate == "track_key":
            for _ in range(2):
                session.add(
                    Track(
                        track_key="k",
                        artist="A",
                        title="T",
                        artist_normalized="a",
                        title_normalized="t",
                    )
                )
        elif duplicate == "entry_row":
            owner = session.scalars(select(Tracklist)).one()
            for _ in range(2):
                session.add(TracklistEntry(tracklist_id=owner.id, row=1, artist="A", title="T"))
        elif duplicate == "correlation_id":
            correlation_id = uuid.uuid4()
            for _ in range(2):
                session.add(
                    CrawlRequest(correlation_id=correlation_id, url="https://x/tracklist/1/a.html")
                )
        else:
            session.add_all([User(username="ana"), User(username="ana")])
        with pytest.raises(IntegrityError):
            session.flush()
    finally:
        session.rollback()
        session.close()


def test_foreign_keys_are_enforced(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        session.add(TracklistEntry(tracklist_id=uuid.uuid4(), row=1, artist="A", title="T"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_operational_tables_round_trip(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    correlation_id = uuid.uuid4()
    with session_scope(factory) as session:
        user = User(username="ops", password_hash="x", role="admin")
        session.add(user)
        session.flush()
        session.add_all(
            [
                ApiKey(user_id=user.id, name="ci", prefix="tl_abc", key_hash="h"),
                CrawlRequest(correlation_id=correlation_id, url="https://x/tracklist/1/a.html"),
                OutboxEvent(
                    event_type="tracklist.processed",
                    routing_key="tracklist.processed",
                    payload={"track_count": 42},
                ),
            ]
        )
    with Session(migrated_engine) as session:
        request = session.scalars(select(CrawlRequest)).one()
        assert (request.correlation_id, request.status, request.attempts) == (
            correlation_id,
            "queued",
            0,
        )
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.sent_at.is_(None))).one()
        assert event.payload == {"track_count": 42}
        assert isinstance(event.event_id, uuid.UUID)
        assert session.scalars(select(ApiKey)).one().prefix == "tl_abc"
