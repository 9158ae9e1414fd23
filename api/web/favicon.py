"""/favicon.ico, which browsers ask for on their own: the pages' seal as a 16x16 icon, built
once at import, cached for a week, instead of a 404 in every log."""

import struct

from fastapi import APIRouter, Response

SIZE = 16
BLUE = (0xD3, 0x5B, 0x2F, 0xFF)  # #2f5bd3, as the pages' accent; BMP pixels are BGRA
WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
CLEAR = (0, 0, 0, 0)
router = APIRouter(include_in_schema=False)


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """A rounded blue square with a white ring: the seal of the pages' inline SVG icon."""
    cx, cy = x + 0.5 - SIZE / 2, y + 0.5 - SIZE / 2
    corner = max(abs(cx) - 5, 0) ** 2 + max(abs(cy) - 5, 0) ** 2
    if corner > 9:
        return CLEAR
    return WHITE if 3 <= (cx * cx + cy * cy) ** 0.5 <= 5 else BLUE


def _icon() -> bytes:
    # An ICO of one 32-bit BMP: the BMP's height counts its AND mask too (all zero: the alpha
    # channel says what shows), and its rows run bottom-up.
    rows = (b"".join(bytes(_pixel(x, y)) for x in range(SIZE)) for y in reversed(range(SIZE)))
    pixels = b"".join(rows)
    mask = bytes(SIZE * 4)  # 16 bits a row, padded to 32
    header = struct.pack("<IiiHHIIiiII", 40, SIZE, SIZE * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    image = header + pixels + mask
    directory = struct.pack("<HHH", 0, 1, 1) + struct.pack(
        "<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16
    )
    return directory + image


ICON = _icon()


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(
        ICON,
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=604800"},
    )
