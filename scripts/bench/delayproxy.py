#!/usr/bin/env python3
"""delayproxy.py - TCP listener on 127.0.0.1 that forwards to a unix socket with added latency.

The bench puts it between the refresher and PostgreSQL to emulate a database that is a few
milliseconds away (tc netem needs the sch_netem kernel module, which containers often lack).
Every chunk from the client is written to the server DELAY ms after it was read, in order,
without serialising the delays; answers go back at once. So a round trip costs DELAY ms more
(asyncio's timers round up to the millisecond: the bench measures and prints the real figure),
and throughput is not capped.

Usage: delayproxy.py --unix PATH --delay-ms DELAY --port-file FILE
Writes the listening port to FILE once ready; runs until SIGTERM/SIGINT. Standard library only.
"""
import argparse
import asyncio
import os
import signal
import socket


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk delay seconds after it was read."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def sender():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(1 << 16)
            queue.put_nowait((loop.time() + delay, data if data else None))
            if not data:
                break
        await task
    except (ConnectionError, asyncio.CancelledError):
        task.cancel()
    finally:
        try:
            writer.close()
        except Exception:  # pylint: disable=broad-except
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    delay = args.delay_ms / 1000.0

    async def handle(creader, cwriter):
        sock = cwriter.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sreader, swriter = await asyncio.open_unix_connection(args.unix)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump(creader, swriter, delay), pump(sreader, cwriter, 0.0),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.rename(tmp, args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
