/** A small webhook receiver for alerting tests: records each POST (headers, raw body); `failing` makes it answer 503 (a sink that is down). */
import { createServer, type Server } from 'node:http';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  /** Requests refused with 503 while `failing`. */
  refused = 0;
  failing = false;
  readonly #server: Server;
  #url = '';

  private constructor() {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (this.failing) {
          this.refused++;
          response.writeHead(503).end('down for the test');
          return;
        }
        this.received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.#server.address() as { port: number };
    receiver.#url = `http://127.0.0.1:${port}/hook`;
    return receiver;
  }

  get url(): string {
    return this.#url;
  }

  /** Bodies parsed as JSON, in order. */
  bodies<T = unknown>(): T[] {
    return this.received.map((r) => JSON.parse(r.body) as T);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
