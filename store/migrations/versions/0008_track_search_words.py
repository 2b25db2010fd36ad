"""Track search by words: a word index on the catalogue and the vocabulary of its words.

Searching 500,000 catalogue tracks with trigram similarity on whole names costs four large
GIN scans per query (20-100 ms on a million entries). Names are made of words, and a typo is
a typo in a word, so PostgreSQL gets:

- ``tracklists_words(text)``: the distinct words of a folded name (split at spaces, ``&`` and
  brackets, which is all :func:`domain.identity.normalize` leaves between words);
- ``ix_tracks_words``: a GIN index on the words of ``artist_normalized || ' ' ||
  title_normalized``, so "tracks having one of these words" is one small index scan;
- ``track_words``: every distinct word of the catalogue (tens of thousands of rows, not
  hundreds of thousands), with a trigram index: a misspelled word finds its spellings there;
- statement triggers that add the words of new and changed tracks. They append without a
  unique constraint, so concurrent crawls never wait on each other's uncommitted words (a
  unique index would make two pages adding the same new words in different orders
  deadlock); a word added twice by two transactions at once is harmless (lookups group by
  word).

SQLite gets nothing: its search is a substring match (see ``service/search/candidates.py``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with service.search.track_words.WORD_BREAK.
_WORDS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION tracklists_words(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT word ORDER BY word), '{}')
    FROM regexp_split_to_table($1, '[\s&()]+') AS word
    WHERE word <> ''
$$
"""
# The transition table has no statistics: the planner would hash the whole vocabulary for
# each page's few dozen words (5 ms a statement); one index lookup per word is what fits.
_ADD_WORDS_FUNCTION = """
CREATE OR REPLACE FUNCTION tracklists_add_track_words() RETURNS trigger
LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
BEGIN
    INSERT INTO track_words (word)
    SELECT DISTINCT added.word
    FROM changed_tracks,
        unnest(tracklists_words(artist_normalized || ' ' || title_normalized)) AS added(word)
    WHERE NOT EXISTS (SELECT 1 FROM track_words known WHERE known.word = added.word);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_WORDS_FUNCTION)
    op.execute("CREATE TABLE track_words (word text NOT NULL)")
    op.execute(
        "COMMENT ON TABLE track_words IS 'Distinct words of the track catalogue "
        "(artist_normalized, title_normalized), for typo-tolerant track search; kept by a "
        "trigger on tracks'"
    )
    op.execute(
        "INSERT INTO track_words (word) SELECT DISTINCT unnest(tracklists_words("
        "artist_normalized || ' ' || title_normalized)) FROM tracks"
    )
    op.execute("CREATE INDEX ix_track_words_word ON track_words (word)")
    op.execute("CREATE INDEX ix_track_words_word_trgm ON track_words USING gin (word gin_trgm_ops)")
    # fastupdate off: every search reads this index, and a GIN pending list (where "fast"
    # updates wait for the next vacuum) is read in full by each search until then.
    op.execute(
        "CREATE INDEX ix_tracks_words ON tracks "
        "USING gin (tracklists_words(artist_normalized || ' ' || title_normalized)) "
        "WITH (fastupdate = off)"
    )
    op.execute(_ADD_WORDS_FUNCTION)
    # Once per statement over all its rows (a page's tracks go in as one statement): per row,
    # the trigger doubled the cost of storing a track.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER tracks_add_words_on_{event.lower()} AFTER {event} ON tracks "
            "REFERENCING NEW TABLE AS changed_tracks FOR EACH STATEMENT "
            "EXECUTE FUNCTION tracklists_add_track_words()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tracks_add_words_on_insert ON tracks")
    op.execute("DROP TRIGGER IF EXISTS tracks_add_words_on_update ON tracks")
    op.execute("DROP FUNCTION IF EXISTS tracklists_add_track_words()")
    op.execute("DROP INDEX IF EXISTS ix_tracks_words")
    op.execute("DROP TABLE IF EXISTS track_words")
    op.execute("DROP FUNCTION IF EXISTS tracklists_words(text)")
