"""`python -m tests.attacks.flooder URL ADDRESS SECONDS THREADS`: one client flooding the REST
channel for SECONDS — THREADS connections, each sending again the moment it is answered, a
fresh sender every time, from ADDRESS (as nginx's X-Real-IP). Prints {status: count} as JSON.

A process of its own (started with `nice` by the test) so that the flood's own work is not
counted in the other visitor's latency, as it would be on another machine.
"""

from __future__ import annotations

import collections
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid


def flood(url: str, address: str, until: float, counts: collections.Counter[int]) -> None:
    while time.monotonic() < until:
        body = json.dumps({"sender": uuid.uuid4().hex, "message": "hello"}).encode()
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "application/json", "X-Real-IP": address},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                counts[response.status] += 1
        except urllib.error.HTTPError as error:
            error.read()
            counts[error.code] += 1


def main(argv: list[str]) -> None:
    url, address, seconds, threads = argv[0], argv[1], float(argv[2]), int(argv[3])
    counts: collections.Counter[int] = collections.Counter()
    until = time.monotonic() + seconds
    flooders = [
        threading.Thread(target=flood, args=(url, address, until, counts)) for _ in range(threads)
    ]
    for thread in flooders:
        thread.start()
    for thread in flooders:
        thread.join()
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1:])
