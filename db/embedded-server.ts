import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves one PGlite instance to many PostgreSQL clients over TCP.
 *
 * PGlite is a single backend session. Clients are multiplexed onto it in whole protocol units (a simple Query, or an
 * extended-protocol batch up to its Sync), never message by message: interleaving two clients' Parse/Bind messages
 * would bind one client's parameters to the other's statement. A client that leaves a unit inside a transaction
 * keeps the session until the transaction ends, so transactions stay isolated. (The stock pglite-socket server
 * queues single messages, which is why it is not used here.)
 *
 * With a `password`, a client must send it before its start-up message reaches PGlite (PostgreSQL's cleartext
 * password exchange, which `pg` speaks): the server listens on loopback only and the password lives in a 0600 file,
 * so it never crosses a network, and SCRAM's protection of the password in transit would add nothing here.
 */
export interface WireServerOptions {
  /** Required of every client; without one, any client is served (in-process use, e.g. db/schema-sql.ts). */
  password?: string;
}

/** One PGlite session shared by many TCP clients (see above). */
export class PgliteWireServer {
  readonly #db: Promise<PGlite>;
  readonly #server: net.Server;
  readonly #connections = new Set<ClientConnection>();
  #owner: ClientConnection | undefined;

  /** `db` may still be opening: clients that connect meanwhile wait for it instead of being refused. */
  readonly #password: string | undefined;

  constructor(db: PGlite | Promise<PGlite>, server?: net.Server, options: WireServerOptions = {}) {
    this.#password = options.password;
    this.#db = Promise.resolve(db);
    this.#db.catch(() => undefined);
    this.#server = server ?? net.createServer();
    this.#server.on('connection', (socket) => this.#accept(socket));
  }

  /** Starts listening unless the server passed in already listens; resolves with the bound port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (!this.#server.listening) {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(port, host, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    }
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('embedded PostgreSQL server has no TCP port');
    return address.port;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const connection: ClientConnection = new ClientConnection(
      socket,
      (unit) => this.#run(connection, unit),
      this.#password,
    );
    this.#connections.add(connection);
    socket.on('close', () => {
      this.#connections.delete(connection);
      connection.closed = true;
      // A client that vanished inside a transaction must not leave the shared session blocked or half-written.
      void this.#run(connection, { messages: [], abandon: true });
    });
    socket.on('error', () => socket.destroy());
  }

  /** Queues a unit; units run one at a time, and while a client holds an open transaction only its units run. */
  #run(connection: ClientConnection, unit: Unit): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ connection, unit, resolve, reject });
      void this.#pump();
    });
  }

  readonly #queue: Queued[] = [];
  #pumping = false;

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        const index =
          this.#owner === undefined ? 0 : this.#queue.findIndex((queued) => queued.connection === this.#owner);
        const next = index >= 0 ? this.#queue[index] : undefined;
        if (next === undefined) return;
        this.#queue.splice(index, 1);
        try {
          await this.#execute(next.connection, next.unit);
          next.resolve();
        } catch (error) {
          next.reject(error);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #execute(connection: ClientConnection, unit: Unit): Promise<void> {
    const db = await this.#db;
    await db.waitReady;
    if (unit.abandon) {
      if (this.#owner === connection) {
        this.#owner = undefined;
        await db.exec('ROLLBACK').catch(() => undefined);
      }
      return;
    }
    for (const message of unit.messages) {
      const reply = await db.execProtocolRaw(message);
      if (reply.length > 0 && !connection.closed) connection.socket.write(reply);
    }
    if (db.isInTransaction()) this.#owner = connection;
    else if (this.#owner === connection) this.#owner = undefined;
  }
}

interface Queued {
  connection: ClientConnection;
  unit: Unit;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Unit {
  messages: Uint8Array[];
  abandon?: boolean;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Message types after which the client waits for the server, so a unit may end there. */
const UNIT_END = new Set(['S', 'Q', 'H', 'c', 'f']);

/** Splits one client's byte stream into protocol messages and groups them into units. */
class ClientConnection {
  closed = false;
  #buffer: Buffer = Buffer.alloc(0);
  #started = false;
  #pending: Uint8Array[] = [];
  #chain: Promise<void> = Promise.resolve();
  /** The start-up message, held back until the client has given the password. */
  #startup: Uint8Array | undefined;
  #authenticated: boolean;

  constructor(
    readonly socket: net.Socket,
    private readonly submit: (unit: Unit) => Promise<void>,
    private readonly password: string | undefined,
  ) {
    this.#authenticated = password === undefined;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  /** Start-up message without the password yet: ask for it (AuthenticationCleartextPassword). */
  #requestPassword(startup: Uint8Array): void {
    this.#startup = startup;
    const request = Buffer.alloc(9);
    request.write('R', 0);
    request.writeInt32BE(8, 1);
    request.writeInt32BE(3, 5);
    this.socket.write(request);
  }

  /** A PasswordMessage: on a match the held start-up message goes to PGlite, else the client is refused. */
  #checkPassword(message: Uint8Array): void {
    const given = Buffer.from(message.subarray(5)).toString('utf8').replace(/\0$/, '');
    // Equal-length digests, so the comparison takes the same time whatever the guess.
    const digest = (text: string) => createHash('sha256').update(text).digest();
    const startup = this.#startup;
    if (message[0] !== 0x70 || startup === undefined || !timingSafeEqual(digest(given), digest(this.password ?? ''))) {
      this.#refuse('28P01', 'password authentication failed for the embedded dpt-sweep database');
      return;
    }
    this.#authenticated = true;
    this.#startup = undefined;
    this.#chain = this.#chain
      .then(() => this.submit({ messages: [startup] }))
      .catch((error: unknown) => this.#fail(error));
  }

  /** A FATAL ErrorResponse, then the connection is closed, as PostgreSQL does. */
  #refuse(code: string, text: string): void {
    const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`, 'utf8');
    const header = Buffer.alloc(5);
    header.write('E', 0);
    header.writeInt32BE(4 + fields.length, 1);
    this.socket.end(Buffer.concat([header, fields]));
    this.closed = true;
    this.#buffer = Buffer.alloc(0);
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const message = this.#nextMessage();
      if (message === undefined) return;
      if (message === 'handled') continue;
      if (this.closed) return;
      if (!this.#started && !this.#authenticated) {
        this.#started = true;
        this.#requestPassword(message);
        continue;
      }
      if (!this.#authenticated) {
        this.#checkPassword(message);
        continue;
      }
      this.#pending.push(message);
      const type = this.#started ? String.fromCharCode(message[0] ?? 0) : 'startup';
      if (type === 'startup' || UNIT_END.has(type)) {
        if (type === 'startup') this.#started = true;
        const unit = { messages: this.#pending };
        this.#pending = [];
        this.#chain = this.#chain.then(() => this.submit(unit)).catch((error: unknown) => this.#fail(error));
      }
    }
  }

  #nextMessage(): Uint8Array | 'handled' | undefined {
    const buffer = this.#buffer;
    if (!this.#started) {
      if (buffer.length < 8) return undefined;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return undefined;
      const code = buffer.readInt32BE(4);
      this.#buffer = buffer.subarray(length);
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        this.socket.write('N');
        return 'handled';
      }
      if (code === CANCEL_REQUEST) {
        this.socket.end();
        return 'handled';
      }
      return new Uint8Array(buffer.subarray(0, length));
    }
    if (buffer.length < 5) return undefined;
    const length = 1 + buffer.readInt32BE(1);
    if (buffer.length < length) return undefined;
    this.#buffer = buffer.subarray(length);
    if (buffer[0] === 'X'.charCodeAt(0)) {
      // Terminate ends this client only; forwarding it would end the shared backend session.
      this.socket.end();
      return 'handled';
    }
    return new Uint8Array(buffer.subarray(0, length));
  }

  #fail(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.socket.destroy(new Error(`embedded PostgreSQL failed: ${text}`));
  }
}
