"""A minimal WebSocket server (stdlib only) run inside a computer: it greets and closes."""

import asyncio
import base64
import hashlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def handle(reader, writer):
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    key = next(
        line.split(": ", 1)[1]
        for line in head.split("\r\n")
        if line.lower().startswith("sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    writer.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )
    writer.write(bytes([0x81, 5]) + b"hello")
    await writer.drain()
    await asyncio.sleep(1)
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 8090)
    await server.serve_forever()


asyncio.run(main())
