"""Media links: a set's recordings (``div.mediaLink``) and the ``get_medialink.php`` JSON."""

from __future__ import annotations

import html as html_entities
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from lxml import etree

from crawler.pages.dom import first, to_int
from crawler.pages.errors import ParseError
from crawler.pages.types import MediaLink, MediaLinksPage

# The site's numeric media source codes (see the site guide).
SOURCE_NAMES: Mapping[str, str] = {
    "1": "beatport",
    "2": "apple_music",
    "4": "traxsource",
    "10": "soundcloud",
    "13": "youtube",
    "36": "spotify",
}
_XP = etree.XPath
_EMBED_URL = _XP(".//meta[@itemprop='embedUrl']/@content | .//iframe/@src")
_SCRIPTS = _XP(".//script/text()")
_IFRAME_SRC = re.compile(r"""src=["']([^"']{1,2000})["']""")
_PLAYER_ID = re.compile(r"""idPlayer\s*[:=]\s*["']([^"']{1,200})["']""")
_KIND = "media_links"


def source_name(source_id: str) -> str:
    """The readable name of a media source code, or ``source_<code>`` for unknown codes."""
    return SOURCE_NAMES.get(source_id, f"source_{source_id}")


def set_recordings(nodes: list[etree._Element]) -> tuple[MediaLink, ...]:
    """The set's recordings, from a tracklist page's ``div.mediaLink`` elements."""
    links = []
    for node in nodes:
        source_id = node.get("data-idsource") or ""
        scripts = " ".join(str(text) for text in _SCRIPTS(node))
        url = first(_EMBED_URL(node)) or _script_iframe_src(scripts)
        player = _PLAYER_ID.search(scripts)
        links.append(
            MediaLink(
                media_id=to_int(node.get("data-idmedia")),
                source_id=source_id,
                source_name=source_name(source_id),
                url=url,
                player_id=player.group(1) if player else None,
            )
        )
    return tuple(links)


def _script_iframe_src(script: str) -> str | None:
    # Lazy players are written into the page by script, HTML-escaped inside a JS string.
    match = _IFRAME_SRC.search(html_entities.unescape(script))
    return html_entities.unescape(match.group(1)) if match else None


def is_media_links_json(value: object) -> TypeGuard[dict[str, Any]]:
    """Whether decoded JSON looks like a ``get_medialink.php`` answer."""
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        return False
    return all(
        isinstance(item, dict) and isinstance(item.get("source"), str | int)
        for item in value["data"]
    )


def parse_media_links(value: object) -> MediaLinksPage:
    """Parse decoded ``get_medialink.php`` JSON (``{success, data: [{source, player, ...}]}``)."""
    if not is_media_links_json(value):
        raise ParseError(_KIND, "no 'data' list of media entries")
    links = []
    id_object = id_item = None
    for item in value["data"]:
        source_id = str(item.get("source"))
        player = item.get("player")
        match = _IFRAME_SRC.search(player) if isinstance(player, str) else None
        player_id = item.get("playerId")
        links.append(
            MediaLink(
                media_id=item["id"] if type(item.get("id")) is int else None,
                source_id=source_id,
                source_name=source_name(source_id),
                url=html_entities.unescape(match.group(1)) if match else None,
                player_id=str(player_id) if player_id is not None else None,
            )
        )
        id_object = id_object or _optional_str(item.get("idObject"))
        id_item = id_item or _optional_str(item.get("idItem"))
    return MediaLinksPage(links=tuple(links), id_object=id_object, id_item=id_item)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
