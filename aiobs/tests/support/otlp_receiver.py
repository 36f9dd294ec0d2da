"""A real OTLP/HTTP receiver for the tests: oteltap, on 127.0.0.1:PORT.

Usage: python otlp_receiver.py PORT

Prints `READY <port>` once it listens, then one line per span received:
`SPAN <json>`, the span as protobuf JSON (field names as in the .proto, ids as hex,
enums as numbers). Stops when its standard input closes (or on a signal).
"""

import asyncio
import base64
import json
import sys

from google.protobuf.json_format import MessageToDict
from oteltap import OtelTapHttpProtobufReceiver, OtelTapHttpProtobufReceiverSettings


def span_json(span):
    d = MessageToDict(span, preserving_proto_field_name=True, use_integers_for_enums=True)
    # bytes fields come as base64: hex reads better and matches OpenTelemetry's notation.
    for key in ("trace_id", "span_id", "parent_span_id"):
        if key in d:
            d[key] = base64.b64decode(d[key]).hex()
    return json.dumps(d, separators=(",", ":"))


async def main(port):
    settings = OtelTapHttpProtobufReceiverSettings(http_port=port)
    async with OtelTapHttpProtobufReceiver(settings) as receiver:

        async def forward():
            async for span in receiver.stream_traces():
                print("SPAN " + span_json(span), flush=True)

        task = asyncio.create_task(forward())
        # Let the task subscribe before anything can arrive.
        for _ in range(3):
            await asyncio.sleep(0)
        print(f"READY {port}", flush=True)
        # Run until stdin closes: the test drops its handle (or dies).
        await asyncio.to_thread(sys.stdin.read)
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
