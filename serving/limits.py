"""Checks on request tensors that run before any model code: decoded sizes and non-finite floats.

An encoded image states its size in its header, so a 140 KB PNG can announce 12000 x 12000 pixels
(432 MB once decoded to RGB). ``check_feeds`` reads the headers of PNG, JPEG, GIF, BMP, WebP and
WAV byte strings and refuses those whose decoded size is over budget, so the model's decode op never
allocates it. It also refuses NaN and infinities in float inputs unless they are allowed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerazoo.serving.errors import InvalidRequestError

# Channels a PNG colour type decodes to (gray, -, RGB, palette as RGB, gray+alpha, -, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}
# JPEG start-of-frame markers (0xC0-0xCF except DHT 0xC4, JPG 0xC8, DAC 0xCC) carry the size.
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class InputLimits:
    """What a request's tensors may contain.

    Args:
        max_image_pixels: Largest width x height an encoded image may declare in its header.
            Defaults to 50,000,000 (50 MP: a full-resolution photo from a current camera).
        max_audio_seconds: Longest duration a WAV file may declare in its header. Defaults to 600.
        allow_non_finite: Accept NaN and +-Infinity in float inputs. Defaults to False (HTTP 400
            naming the input and row).
    """

    max_image_pixels: int = 50_000_000
    max_audio_seconds: float = 600.0
    allow_non_finite: bool = False

    def __post_init__(self) -> None:
        if self.max_image_pixels < 1:
            raise ValueError(f"max_image_pixels must be >= 1. Received: {self.max_image_pixels}")
        if self.max_audio_seconds <= 0:
            raise ValueError(f"max_audio_seconds must be > 0. Received: {self.max_audio_seconds}")


@dataclass(frozen=True)
class MediaHeader:
    """What an encoded file's header says: the codec and its decoded size."""

    codec: str
    width: int = 0
    height: int = 0
    channels: int = 0
    seconds: float = 0.0


def sniff(data: bytes) -> MediaHeader | None:
    """The codec and declared size of ``data`` from its first bytes, or None if unrecognised.

    Raises:
        InvalidRequestError: the magic bytes name a codec but the header is truncated or invalid.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            if data[12:16] != b"IHDR":
                raise InvalidRequestError("PNG has no IHDR header chunk")
            width, height, _, color = struct.unpack(">IIBB", data[16:26])
            return MediaHeader("PNG", width, height, _PNG_CHANNELS.get(color, 4))
        if data.startswith(b"\xff\xd8"):
            return _sniff_jpeg(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return MediaHeader("GIF", width, height, 3)
        if data.startswith(b"BM") and len(data) >= 30:
            width, height = struct.unpack("<ii", data[18:26])
            bits = struct.unpack("<H", data[28:30])[0]
            return MediaHeader("BMP", abs(width), abs(height), 4 if bits == 32 else 3)
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return _sniff_wav(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _sniff_webp(data)
    except struct.error:
        raise InvalidRequestError("header is truncated") from None
    return None


def _sniff_jpeg(data: bytes) -> MediaHeader:
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise InvalidRequestError(f"JPEG marker expected at byte {offset}")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            offset += 2
            continue
        length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
        if marker in _JPEG_SOF:
            height, width, components = struct.unpack(">HHB", data[offset + 5:offset + 10])
            return MediaHeader("JPEG", width, height, components)
        if marker == 0xDA or length < 2:  # image data before any frame header: malformed
            break
        offset += 2 + length
    raise InvalidRequestError("JPEG has no frame header (SOF marker)")


def _sniff_webp(data: bytes) -> MediaHeader:
    kind = data[12:16]
    if kind == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
        width, height = struct.unpack("<HH", data[26:30])
        return MediaHeader("WebP", width & 0x3FFF, height & 0x3FFF, 3)
    if kind == b"VP8L":  # lossless: width-1 and height-1 packed in 14 bits each
        bits = struct.unpack("<I", data[21:25])[0]
        return MediaHeader("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4)
    if kind == b"VP8X":  # extended: 24-bit canvas width-1 and height-1
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        if len(data) < 30:
            raise struct.error
        return MediaHeader("WebP", width, height, 4)
    raise InvalidRequestError(f"WebP has an unknown first chunk {kind!r}")


def _sniff_wav(data: bytes) -> MediaHeader:
    offset, byte_rate, channels = 12, 0, 0
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        if chunk == b"fmt ":
            channels, _, byte_rate = struct.unpack("<HII", data[offset + 10:offset + 20])
        elif chunk == b"data":
            if byte_rate <= 0:
                raise InvalidRequestError("WAV 'data' chunk comes before a valid 'fmt ' chunk")
            return MediaHeader("WAV", channels=channels, seconds=size / byte_rate)
        offset += 8 + size + (size & 1)
    raise InvalidRequestError("WAV has no 'data' chunk")


def _row(index: tuple) -> str:
    return f"row {index[0]}" if index else "the scalar value"


def check_feeds(feeds: dict[str, np.ndarray], limits: InputLimits) -> None:
    """Refuse over-budget encoded media and (unless allowed) non-finite floats.

    Args:
        feeds: ``{input name: array}`` as the signature will receive them.
        limits: The budgets.

    Raises:
        InvalidRequestError: naming the input, the row, the value or size, and the limit.
    """
    for name, array in feeds.items():
        if array.dtype.kind == "O" or array.dtype.kind == "S":
            for index, item in np.ndenumerate(array):
                if isinstance(item, bytes | bytearray):
                    _check_media(bytes(item), name, index, limits)
        elif array.dtype.kind in "fc" and not limits.allow_non_finite:
            finite = np.isfinite(array)
            if not finite.all():
                index = tuple(int(i) for i in np.argwhere(~finite)[0])
                value = array[index]
                what = "NaN" if np.isnan(value) else (
                    f"{value} (infinite, or outside the {array.dtype.name} range)")
                raise InvalidRequestError(
                    f"input {name!r} {_row(index)}: {what} is not a finite number; finite values "
                    "are required (start the server with --allow-non-finite to accept NaN and "
                    "Infinity)"
                )


def _check_media(data: bytes, name: str, index: tuple, limits: InputLimits) -> None:
    try:
        header = sniff(data)
    except InvalidRequestError as error:
        raise InvalidRequestError(f"input {name!r} {_row(index)}: {error}") from None
    if header is None:
        return
    if header.codec == "WAV":
        if header.seconds > limits.max_audio_seconds:
            raise InvalidRequestError(
                f"input {name!r} {_row(index)}: WAV of {header.seconds:.1f} s exceeds the "
                f"duration limit of {limits.max_audio_seconds:g} s (--max-audio-seconds)"
            )
        return
    pixels = header.width * header.height
    if pixels > limits.max_image_pixels:
        decoded_mib = pixels * max(header.channels, 1) / (1 << 20)
        raise InvalidRequestError(
            f"input {name!r} {_row(index)}: {header.codec} of {header.width}x{header.height}x"
            f"{header.channels} ({pixels / 1e6:.1f} MP, {decoded_mib:.0f} MiB decoded) exceeds "
            f"the pixel budget of {limits.max_image_pixels} pixels (--max-image-pixels)"
        )


def describe_bytes(feeds: dict[str, Any]) -> str:
    """``input 'x' row 0: PNG, row 1: unrecognised format`` for the byte inputs of a request."""
    parts = []
    for name, array in feeds.items():
        if getattr(array, "dtype", None) is None or array.dtype.kind not in "OS":
            continue
        rows = []
        for index, item in list(np.ndenumerate(array))[:8]:
            if isinstance(item, bytes | bytearray):
                try:
                    header = sniff(bytes(item))
                except InvalidRequestError as error:
                    codec = f"damaged header ({error})"
                else:
                    codec = header.codec if header else \
                        f"no PNG/JPEG/GIF/BMP/WebP/WAV header (starts {bytes(item[:8])!r})"
                rows.append(f"{_row(index)}: {codec}")
        if rows:
            parts.append(f"input {name!r} " + ", ".join(rows))
    return "; ".join(parts)
