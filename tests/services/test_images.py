"""Photo bytes are taken only when they are a whole JPEG, PNG or WebP, not a signature and garbage,
and are kept without what is written about the picture (where, when, on which phone)."""
import struct
import zlib

import pytest

from server.services.images import sniff_image, strip_metadata

from ..images import (
    PHONE_MAKE,
    WEBP_LOSSLESS,
    WEBP_LOSSY,
    exif,
    exif_tiff,
    jpeg,
    jpeg_from_phone,
    jpeg_segment,
    png,
    png_chunk,
    png_from_phone,
    webp_chunk,
    webp_extended,
    webp_from_phone,
    webp_lossless,
)

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


def stripped(image: bytes) -> bytes:
    """The image without its metadata, checked to be still a whole image of the same type."""
    mime = sniff_image(image)
    result = strip_metadata(image, mime)
    assert mime is not None and sniff_image(result) == mime
    return result


def test_images_without_metadata_are_kept_byte_for_byte():
    images = [jpeg(), jpeg(17, 9), jpeg().replace(b"\xff\xdb", b"\xff\xff\xff\xdb"), png(), png(24, 16),
              WEBP_LOSSY, WEBP_LOSSLESS, riff_sized(WEBP_LOSSLESS, len(WEBP_LOSSLESS) - 9)]
    assert [stripped(image) for image in images] == images


def test_a_phone_jpeg_loses_its_exif_gps_comment_and_second_picture_and_keeps_its_picture():
    tagged = jpeg_from_phone(17, 9, orientation=6)
    assert exif_tiff(6) in tagged and PHONE_MAKE in tagged
    assert stripped(tagged) == jpeg(17, 9)


def test_a_jpeg_loses_every_app_segment_but_those_that_draw_it():
    picture = jpeg()
    head, rest = picture[:20], picture[20:]  # the start and the JFIF segment, then the tables and scan
    icc = jpeg_segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + bytes(128))
    adobe = jpeg_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")
    metadata = [exif(), jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>GPS</x:xmpmeta>"),
                jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04 IPTC by-line"),
                jpeg_segment(0xE2, b"MPF\x00II*\x00"), jpeg_segment(0xEB, b"JP\x00\x00c2pa manifest"),
                jpeg_segment(0xE0, b"JFXX\x00\x10" + jpeg()), jpeg_segment(0xEF, b"\xffno name")]
    # A JFIF header with a 1x1 thumbnail keeps its header, its thumbnail's size set to 0.
    thumbnailed = jpeg_segment(0xE0, head[6:18] + b"\x01\x01\x80\x80\x80")
    tagged = head[:2] + thumbnailed + b"".join(metadata[:4]) + icc + adobe + b"".join(metadata[4:]) + rest
    assert stripped(tagged) == head + icc + adobe + rest


def test_a_jpeg_keeps_its_scans_as_they_are_and_loses_metadata_between_them():
    picture = jpeg()
    second_scan = (jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
                   + jpeg_segment(0xDA, b"\x01\x01\x00\x01\x3f\x00") + b"\x7f\xff\x00\xff\xd3\x7f")
    tagged = (picture[:-2] + jpeg_segment(0xFE, b"between the scans") + second_scan + exif()
              + b"\xff\xff\xd9" + b"maker trailer")
    assert stripped(tagged) == picture[:-2] + second_scan + b"\xff\xd9"


def test_a_jpeg_of_more_segments_than_a_camera_writes_gives_nothing_to_store():
    tagged = jpeg()[:-2] + b"\xff\xfe\x00\x02" * 4000 + b"\xff\xd9"
    assert sniff_image(tagged) == "image/jpeg" and strip_metadata(tagged, "image/jpeg") == b""


def test_a_png_loses_its_text_exif_time_and_private_chunks_and_keeps_what_draws_it():
    picture = png(24, 16, seed=3)
    gamma, dpi = png_chunk(b"gAMA", struct.pack(">I", 45455)), png_chunk(b"pHYs", bytes(9))
    profile = png_chunk(b"iCCP", b"Display P3\x00\x00" + zlib.compress(b"profile"))
    metadata = (png_chunk(b"eXIf", exif_tiff()) + png_chunk(b"tEXt", b"GPS\x0029.2,113.2")
                + png_chunk(b"zTXt", b"Author\x00\x00" + zlib.compress(b"inspector"))
                + png_chunk(b"iTXt", b"Description\x00\x00\x00zh\x00\x00\xe5\xae\xbe\xe9\xa6\x86")
                + png_chunk(b"caBX", b"c2pa manifest"))
    tagged = (picture[:33] + gamma + metadata + dpi + profile + picture[33:-12]
              + png_chunk(b"tIME", b"\x07\xe8\x03\x05\x09\x1e\x00") + picture[-12:] + b"after the end")
    assert stripped(tagged) == picture[:33] + gamma + dpi + profile + picture[33:]
    assert stripped(png(24, 16, seed=3, text=b"taken at home")) == picture


def test_a_webp_loses_its_exif_and_xmp_chunks_and_their_flags_and_keeps_its_picture():
    icc, picture = webp_chunk(b"ICCP", b"odd profile"), WEBP_LOSSY[12:]
    tagged = webp_extended(0x20 | 0x08 | 0x04, icc, picture, webp_chunk(b"EXIF", exif_tiff()),
                           webp_chunk(b"XMP ", b"<x:xmpmeta>GPS</x:xmpmeta>"), webp_chunk(b"C2PA", b"manifest"))
    assert stripped(tagged) == webp_extended(0x20, icc, picture)


@pytest.mark.parametrize("where", ["before its data", "after its data"])
def test_a_png_turned_by_its_exif_loses_the_turn_with_the_exif_and_keeps_its_picture(where):
    """Chromium turns a PNG by an eXIf orientation before its data (and ignores one after it): the
    server keeps neither, so the phone sends such a photo redrawn as it shows it (photos.js fitPhoto)."""
    picture, tagged = png(24, 16, seed=5), png_from_phone(24, 16, orientation=6, seed=5)
    if where == "after its data":
        exif_chunk = tagged[33:tagged.index(b"IDAT") - 4]
        tagged = picture[:-12] + exif_chunk + picture[-12:]
    assert exif_tiff(6) in tagged
    result = stripped(tagged)
    assert result == picture  # the same chunks, so the same size (IHDR) and pixels (IDAT)
    assert b"eXIf" not in result and b"MM\x00\x2a" not in result and PHONE_MAKE not in result


def test_a_webp_turned_by_its_exif_loses_the_turn_with_the_exif_and_keeps_its_picture():
    """Chromium ignores a WebP's EXIF orientation; another browser may not, so the phone redraws this too."""
    tagged = webp_from_phone(24, 16, orientation=6)
    assert exif_tiff(6) in tagged
    result = stripped(tagged)
    # The same picture chunk and canvas size; VP8X no longer announces Exif.
    assert result == webp_extended(0x10, webp_lossless(24, 16), size=(24, 16))
    assert b"EXIF" not in result and b"MM\x00\x2a" not in result and PHONE_MAKE not in result
