// The server's open connections and the requests running on each, so that a shutdown can stop accepting,
// answer every request already sent, and close a keep-alive connection only once its client has been told to
// (`connection: close`) or has stayed silent: no client sees its request reset.
import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const TICK_MS = 20;
const TICK_CAP_MS = 50;

export class Connections {
  /** Requests being answered, per open connection. */
  private readonly sockets = new Map<Socket, number>();
  private lastRequestAt = 0;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (request: { socket: Socket }, response: { once(event: 'close', listener: () => void): unknown }) => {
      const { socket } = request;
      this.lastRequestAt = performance.now();
      this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
      response.once('close', () => {
        const running = this.sockets.get(socket);
        if (running !== undefined) this.sockets.set(socket, running - 1);
      });
    });
  }

  /** Whether a request on `socket` is being answered (a raw error answer written now would cut into it). */
  busy(socket: Socket): boolean {
    return (this.sockets.get(socket) ?? 0) > 0;
  }

  get open(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting connections and leaves the open ones alone.
   * NOTE: http.Server#close also closes every idle keep-alive connection at once, and a connection counts as
   * idle while its client's next request is still on the wire or unread in the kernel: that request is reset
   * (the ECONNRESETs under load). net.Server#close only stops listening; Fastify's close later calls the http
   * one, by which time the clients still connected have been answered or have stayed silent for a while.
   */
  stopAccepting(): void {
    NetServer.prototype.close.call(this.server);
  }

  /**
   * Resolves once no request is being answered and none has arrived for `quietMs` since `since`; at once when no
   * connection is open.
   * NOTE: the quiet time is counted in small steps, each at most TICK_CAP_MS, so a stretch in which the process got
   * no CPU (a busy machine) counts as one step, not as silence: after such a stall timers run before the I/O that
   * arrived meanwhile is read, and a request still unread in the kernel would be taken for silence and reset.
   */
  async quiet(quietMs: number, since: number): Promise<void> {
    let quietFor = 0;
    let last = Math.max(since, performance.now());
    while (this.sockets.size > 0 && quietFor < quietMs) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      const now = performance.now();
      const idle = [...this.sockets.values()].every((running) => running === 0) && this.lastRequestAt <= last;
      quietFor = idle ? quietFor + Math.min(now - last, TICK_CAP_MS) : 0;
      last = now;
    }
  }
}
