"""The headers every page and file the assistant serves carries (the widget's demo page and
files, the staff console's page and files): one definition, so the two cannot drift apart.

- `Content-Security-Policy`: scripts, styles, connections and images from the assistant's own
  origin only; no inline script or style (the pages keep theirs in files), no plugins, no
  `<base>` tricks; `frame-ancestors 'none'` (with `X-Frame-Options: DENY` for old browsers):
  no page may frame the console (clickjacking a staff member) or the demo page. The widget's
  files are embedded by a host page with a `<script>` tag, which framing rules do not touch.
  `connect-src 'self'` covers the widget's socket.io connection (CSP 3: 'self' matches ws: and
  wss: to the same host).
- `Referrer-Policy: no-referrer`: a console URL (a conversation id) never leaves in a Referer.
- `X-Content-Type-Options: nosniff`: a file is run only as what its Content-Type says.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def security_headers() -> dict[str, str]:
    """A fresh dict (callers add their own Cache-Control)."""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
