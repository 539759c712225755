// The server's open connections and the requests running on each, so that a shutdown can stop accepting,
// answer every request already sent, and close a keep-alive connection only once its client has been told to
// (`connection: close`) or has stayed silent: no client sees its request reset.
import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

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
   * Resolves once no request is being answered and none has arrived for `quietMs`, counted from `since` at the
   * earliest; at once when no connection is open.
   */
  async quiet(quietMs: number, since: number): Promise<void> {
    const calm = (): boolean => this.sockets.size === 0
      || ([...this.sockets.values()].every((running) => running === 0) && performance.now() - Math.max(since, this.lastRequestAt) >= quietMs);
    while (!calm()) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
