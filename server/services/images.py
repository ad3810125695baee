"""Tell whether uploaded bytes are a whole JPEG, PNG or WebP image, by their structure alone."""
import re
import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# C4 (DHT), C8 (JPG) and CC (DAC) sit among the start-of-frame markers but start no frame.
JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                                0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
JPEG_MARKER = re.compile(rb"\xff+([^\xff])")  # fill bytes may come before a marker's code
# Cameras write a few dozen segments before the scan; the cap keeps a file of tiny ones cheap to refuse.
JPEG_MAX_SEGMENTS_BEFORE_SCAN = 1000


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
