"""A session's User-Agent as a person names their device: "Chrome on Linux", "Safari on iPhone".

A few well-known patterns, checked in order (Edge and Opera also say Chrome; Chrome also says
Safari); anything else is named by its first product token ("curl"), or not at all."""

import re

# (pattern, name): the first that matches names the browser.
_BROWSERS = (
    (re.compile(r"\bEdg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(Chrome|CriOS|HeadlessChrome)/"), "Chrome"),
    (re.compile(r"\bChromium/"), "Chromium"),
    (re.compile(r"\bVersion/[\d.]+ (Mobile/\w+ )?Safari/"), "Safari"),
)
_SYSTEMS = (
    (re.compile(r"\biPhone\b"), "iPhone"),
    (re.compile(r"\biPad\b"), "iPad"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\b(Macintosh|Mac OS X)\b"), "macOS"),
    (re.compile(r"\bLinux\b"), "Linux"),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,31})/")


def device_name(user_agent: str | None) -> str | None:
    """The browser and system a User-Agent names, in words; None when it says nothing usable."""
    if not user_agent:
        return None
    browser = next((name for pattern, name in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), None)
    if browser is not None and system is not None:
        return f"{browser} on {system}"
    if browser is not None:
        return browser
    if system is not None:
        return f"A browser on {system}"
    product = _PRODUCT.match(user_agent)
    return None if product is None or product[1] == "Mozilla" else product[1]
