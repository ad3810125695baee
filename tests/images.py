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


def jpeg(width: int = 8, height: int = 8) -> bytes:
    """A valid baseline greyscale JPEG, flat mid-grey: every 8x8 block has only a zero DC difference."""
    def segment(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body

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
