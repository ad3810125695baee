"""Whole, tiny images of each type the server takes (JPEG, PNG, WebP), for every suite that uploads."""
import base64
import random
import struct
import zlib

# 1x1 pictures as libwebp writes them (a lossy key frame; a lossless one, its odd chunk padded).
WEBP_LOSSY = base64.b64decode("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
WEBP_LOSSLESS = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def png(width: int = 1, height: int = 1, seed: int = 0, text: bytes = b"") -> bytes:
    """A valid RGB PNG of random pixels (so its bytes are unique), with `text` in a tEXt chunk."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    comment = png_chunk(b"tEXt", b"Comment\x00" + text) if text else b""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + comment
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def jpeg_segment(marker: int, body: bytes) -> bytes:
    """One JPEG marker segment: 0xFF, the marker, its length and body."""
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def jpeg(width: int = 8, height: int = 8) -> bytes:
    """A valid baseline greyscale JPEG, flat mid-grey: every 8x8 block has only a zero DC difference."""
    segment = jpeg_segment
    # One Huffman code ("0", a single bit) per table: DC difference category 0, AC end-of-block.
    one_code = bytes([1] + [0] * 15) + b"\x00"
    blocks = -(-width // 8) * -(-height // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)  # the scan is padded with one-bits
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return (b"\xff\xd8"
            + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(0xDB, b"\x00" + b"\x01" * 64)
            + segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
            + segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
            + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + scan + b"\xff\xd9")


PHONE_MAKE = b"HULEI-TESTPHONE\x00"  # written by the phone's camera, with its position, into the Exif


def exif_tiff(orientation: int = 1) -> bytes:
    """Exif as a phone's camera writes it (big-endian TIFF): its make, the orientation and a GPS position."""
    def entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
        return struct.pack(">HHI", tag, kind, count) + value

    make_at = 8 + 2 + 3 * 12 + 4
    gps_at = make_at + len(PHONE_MAKE)
    rationals_at = gps_at + 2 + 4 * 12 + 4
    ifd0 = (struct.pack(">H", 3) + entry(0x010F, 2, len(PHONE_MAKE), struct.pack(">I", make_at))
            + entry(0x0112, 3, 1, struct.pack(">HH", orientation, 0))
            + entry(0x8825, 4, 1, struct.pack(">I", gps_at)) + bytes(4))
    gps = (struct.pack(">H", 4) + entry(1, 2, 2, b"N\x00\x00\x00")
           + entry(2, 5, 3, struct.pack(">I", rationals_at)) + entry(3, 2, 2, b"E\x00\x00\x00")
           + entry(4, 5, 3, struct.pack(">I", rationals_at + 24)) + bytes(4))
    degrees = struct.pack(">6I", 29, 1, 12, 1, 3456, 100) + struct.pack(">6I", 113, 1, 12, 1, 789, 100)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + PHONE_MAKE + gps + degrees


def exif(orientation: int = 1) -> bytes:
    """The APP1 segment of a phone's JPEG: Exif with the make, orientation and GPS position."""
    return jpeg_segment(0xE1, b"Exif\x00\x00" + exif_tiff(orientation))


def jpeg_from_phone(width: int = 8, height: int = 8, orientation: int = 1) -> bytes:
    """jpeg() as a phone's camera would save it: Exif (GPS) first, a comment, a second picture after its end."""
    picture = jpeg(width, height)
    return (picture[:2] + exif(orientation) + jpeg_segment(0xFE, b"HULEI-TEST-COMMENT") + picture[2:]
            + b"MPF second picture" + jpeg())


def jpeg_frame_size(image: bytes) -> tuple[int, int]:
    """The width and height in a JPEG's frame header (baseline, extended or progressive)."""
    pos = 2
    while image[pos + 1] not in (0xC0, 0xC1, 0xC2):
        pos += 2 + int.from_bytes(image[pos + 2:pos + 4], "big")
    height, width = struct.unpack_from(">HH", image, pos + 5)
    return width, height


def picture_size(image: bytes) -> tuple[int, int]:
    """The width and height an image's header gives: a JPEG's frame, a PNG's IHDR, an extended WebP's canvas."""
    if image.startswith(b"\x89PNG"):
        return struct.unpack_from(">II", image, 16)
    if image[12:16] == b"VP8X":
        return tuple(int.from_bytes(image[at:at + 3], "little") + 1 for at in (24, 27))
    return jpeg_frame_size(image)


def webp_chunk(kind: bytes, data: bytes) -> bytes:
    """One RIFF chunk of a WebP: type, little-endian size, data and the pad byte of an odd size."""
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


def webp_extended(flags: int, *chunks: bytes, size: tuple[int, int] = (1, 1)) -> bytes:
    """An extended WebP of canvas `size`: a VP8X header with `flags` (0x20 ICC, 0x10 alpha, 0x08 EXIF,
    0x04 XMP), then `chunks`."""
    canvas = b"".join((side - 1).to_bytes(3, "little") for side in size)
    body = b"WEBP" + webp_chunk(b"VP8X", bytes([flags]) + bytes(3) + canvas) + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossless(width: int, height: int) -> bytes:
    """The VP8L chunk of a one-colour lossless picture of `width` x `height`: WEBP_LOSSLESS's, its size
    rewritten (each of its codes has one symbol, so its pixels take no bits whatever their number)."""
    data = bytearray(WEBP_LOSSLESS[20:33])
    header = int.from_bytes(data[1:5], "little") & ~(2**28 - 1)  # keep the alpha bit and version
    data[1:5] = (header | (width - 1) | (height - 1) << 14).to_bytes(4, "little")
    return webp_chunk(b"VP8L", bytes(data))


def webp_from_phone(width: int, height: int, orientation: int) -> bytes:
    """A lossless WebP as a camera that writes WebP would save it: Exif (GPS, orientation) after the picture."""
    return webp_extended(0x10 | 0x08, webp_lossless(width, height), webp_chunk(b"EXIF", exif_tiff(orientation)),
                         size=(width, height))


def png_from_phone(width: int, height: int, orientation: int, seed: int = 0) -> bytes:
    """png() as a camera that writes PNG would save it: an eXIf chunk (GPS, orientation) before its data."""
    picture = png(width, height, seed)
    return picture[:33] + png_chunk(b"eXIf", exif_tiff(orientation)) + picture[33:]
