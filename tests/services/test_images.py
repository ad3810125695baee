"""Photo bytes are taken only when they are a whole JPEG, PNG or WebP, not a signature and garbage."""
import struct

import pytest

from server.services.images import sniff_image

from ..images import WEBP_LOSSLESS, WEBP_LOSSY, jpeg, png, png_chunk

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_with_header(width: int, height: int, extra: bytes = b"") -> bytes:
    """A 1x1 PNG whose IHDR says `width` x `height` and carries `extra` bytes."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0) + extra)
    return PNG_SIGNATURE + header + png()[33:]


def without_chunk(image: bytes, kind: bytes) -> bytes:
    """The PNG with its first `kind` chunk left out."""
    at = image.index(kind) - 4
    length = struct.unpack_from(">I", image, at)[0]
    return image[:at] + image[at + 12 + length:]


def riff_sized(image: bytes, size: int) -> bytes:
    """The WebP with another RIFF size in its header."""
    return image[:4] + struct.pack("<I", size) + image[8:]


# Each refused: what a truncated upload, a forged header or a file of another kind looks like.
NOT_IMAGES = {
    "empty": b"",
    "pdf": b"%PDF-1.4 not an image",
    "jpeg magic only": b"\xff\xd8\xff",
    "jpeg cut before its end": jpeg()[:-2],
    "jpeg cut in its headers": jpeg()[:40],
    "jpeg magic then garbage": b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200),
    "jpeg without a frame": jpeg().replace(b"\xff\xc0", b"\xff\xe1"),
    "jpeg of height 0": jpeg().replace(b"\xc0\x00\x0b\x08\x00\x08", b"\xc0\x00\x0b\x08\x00\x00"),
    "jpeg ending only in a comment before its scan":
        jpeg()[:-2].replace(b"\xff\xda", b"\xff\xfe\x00\x04\xff\xd9\xff\xda"),
    "jpeg of a thousand segments before its scan": b"\xff\xd8" + b"\xff\xfe\x00\x02" * 1000 + jpeg()[2:],
    "png signature only": PNG_SIGNATURE,
    "png signature then garbage": PNG_SIGNATURE + bytes(64),
    "png without IHDR": without_chunk(png(), b"IHDR"),
    "png IHDR not first": PNG_SIGNATURE + png_chunk(b"tEXt", b"a\x00b") + png()[8:],
    "png IHDR of a wrong length": png_with_header(1, 1, extra=b"\x00"),
    "png of width 0": png_with_header(0, 1),
    "png without IDAT": without_chunk(png(), b"IDAT"),
    "png without IEND": png()[:-12],
    "png cut in a chunk": png(24, 16)[:200],
    "png chunk longer than the file": png()[:33] + struct.pack(">I", 10**6) + png()[37:],
    "webp RIFF size too large": riff_sized(WEBP_LOSSY, len(WEBP_LOSSY)),
    "webp RIFF size too small": riff_sized(WEBP_LOSSY, len(WEBP_LOSSY) - 10),
    "webp cut": riff_sized(WEBP_LOSSY[:30], 22),
    "webp header only": b"RIFF\x04\x00\x00\x00WEBP",
    "webp of another first chunk": WEBP_LOSSY.replace(b"VP8 ", b"ICCP"),
    "webp lossy without its key frame": WEBP_LOSSY.replace(b"\x9d\x01\x2a", b"\x00\x00\x00"),
    "webp lossless without its signature": WEBP_LOSSLESS[:20] + b"\x00" + WEBP_LOSSLESS[21:],
}


def test_whole_images_of_each_type_are_taken_for_what_they_are():
    unpadded_size = len(WEBP_LOSSLESS) - 9
    images = {"jpeg": jpeg(), "jpeg 17x9": jpeg(17, 9), "png": png(), "png with text": png(24, 16, text=b"x"),
              "webp lossy": WEBP_LOSSY, "webp lossless": WEBP_LOSSLESS,
              "webp lossless, pad byte outside the RIFF size": riff_sized(WEBP_LOSSLESS, unpadded_size),
              "jpeg with data after its end": jpeg() + b"MPF second picture" + jpeg(),
              "jpeg with fill bytes before a marker": jpeg().replace(b"\xff\xdb", b"\xff\xff\xff\xdb")}
    assert {name: sniff_image(image) for name, image in images.items()} == {
        "jpeg": "image/jpeg", "jpeg 17x9": "image/jpeg", "png": "image/png", "png with text": "image/png",
        "webp lossy": "image/webp", "webp lossless": "image/webp",
        "webp lossless, pad byte outside the RIFF size": "image/webp",
        "jpeg with data after its end": "image/jpeg", "jpeg with fill bytes before a marker": "image/jpeg"}


@pytest.mark.parametrize("name", NOT_IMAGES)
def test_a_signature_without_a_whole_image_behind_it_is_refused(name):
    assert sniff_image(NOT_IMAGES[name]) is None
