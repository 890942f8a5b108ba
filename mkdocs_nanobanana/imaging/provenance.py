"""What a published image says about how it was made: an XMP packet with IPTC's Digital
Source Type, a credit line and, if asked, the prompt.

IPTC asks software that makes images with trained models to write
``Iptc4xmpExt:DigitalSourceType``; Google's products read it (Search's "About this
image", Merchant Center) and ask publishers to keep it. Every resized copy and card is
re-encoded by Pillow, which keeps no metadata, so the packet is written at encode time.
Pure values and text: no Pillow here.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.directives import is_name_ref
from ..core.frozen import frozen
from ..core.settings import ProvenanceSettings

__all__: list[str] = []

_CODES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: Made by a trained model from a prompt (and, maybe, other generated images).
TRAINED = _CODES + "trainedAlgorithmicMedia"
#: A generated image mixed with something else: a user's photo given as a ref, a card's drawn title.
COMPOSITE = _CODES + "compositeWithTrainedAlgorithmicMedia"
#: Drawn by an algorithm with no trained model: the plugin's own placeholders.
ALGORITHMIC = _CODES + "algorithmicMedia"

#: The credit a placeholder carries instead of the site's (no model made it).
PLACEHOLDER_CREDIT = "Placeholder drawn by mkdocs-nanobanana"

#: The largest packet every format we write can hold: JPEG's, whose XMP is one APP1
#: segment (65,535 bytes with its 2-byte length, less the 29-byte namespace header;
#: Pillow refuses more with "XMP data is too long"). WebP's XMP chunk and PNG's iTXt
#: chunk take gigabytes, AVIF's item as much; one packet serves every copy, so every
#: copy of an image says the same.
MAX_XMP_BYTES = 65_535 - 2 - 29
#: Ends a prompt cut to fit; the packet says how much of it there was.
SHORTENED = " [... shortened to fit the XMP packet: {kept:,} of {total:,} characters]"


def escape(text: str) -> str:
    """XML character data, as ``xml.sax.saxutils.escape`` writes it: not imported from
    there, since that module pulls in urllib.request, http.client and ssl on every
    build, for three replacements."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, byte for byte as ``xml.sax.saxutils.quoteattr``
    writes it (the packet's bytes are in every copy: they must not move)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


@frozen
class Provenance:
    """One image's provenance, as its files state it."""

    source_type: str
    credit: str = ""
    description: str = ""  # the prompt, when the site includes it

    @property
    def ai_generated(self) -> bool:
        return self.source_type in (TRAINED, COMPOSITE)

    def on_card(self, overlay: bool) -> Provenance:
        """The card drawn from this image: a title drawn over a generated image makes a composite."""
        if overlay and self.source_type == TRAINED:
            return Provenance(COMPOSITE, self.credit, self.description)
        return self

    @property
    def shortened(self) -> bool:
        """Whether the packet holds less than the whole prompt and credit (see ``xmp``)."""
        return len(self._packet(self.credit, self.description)) > MAX_XMP_BYTES

    def xmp(self) -> bytes:
        """A complete XMP packet (what Pillow's ``xmp=`` and PNG's iTXt chunk take), at
        most MAX_XMP_BYTES: a prompt that does not fit (19,000 characters of ``&`` escape
        to 95,000 bytes) is cut where it fits, and says so; a credit too long for the
        packet on its own is cut the same way, after the prompt is left out."""
        packet = self._packet(self.credit, self.description)
        if len(packet) <= MAX_XMP_BYTES:
            return packet
        if len(self._packet(self.credit, "")) <= MAX_XMP_BYTES:
            return self._packet(self.credit, _longest_fit(self.description, lambda d: self._packet(self.credit, d)))
        return self._packet(_longest_fit(self.credit, lambda c: self._packet(c, "")), "")

    def _packet(self, credit: str, description: str) -> bytes:
        attrs = [f"Iptc4xmpExt:DigitalSourceType={quoteattr(self.source_type)}",
                 "xmp:CreatorTool=\"mkdocs-nanobanana\""]
        if credit:
            attrs.append(f"photoshop:Credit={quoteattr(credit)}")
        body = ""
        if description:
            body = ("\n   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">"
                    f"{escape(description)}</rdf:li></rdf:Alt></dc:description>\n  ")
        joined = "\n    ".join(attrs)
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            f'    {joined}>{body}</rdf:Description>\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="r"?>'
        ).encode()


def _longest_fit(text: str, packet_with: Callable[[str], bytes]) -> str:
    """The longest start of ``text``, with the SHORTENED marker, whose packet fits (a
    binary search: each try is one packet's worth of escaping)."""
    def cut(kept: int) -> str:
        return text[:kept].rstrip() + SHORTENED.format(kept=kept, total=len(text))

    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(packet_with(cut(middle))) <= MAX_XMP_BYTES:
            low = middle
        else:
            high = middle - 1
    return cut(low)


def of_image(settings: ProvenanceSettings, prompt: str, refs: tuple[str, ...], placeholder: bool) -> Provenance | None:
    """The provenance of a directive's image; None when the site writes none. A ref that
    is a file (not a ``#name`` of another generated image) is a picture the user
    supplied, so the result mixes it with generated pixels: a composite."""
    if not settings.enabled:
        return None
    if placeholder:
        return Provenance(ALGORITHMIC, PLACEHOLDER_CREDIT)
    composite = any(not is_name_ref(ref) for ref in refs)
    return Provenance(COMPOSITE if composite else TRAINED, settings.credit,
                      prompt if settings.include_prompt else "")
