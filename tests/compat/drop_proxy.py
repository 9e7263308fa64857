#!/usr/bin/env python3
"""A TCP proxy for one broker that can lose responses, as a network or a crash between an
append and its response does: requests always go through; after SIGUSR1 the broker's answers
are read and dropped; SIGUSR2 closes every connection (the client reconnects and retries what
it has in flight) and passes answers again.

usage: drop_proxy.py BROKER_PORT PORT_FILE   (writes its own port to PORT_FILE when listening)
"""
import asyncio
import signal
import sys

BROKER_PORT = int(sys.argv[1])
PORT_FILE = sys.argv[2]
dropping = False
pairs = set()


async def pump(reader, writer, answers):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if answers and dropping:
                continue
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(creader, cwriter):
    try:
        breader, bwriter = await asyncio.open_connection("127.0.0.1", BROKER_PORT)
    except OSError:
        cwriter.close()
        return
    pair = (cwriter, bwriter)
    pairs.add(pair)
    await asyncio.gather(pump(creader, bwriter, False), pump(breader, cwriter, True))
    pairs.discard(pair)


def drop():
    global dropping
    dropping = True


def reset():
    global dropping
    for cw, bw in list(pairs):
        cw.close()
        bw.close()
    dropping = False


async def main():
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, drop)
    loop.add_signal_handler(signal.SIGUSR2, reset)
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    async with server:
        await server.serve_forever()


asyncio.run(main())
