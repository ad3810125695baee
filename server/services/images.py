"""Tell whether uploaded bytes are a whole JPEG, PNG or WebP image, by their structure alone, and
take out of one what is written about it rather than drawn in it."""
import re
import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# C4 (DHT), C8 (JPG) and CC (DAC) sit among the start-of-frame markers but start no frame.
JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                                0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
JPEG_MARKER = re.compile(rb"\xff+([^\xff])")  # fill bytes may come before a marker's code
# Cameras write a few dozen segments before the scan; the cap keeps a file of tiny ones cheap to refuse.
JPEG_MAX_SEGMENTS_BEFORE_SCAN = 1000
JPEG_MAX_SEGMENTS = 4 * JPEG_MAX_SEGMENTS_BEFORE_SCAN  # and between and after the scans of a progressive one
# Inside a scan a 0xFF is followed by a stuffed zero or a restart marker; anything else ends the scan.
JPEG_SCAN_END = re.compile(rb"\xff+(?=[^\x00\xd0-\xd7\xff])")
JPEG_COMMENT = 0xFE
# The APPn segments a picture needs to be drawn as taken: JFIF (pixel shape), an ICC profile (its
# colours, e.g. a phone's Display P3; it names a colour space, not a person or a place) and Adobe
# (how to turn YCCK or CMYK into colour). Every other one is writing about the picture: Exif (GPS,
# time, phone serial, a thumbnail), XMP, MPF (the index of a second picture), Photoshop/IPTC, C2PA.
JPEG_KEPT_APPS = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
JFIF_HEADER_LENGTH = 2 + 14  # up to the thumbnail's width and height, which the kept copy sets to 0
# The ancillary PNG chunks that change how it is drawn. The rest go: text (tEXt, zTXt, iTXt), eXIf,
# tIME, and private chunks (an editor's, C2PA's caBX) that may hold anything.
PNG_KEPT_ANCILLARY = frozenset({b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP",
                                b"mDCv", b"cLLi", b"pHYs", b"bKGD"})
# The WebP chunks that draw it; EXIF, XMP and private ones go, and VP8X stops announcing the two.
WEBP_KEPT_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF"})
WEBP_EXIF_XMP_FLAGS = 0x08 | 0x04


def sniff_image(content: bytes) -> str | None:
    """Return the type of image the bytes wholly are (JPEG, PNG or WebP), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg" if _is_whole_jpeg(content) else None
    if content.startswith(PNG_SIGNATURE):
        return "image/png" if _is_whole_png(content) else None
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp" if _is_whole_webp(content) else None
    return None


def _is_whole_jpeg(content: bytes) -> bool:
    """Whether the segments after SOI reach a sized frame, then a scan that an EOI follows."""
    pos, framed = 2, False
    for _ in range(JPEG_MAX_SEGMENTS_BEFORE_SCAN):
        found = JPEG_MARKER.match(content, pos)
        if found is None:
            return False
        marker, pos = found[1][0], found.end()
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD9:  # no length: out of place before a scan
            return False
        length = int.from_bytes(content[pos:pos + 2], "big")
        if length < 2 or pos + length > len(content):
            return False
        if marker in JPEG_FRAME_MARKERS:
            frame = content[pos + 2:pos + length]
            if len(frame) < 6 or frame[1:3] == b"\0\0" or frame[3:5] == b"\0\0":
                return False
            framed = True
        pos += length
        if marker == 0xDA:
            # Phones may append data (a second picture, a maker trailer) after the EOI.
            return framed and content.find(b"\xff\xd9", pos) != -1
    return False


def _is_whole_png(content: bytes) -> bool:
    """Whether the chunks walk from a sized IHDR through image data to an IEND."""
    pos, seen = len(PNG_SIGNATURE), set()
    while pos + 12 <= len(content):
        length, kind = struct.unpack_from(">I4s", content, pos)
        end = pos + 12 + length
        if length >= 2**31 or end > len(content) or not kind.isalpha():
            return False
        if not seen:
            width, height = struct.unpack_from(">II", content, pos + 8) if length == 13 else (0, 0)
            if kind != b"IHDR" or not 0 < width < 2**31 or not 0 < height < 2**31:
                return False
        if kind == b"IEND":
            return b"IDAT" in seen
        seen.add(kind)
        pos = end
    return False


def _is_whole_webp(content: bytes) -> bool:
    """Whether the RIFF size fits the bytes and its chunks do, the first one starting a picture."""
    riff_end = 8 + int.from_bytes(content[4:8], "little")
    # Some encoders leave the pad byte of an odd-sized last chunk out of the RIFF size.
    if len(content) not in (riff_end, riff_end + 1):
        return False
    pos, first = 12, None
    while pos < riff_end:
        if pos + 8 > len(content):
            return False
        kind, size = struct.unpack_from("<4sI", content, pos)
        data = content[pos + 8:pos + 8 + size]
        if len(data) < size:
            return False
        first = first or (kind, data)
        pos += 8 + size + (size & 1)
    return first is not None and _starts_webp_picture(*first)


def _starts_webp_picture(kind: bytes, data: bytes) -> bool:
    """Whether a first WebP chunk holds a lossy key frame, a lossless header or the extended header."""
    if kind == b"VP8 ":
        width, height = struct.unpack_from("<HH", data, 6) if len(data) >= 10 else (0, 0)
        return data[3:6] == b"\x9d\x01\x2a" and width & 0x3FFF > 0 and height & 0x3FFF > 0
    if kind == b"VP8L":
        return len(data) >= 5 and data[0] == 0x2F
    return kind == b"VP8X" and len(data) >= 10


def strip_metadata(content: bytes, mime: str) -> bytes:
    """Return the whole image of type `mime` (as sniff_image named it) without what is written about
    it (place, time, device, comments, thumbnails), its picture data unchanged."""
    strip = {"image/jpeg": _strip_jpeg, "image/png": _strip_png, "image/webp": _strip_webp}[mime]
    return strip(content)


def _strip_jpeg(content: bytes) -> bytes:
    """Keep the segments that draw the picture and its scans' data; drop the others and all after the end."""
    kept, pos = [content[:2]], 2
    for _ in range(JPEG_MAX_SEGMENTS):
        found = JPEG_MARKER.match(content, pos)
        if found is None:
            break
        marker, start = found[1][0], found.end()
        if marker == 0xD9:
            # After the end: a second picture (a phone's gain map or depth map) or a maker's trailer.
            return b"".join(kept) + b"\xff\xd9"
        length = int.from_bytes(content[start:start + 2], "big")
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD8 or length < 2 or start + length > len(content):
            break
        pos = start + length
        kept.append(_kept_jpeg_segment(marker, content[found.start():pos], content[start + 2:pos]))
        if marker == 0xDA:
            scan_end = JPEG_SCAN_END.search(content, pos)
            end = scan_end.start() if scan_end else len(content)
            kept.append(content[pos:end])
            pos = end
    else:
        return b""  # more segments than any camera writes: nothing, which sniff_image refuses
    return b"".join(kept) + content[pos:]  # a walk that ends oddly keeps the rest as it came


def _kept_jpeg_segment(marker: int, segment: bytes, body: bytes) -> bytes:
    """The segment as it is kept: whole, without a JFIF thumbnail, or not at all."""
    if marker == JPEG_COMMENT:
        return b""
    name = JPEG_KEPT_APPS.get(marker)
    if 0xE0 <= marker <= 0xEF and (name is None or not body.startswith(name)):
        return b""
    if marker == 0xE0 and len(segment) > 2 + JFIF_HEADER_LENGTH:
        return b"\xff\xe0" + JFIF_HEADER_LENGTH.to_bytes(2, "big") + body[:12] + b"\x00\x00"
    return segment


def _strip_png(content: bytes) -> bytes:
    """Keep the critical chunks and those of PNG_KEPT_ANCILLARY, up to IEND."""
    kept, pos = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while True:
        length, kind = struct.unpack_from(">I4s", content, pos)
        end = pos + 12 + length
        if not kind[0] & 0x20 or kind in PNG_KEPT_ANCILLARY:  # a capital first letter: critical
            kept.append(content[pos:end])
        if kind == b"IEND":
            return b"".join(kept)
        pos = end


def _strip_webp(content: bytes) -> bytes:
    """Keep the chunks of WEBP_KEPT_CHUNKS under a RIFF size that fits them; as it is if none goes."""
    riff_end, pos, chunks = 8 + int.from_bytes(content[4:8], "little"), 12, []
    while pos < riff_end:
        kind, size = struct.unpack_from("<4sI", content, pos)
        chunks.append((kind, content[pos:pos + 8 + size] + b"\x00" * (size & 1)))
        pos += 8 + size + (size & 1)
    kept = [chunk for kind, chunk in chunks if kind in WEBP_KEPT_CHUNKS]
    if len(kept) == len(chunks):
        return content
    body = b"".join(kept)
    if body.startswith(b"VP8X"):
        body = body[:8] + bytes([body[8] & ~WEBP_EXIF_XMP_FLAGS]) + body[9:]
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
