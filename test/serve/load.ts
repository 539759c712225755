// Keep-alive clients for the shutdown tests: each sends POST /v1/classify on its own connection, one request at
// a time, until told to stop or until the server refuses new connections, and records what became of every
// request it sent: an answer (status and body) or the error that ended it (a reset is the failure we look for).
import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: unknown;
}

export interface LoadReport {
  /** Requests written to a connection. */
  sent: number;
  answers: Answer[];
  /** Error codes of requests that were sent and never answered (ECONNRESET, EPIPE, …). */
  lost: string[];
  /** Connections refused once the server stopped listening: no request was sent on them. */
  refused: number;
  /** Clients that have had at least one answer: their connection was accepted and is busy. */
  busyClients: number;
}

function post(agent: Agent, port: number, body: string, onSent: () => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: '/v1/classify', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).once('end', () => {
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(text) as unknown });
      }).once('error', reject);
    });
    req.once('error', reject);
    // Counted once the connection is up and the request written: a refused connection sent nothing.
    req.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', onSent);
      else onSent();
    });
    req.end(body);
  });
}

/** `clients` keep-alive clients sending `texts` until `stop()` is called or the server refuses them. */
export function keepAliveLoad(port: number, clients: number, texts: string[]): { report: LoadReport; stop: () => void; done: Promise<LoadReport> } {
  const report: LoadReport = { sent: 0, answers: [], lost: [], refused: 0, busyClients: 0 };
  let stopped = false;
  const body = JSON.stringify({ texts });
  const run = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let busy = false;
    try {
      while (!stopped) {
        let sent = false;
        try {
          report.answers.push(await post(agent, port, body, () => { sent = true; report.sent++; }));
          if (!busy) report.busyClients++;
          busy = true;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? String(e);
          if (sent) report.lost.push(code);
          else if (code === 'ECONNREFUSED') report.refused++;
          else report.lost.push(`${code} before sending`);
          return;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const done = Promise.all(Array.from({ length: clients }, run)).then(() => report);
  return { report, stop: () => { stopped = true; }, done };
}
