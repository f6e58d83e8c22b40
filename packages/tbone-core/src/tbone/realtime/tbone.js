// tbone.js: the client of TBone's WebSocket protocol "tbone.v1" (see docs/realtime.md).
//
// A dependency-free ES module, served by every TBone API at {prefix}/tbone.js:
//
//   import { connect } from "/api/tbone.js";
//   const client = connect("/api/ws", { token, timeout: 10000 });
//   const { status, body } = await client.request("POST", "/api/books", { title: "Dune" });
//   const sub = client.subscribe("books", { filter: { author: "Herbert" } }, (event) => {
//     console.log(event.event, event.pk, event.data); // "created" | "updated" | "deleted" | …
//   });
//   await sub.ready;          // the server accepted it (rejects with a TBoneError if not)
//   sub.unsubscribe();
//   const view = client.live("books", { order_by: "-year", limit: 20 }, (rows) => draw(rows));
//   client.close();
//
// The client reconnects with exponential backoff when the connection drops and subscribes
// every live subscription again, resuming after the last `seq` it saw, so that the events
// missed while offline arrive; the server gives them new ids, which the client maps back to
// the same Subscription objects, so callbacks keep working. When the server cannot replay
// (`resync`), a live view takes a fresh snapshot and a plain subscription is told with an
// `{event: "resync"}` callback. It pings while idle, because the server closes sockets that
// stay silent longer than its idle timeout.
//
// Where the WebSocket upgrade fails (a proxy that blocks it) or there is no WebSocket at all,
// the client falls back by itself to the same frames over Server-Sent Events (read with fetch)
// and HTTP POST, at {prefix}/_stream next to {prefix}/ws: nothing changes for the code using it
// (`client.transport` says which one is in use; `connect(url, { transport: "sse" })` forces it).

export const SUBPROTOCOL = "tbone.v1";

const OPEN = 1; // WebSocket.OPEN, without relying on the constructor's static fields
const AUTH_REFUSED = 4401; // the server refused the credentials: retrying cannot help

const DEFAULTS = Object.freeze({
  timeout: 10000, //      ms to wait for the answer to a request or a subscribe
  reconnect: true, //     reconnect when the connection drops
  minDelay: 250, //       ms before the first reconnect attempt; doubles on every failure
  maxDelay: 30000, //     ms, the longest wait between attempts
  pingInterval: 25000, // ms between pings; a connection silent for 2 intervals is dropped
  transport: "auto", //   "auto": WebSocket, else the SSE + POST fallback; or "websocket", "sse"
});
const TRANSPORTS = ["auto", "websocket", "sse"];

/** An error answer: `status` is the HTTP status (0 for connection problems), `problem` the
 * RFC 9457 problem document the server sent, `response` the whole frame. */
export class TBoneError extends Error {
  constructor(message, { status = 0, problem = null, response = null } = {}) {
    super(message);
    this.name = "TBoneError";
    this.status = status;
    this.problem = problem;
    this.response = response;
  }
}

/** Open a client; it connects in the background (see `client.ready`). */
export function connect(url, options = {}) {
  return new Client(url, options);
}

/** One live subscription; returned by `client.subscribe()`. */
export class Subscription {
  constructor(client, resource, query, callback) {
    this.client = client;
    this.resource = resource;
    this.query = query; // { filter, events, pk } (+ { snapshot, order_by, limit } for a view)
    this.callback = callback;
    this.id = null; // the server's id for it on the current connection (changes on reconnect)
    this.seq = null; // the last position it saw (an event's or a snapshot's), to resume after
    this._view = null; // the LiveView it feeds, if any
    this._refreshing = false; // a fresh snapshot was asked for on the current connection
    this.active = true;
    this.onerror = null; // called with a TBoneError if the server refuses it on re-subscribe
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.ready.catch(() => {}); // a refusal is also reported to onerror: never "unhandled"
    this._confirmed = false;
  }

  /** Stop receiving events; resolves once the server confirmed (or at once if offline). */
  unsubscribe() {
    return this.client._unsubscribe(this);
  }

  _subscribed(serverId) {
    this.id = serverId;
    if (!this._confirmed) {
      this._confirmed = true;
      this._resolve(this);
    }
  }

  _fail(error) {
    this.active = false;
    if (!this._confirmed) {
      this._confirmed = true;
      this._reject(error);
    } else if (this.onerror) {
      this.onerror(error);
    }
  }
}

export class Client {
  constructor(url, options = {}) {
    this.url = websocketURL(url);
    this.options = { ...DEFAULTS, ...options };
    this.token = options.token ?? null; // a string, or a (possibly async) function giving one
    this.onopen = null; //  ({ reconnected }) after every successful (re)connection
    this.onclose = null; // ({ code, reason, willReconnect }) after every disconnection
    this.onerror = null; // (error) for problems not tied to a call: refusals, bad callbacks
    this.closed = false;
    this._WebSocket = "WebSocket" in options ? options.WebSocket : globalThis.WebSocket;
    this._fetch = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : null);
    if (!TRANSPORTS.includes(this.options.transport)) {
      throw new TypeError(`transport must be one of ${TRANSPORTS.join(", ")}`);
    }
    const hasWebSocket = typeof this._WebSocket === "function";
    const hasFetch = typeof this._fetch === "function";
    if (this.options.transport === "websocket" ? !hasWebSocket : !(hasWebSocket || hasFetch)) {
      throw new TypeError("no WebSocket implementation: pass { WebSocket } (or { fetch }) to connect()");
    }
    if (this.options.transport === "sse" && !hasFetch) {
      throw new TypeError("the SSE transport needs fetch: pass { fetch } to connect()");
    }
    // use the SSE + POST fallback for the next connection
    this._streaming = this.options.transport === "sse" || !hasWebSocket;
    this._socketOpened = false;
    this._socket = null;
    this._live = false;
    this._ids = 0;
    this._calls = new Map(); // frame id -> { frame, settle, fail, timer, socket, kind }
    this._outbox = []; //       ids of calls waiting for a connection
    this._subs = new Set(); //  every active Subscription
    this._byServerId = new Map();
    this._attempt = 0;
    this._opened = false;
    this._retryTimer = null;
    this._pingTimer = null;
    this._lastSeen = 0;
    this._refusal = null; //    the problem sent before a 4401 close
    this._newReady();
    this._open();
  }

  /** Whether the socket is open right now. */
  get connected() {
    return this._socket !== null && this._socket.readyState === OPEN && this._live;
  }

  /** "websocket" or "sse": what the current (or next) connection uses. */
  get transport() {
    return this._streaming ? "sse" : "websocket";
  }

  /** A promise for the connection being open (now, or the next time it is). */
  get ready() {
    return this._ready;
  }

  /** Send an HTTP request over the socket; resolves to `{status, headers, body}`.
   * Rejects with a TBoneError for any status >= 400 (its `problem` is the server's body). */
  request(method, path, body, headers, { timeout } = {}) {
    const frame = { type: "request", method: String(method).toUpperCase(), path };
    if (body !== undefined) frame.body = body;
    if (headers) frame.headers = headers;
    return this._call(frame, "request", timeout).then((answer) => {
      if (answer.status >= 400) throw errorFrom(answer);
      return { status: answer.status, headers: answer.headers ?? {}, body: answer.body ?? null };
    });
  }

  /** Call `callback(event)` for every matching `created` / `updated` / `deleted` /
   * `entered` / `left` event. `event` is `{event, resource, pk, data, seq, subscription}`;
   * `data` is the object as this client may see it (`deleted` carries its last state, `left`
   * none). After a reconnect whose missed events could not be replayed, `callback` gets
   * `{event: "resync"}`: re-fetch what depends on them. */
  subscribe(resource, { filter, events, pk } = {}, callback) {
    if (typeof callback !== "function") throw new TypeError("subscribe() needs a callback");
    this._checkOpen();
    const sub = new Subscription(this, resource, { filter, events, pk }, callback);
    this._subs.add(sub);
    if (this.connected) this._sendSubscribe(sub);
    return sub;
  }

  /** Keep `view.rows`, the objects of `resource` matching `filter`, ordered by `order_by`
   * (a string like `"-year,title"` or a list) and at most `limit` of them, true through every
   * change and reconnect; `onRows(rows, change)` is called after each change (`change` is the
   * event, or `{event: "snapshot"}`). `key` names the primary key field (default `"id"`).
   * Returns a LiveView: `await view.ready`, `view.rows`, `view.unsubscribe()`. */
  live(resource, { filter, order_by, limit, key = "id" } = {}, onRows = () => {}) {
    if (typeof onRows !== "function") throw new TypeError("live() needs an onRows function");
    this._checkOpen();
    const view = new LiveView({ order_by, limit, key }, onRows);
    const query = { filter, snapshot: true, order_by: joinOrder(order_by), limit };
    const sub = new Subscription(this, resource, query, (event) => view._apply(event));
    view._bind(sub);
    this._subs.add(sub);
    if (this.connected) this._sendSubscribe(sub);
    return view;
  }

  /** Authenticate this connection (and every later one) with `token`. */
  async authenticate(token) {
    this.token = token;
    await this._call({ type: "auth", token: await this._token() }, "auth");
  }

  /** Close for good: no reconnect; pending calls reject. */
  close(code = 1000, reason = "client closed") {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._retryTimer);
    const error = new TBoneError("the client was closed");
    this._failAll(error);
    const socket = this._socket;
    this._drop();
    this._readyFail(error);
    if (socket) socket.close(code, reason);
    this._emit("onclose", { code, reason, willReconnect: false });
  }

  // -- connection ----------------------------------------------------------------------------

  async _open() {
    let url = this.url;
    try {
      const token = await this._token();
      if (token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    } catch (error) {
      this._report(error);
    }
    if (this.closed) return;
    let socket;
    this._socketOpened = false;
    try {
      socket = this._streaming
        ? new StreamSocket(streamURL(url), this._fetch)
        : new this._WebSocket(url, SUBPROTOCOL);
    } catch (error) {
      this._report(error);
      this._retry(1006, String(error));
      return;
    }
    this._socket = socket;
    this._live = false;
    socket.onopen = () => this._onopen(socket);
    socket.onmessage = (message) => this._onmessage(socket, message.data);
    socket.onclose = (event) => this._onclose(socket, event.code, event.reason);
    // Browsers follow an error with a close event; Node 20's WebSocket does not when the
    // handshake fails, so a socket that never opened counts as closed right away.
    socket.onerror = () => {
      if (!this._live) this._onclose(socket, 1006, "the WebSocket handshake failed");
    };
  }

  _onopen(socket) {
    if (socket !== this._socket) return;
    this._live = true;
    this._socketOpened = true;
    this._attempt = 0;
    this._refusal = null;
    this._lastSeen = Date.now();
    this._pingTimer = setInterval(() => this._keepAlive(socket), this.options.pingInterval);
    for (const sub of this._subs) this._sendSubscribe(sub);
    const waiting = this._outbox.splice(0);
    for (const id of waiting) {
      const call = this._calls.get(id);
      if (call) this._transmit(call);
    }
    const reconnected = this._opened;
    this._opened = true;
    this._readyResolve();
    this._emit("onopen", { reconnected });
  }

  _onclose(socket, code, reason) {
    if (socket !== this._socket) return;
    const neverOpened = !this._socketOpened;
    this._drop();
    const refused = code === AUTH_REFUSED && this._refusal ? errorFrom(this._refusal) : null;
    // Requests already sent may or may not have run: reject them rather than send twice.
    const lost =
      refused ?? new TBoneError(`the connection closed (${code}) before the answer arrived`);
    for (const [id, call] of this._calls) {
      if (call.socket !== socket) continue;
      this._calls.delete(id);
      clearTimeout(call.timer);
      if (call.kind !== "subscribe") call.fail(lost); // subscriptions are re-sent on reconnect
    }
    if (this.closed) return;
    if (neverOpened && code !== AUTH_REFUSED && this._switchTransport()) return;
    const willReconnect = this.options.reconnect && code !== AUTH_REFUSED;
    this._emit("onclose", { code, reason, willReconnect });
    if (willReconnect) {
      this._retry(code, reason);
    } else {
      this.closed = true;
      const error = refused ?? new TBoneError(`the connection closed (${code} ${reason})`);
      this._failAll(error);
      this._readyFail(error);
    }
  }

  /** A connection that never opened: after a failed WebSocket upgrade try the fallback at
   * once (true); after a failed fallback, start the next attempt with the WebSocket again. */
  _switchTransport() {
    if (this.options.transport !== "auto" || typeof this._WebSocket !== "function") return false;
    if (this._streaming) {
      this._streaming = false;
      return false;
    }
    if (typeof this._fetch !== "function") return false;
    this._streaming = true;
    this._open();
    return true;
  }

  _retry(code, reason) {
    if (this.closed) return;
    const { minDelay, maxDelay } = this.options;
    const delay = Math.min(maxDelay, minDelay * 2 ** this._attempt) * (0.5 + Math.random() / 2);
    this._attempt += 1;
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  _drop() {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
    const socket = this._socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    }
    this._socket = null;
    this._live = false;
    this._byServerId.clear();
    for (const sub of this._subs) sub.id = null;
    if (this._readySettled) this._newReady();
  }

  _keepAlive(socket) {
    if (Date.now() - this._lastSeen > 2 * this.options.pingInterval) {
      // Nothing heard (not even a pong) for two intervals: the connection is dead even if
      // the operating system has not noticed; drop it now instead of waiting for TCP.
      try {
        socket.close(4000, "no answer to ping");
      } catch {
        // already closing
      }
      this._onclose(socket, 1006, "no answer to ping");
      return;
    }
    this._sendFrame(socket, { type: "ping" });
  }

  // -- frames --------------------------------------------------------------------------------

  _onmessage(socket, text) {
    if (socket !== this._socket) return;
    this._lastSeen = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      this._report(new TBoneError("the server sent a frame that is not JSON"));
      return;
    }
    if (frame.type === "event") {
      const sub = this._byServerId.get(frame.subscription);
      if (sub && sub.active) this._deliver(sub, frame);
      return;
    }
    if (frame.type === "pong") return;
    const call = frame.id == null ? undefined : this._calls.get(frame.id);
    if (call) {
      this._calls.delete(frame.id);
      clearTimeout(call.timer);
      call.settle(frame);
    } else if (frame.type === "subscribed") {
      // the answer came after the subscribe timed out: the server subscribed anyway
      const unsubscribe = { type: "unsubscribe", id: ++this._ids, subscription: frame.subscription };
      this._sendFrame(socket, unsubscribe);
    } else if (frame.type === "error") {
      if (frame.id == null && frame.status === 401) this._refusal = frame;
      this._report(errorFrom(frame));
    }
  }

  _deliver(sub, frame) {
    if (frame.seq !== undefined) sub.seq = frame.seq;
    if (frame.event === "resync" && sub._view) {
      sub._view._gap(); // the server lost track of what the view holds: take a fresh snapshot
      return;
    }
    const event = {
      event: frame.event,
      resource: frame.resource,
      pk: frame.pk,
      data: frame.data,
      seq: frame.seq,
      subscription: sub,
    };
    this._callback(sub, event);
  }

  _callback(sub, event) {
    try {
      sub.callback(event);
    } catch (error) {
      this._report(error);
    }
  }

  /** Send a frame and wait for its answer. `onAnswer` runs as soon as the answer is read,
   * before any later frame: a subscription must be mapped before the events that follow its
   * answer (a runtime may dispatch several frames before promise callbacks run). */
  _call(frame, kind, timeout = this.options.timeout, onAnswer = null) {
    if (this.closed) return Promise.reject(new TBoneError("the client is closed"));
    return new Promise((resolve, reject) => {
      const id = ++this._ids;
      const settle = (answer) => {
        if (answer.type === "error") return reject(errorFrom(answer));
        if (onAnswer) onAnswer(answer);
        resolve(answer);
      };
      const call = { frame: { ...frame, id }, kind, settle, fail: reject, socket: null };
      call.timer = setTimeout(() => {
        this._calls.delete(id);
        const where = frame.path ?? frame.resource ?? "";
        reject(new TBoneError(`no answer to ${frame.type} ${where} within ${timeout} ms`));
      }, timeout);
      this._calls.set(id, call);
      if (this.connected) this._transmit(call);
      else this._outbox.push(id);
    });
  }

  _transmit(call) {
    call.socket = this._socket;
    this._sendFrame(this._socket, call.frame);
  }

  _subscribeFrame(sub, resume) {
    const frame = { type: "subscribe", resource: sub.resource };
    for (const key of ["filter", "events", "pk", "snapshot", "order_by", "limit"]) {
      if (sub.query[key] !== undefined) frame[key] = sub.query[key];
    }
    if (resume && sub.seq !== null) frame.after = sub.seq;
    return frame;
  }

  _sendSubscribe(sub) {
    // A view that knows it misses rows (a refresh was under way) starts afresh instead.
    const resume = sub._confirmed && !(sub._view && sub._view._stale);
    const frame = this._subscribeFrame(sub, resume);
    sub._refreshing = false;
    const onAnswer = (answer) => {
      if (sub.active) {
        this._byServerId.set(answer.subscription, sub);
        this._handOver(sub, answer, resume && frame.after === undefined);
        sub._subscribed(answer.subscription);
      } else {
        // unsubscribed while the server was subscribing it
        const frame = { type: "unsubscribe", id: ++this._ids, subscription: answer.subscription };
        this._sendFrame(this._socket, frame);
      }
    };
    this._call(frame, "subscribe", undefined, onAnswer).then(
      () => {},
      (error) => {
        if (!this._subs.delete(sub)) return;
        const wasConfirmed = sub._confirmed;
        sub._fail(error);
        if (wasConfirmed && !sub.onerror) this._report(error);
      },
    );
  }

  /** Take over the subscription's answer: its snapshot, or the news that events were lost
   * (`resync`, or a re-subscription with no position to resume after). */
  _handOver(sub, answer, unknownPosition) {
    if (answer.seq !== undefined) sub.seq = answer.seq;
    if (Array.isArray(answer.objects) && sub._view) {
      sub._view._reset(answer.objects);
    } else if (answer.resync || unknownPosition) {
      const event = { event: "resync", resource: sub.resource, pk: undefined, data: undefined };
      this._callback(sub, { ...event, subscription: sub });
    }
  }

  /** A view's window lost a row it cannot refill from events: subscribe again with a fresh
   * snapshot, then drop the old server subscription (its later events are ignored). */
  _refresh(sub) {
    if (sub._refreshing || !sub.active || !this.connected) return;
    sub._refreshing = true;
    const socket = this._socket;
    const onAnswer = (answer) => {
      const old = sub.id;
      if (!sub.active || socket !== this._socket) {
        this._sendFrame(socket, { type: "unsubscribe", id: ++this._ids, subscription: answer.subscription });
        return;
      }
      sub._refreshing = false;
      this._byServerId.delete(old);
      this._byServerId.set(answer.subscription, sub);
      sub.id = answer.subscription;
      this._handOver(sub, answer, false);
      if (old !== null) this._sendFrame(socket, { type: "unsubscribe", id: ++this._ids, subscription: old });
    };
    this._call(this._subscribeFrame(sub, false), "subscribe", undefined, onAnswer).then(
      () => {},
      (error) => {
        sub._refreshing = false;
        this._report(error);
      },
    );
  }

  async _unsubscribe(sub) {
    if (!sub.active) return;
    sub.active = false;
    this._subs.delete(sub);
    const serverId = sub.id;
    sub.id = null;
    if (serverId === null || !this.connected) return; // re-subscribe will simply skip it
    this._byServerId.delete(serverId);
    try {
      await this._call({ type: "unsubscribe", subscription: serverId }, "unsubscribe");
    } catch {
      // no events reach this subscription any more; the server forgets it when the socket goes
    }
  }

  _sendFrame(socket, frame) {
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  // -- helpers -------------------------------------------------------------------------------

  async _token() {
    return typeof this.token === "function" ? await this.token() : this.token;
  }

  _checkOpen() {
    if (this.closed) throw new TBoneError("the client is closed");
  }

  _failAll(error) {
    for (const call of this._calls.values()) {
      clearTimeout(call.timer);
      if (call.kind !== "subscribe") call.fail(error);
    }
    this._calls.clear();
    this._outbox.length = 0;
    for (const sub of this._subs) sub._fail(error);
    this._subs.clear();
  }

  _newReady() {
    this._readySettled = false;
    this._ready = new Promise((resolve, reject) => {
      this._readyResolve = () => {
        this._readySettled = true;
        resolve(this);
      };
      this._readyFail = (error) => {
        this._readySettled = true;
        reject(error);
      };
    });
    this._ready.catch(() => {}); // a failed connection is also reported to onclose
  }

  _emit(hook, arg) {
    if (typeof this[hook] !== "function") return;
    try {
      this[hook](arg);
    } catch (error) {
      if (hook !== "onerror") this._report(error);
    }
  }

  _report(error) {
    if (typeof this.onerror === "function") this._emit("onerror", error);
  }
}

function errorFrom(frame) {
  const problem = frame.body && typeof frame.body === "object" ? frame.body : null;
  const detail = problem?.detail ?? problem?.title ?? `status ${frame.status}`;
  const status = frame.status ?? 0;
  return new TBoneError(`${status}: ${detail}`, { status, problem, response: frame });
}

/** The fallback's stream URL next to a WebSocket URL: {prefix}/ws -> {prefix}/_stream. */
function streamURL(url) {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "wss:" ? "https:" : "http:";
  const path = parsed.pathname;
  parsed.pathname = path.endsWith("/ws") ? path.slice(0, -3) + "/_stream" : path.replace(/\/?$/, "/_stream");
  return parsed.href;
}

const STREAM_OPEN = '{"type":"session"';
const STREAM_CLOSE = '{"type":"close"';
const POST_BYTES = 256 * 1024; // frames per POST, at most (one larger frame goes alone)
const POST_FRAMES = 100;

/** The fallback transport behind a WebSocket's face (readyState, send, close and the on*
 * handlers), so that the client uses either alike: frames from the server arrive as
 * Server-Sent Events read with fetch (so headers and Last-Event-ID stay the client's), frames
 * to it go in POSTs, one at a time and in order, several per POST when they queue up. */
class StreamSocket {
  constructor(url, fetchImpl) {
    this.url = url;
    this.protocol = SUBPROTOCOL;
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._fetch = fetchImpl;
    this._abort = new AbortController();
    this._path = null;
    this._token = null;
    this._queue = [];
    this._posting = false;
    this._run();
  }

  send(text) {
    if (this.readyState !== OPEN) return;
    this._queue.push(text);
    this._pump();
  }

  close(code = 1000, reason = "") {
    if (this.readyState === 3) return;
    this._end();
    // like a WebSocket's close(): its close event follows (unless the handler is gone by then)
    setTimeout(() => this.onclose && this.onclose({ code, reason }), 0);
  }

  /** Stop reading, and end the session on the server rather than let it wait to expire. */
  _end() {
    this.readyState = 3;
    this._abort.abort();
    if (this._path) {
      const init = { method: "DELETE", headers: { "TBone-Stream-Token": this._token } };
      this._fetch(this._path, init).then((r) => r.body?.cancel(), () => {});
    }
  }

  async _run() {
    let code = 1006;
    let reason = "the event stream ended";
    try {
      const init = { headers: { Accept: "text/event-stream" }, cache: "no-store", signal: this._abort.signal };
      const response = await this._fetch(this.url, init);
      if (response.status !== 200) {
        [code, reason] = await this._refused(response);
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const data = dataOf(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (data === null) continue;
          if (data.startsWith(STREAM_CLOSE)) {
            ({ code, reason } = JSON.parse(data));
            return;
          }
          this._frame(data);
        }
      }
    } catch (error) {
      reason = String(error);
    } finally {
      this._closed(code, reason);
    }
  }

  _frame(data) {
    if (data.startsWith(STREAM_OPEN) && this.readyState === 0) {
      const frame = JSON.parse(data);
      this._path = new URL(frame.path, this.url).href;
      this._token = frame.token;
      this.readyState = OPEN;
      if (this.onopen) this.onopen({});
    } else if (this.onmessage) {
      this.onmessage({ data });
    }
  }

  async _refused(response) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // not a problem document
    }
    if (response.status === 401) {
      // as a WebSocket is refused: the problem as an error frame, then 4401
      if (this.onmessage) this.onmessage({ data: JSON.stringify({ type: "error", id: null, status: 401, body: problem }) });
      return [AUTH_REFUSED, "authentication failed"];
    }
    if (this.onerror) this.onerror({});
    return [1006, `the event stream was refused (${response.status})`];
  }

  async _pump() {
    if (this._posting) return;
    this._posting = true;
    try {
      while (this._queue.length && this.readyState === OPEN) {
        const batch = this._batch();
        const init = {
          method: "POST",
          headers: { "Content-Type": "application/json", "TBone-Stream-Token": this._token },
          body: "[" + batch.join(",") + "]",
        };
        const response = await this._fetch(this._path, init);
        await response.body?.cancel();
        if (response.status === 429 || response.status === 503) {
          this._queue.unshift(...batch); // the session is busy: the same frames, a bit later
          await new Promise((resolve) => setTimeout(resolve, 200));
        } else if (response.status === 413) {
          return this._closed(1009, "a frame is larger than the server accepts");
        } else if (response.status >= 400) {
          return this._closed(1006, `the session is gone (${response.status})`);
        }
      }
    } catch (error) {
      this._closed(1006, String(error));
    } finally {
      this._posting = false;
    }
  }

  _batch() {
    const batch = [this._queue.shift()];
    let size = batch[0].length;
    while (this._queue.length && batch.length < POST_FRAMES && size + this._queue[0].length <= POST_BYTES) {
      size += this._queue[0].length;
      batch.push(this._queue.shift());
    }
    return batch;
  }

  _closed(code, reason) {
    if (this.readyState === 3) return;
    if (code === 1006) {
      this._end(); // the connection broke; the session may still be there
    } else {
      this.readyState = 3; // the server ended the session
      this._abort.abort();
    }
    if (this.onclose) this.onclose({ code, reason });
  }
}

/** The data of one SSE event block (null for comments and events without data). */
function dataOf(block) {
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
  }
  return data.length ? data.join("\n") : null;
}

function websocketURL(url) {
  const location = globalThis.location;
  const base = location ? location.href : undefined;
  const parsed = new URL(url, base);
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  return parsed.href;
}

/** An ordered, limited array of objects kept true by a snapshot subscription; returned by
 * `client.live()`.
 *
 * Rows are ordered like the server orders the list endpoint (docs/storage.md): by each
 * `order_by` key, `-` descending, null or missing first ascending (so last descending), values
 * of different kinds ranked null < numbers < text < booleans < others, then by the primary key
 * ascending. Text compares by UTF-16 code units here and by code points on the server: they
 * differ only between characters outside the Basic Multilingual Plane and those in U+E000–U+FFFF.
 * Dates come as ISO strings, which order like the dates when they share one time zone format.
 * Without `order_by` the snapshot keeps the server's default order, and rows that arrive later
 * are placed by primary key.
 *
 * With a `limit`, a row that leaves the window (deleted, left, or moved past its end) leaves a
 * gap that only the server can fill when more rows may exist beyond the window: the view then
 * asks for a fresh snapshot on the same connection (a new subscription, the old one dropped
 * once the new one answered), so `rows` may hold one row fewer than `limit` for a round trip.
 */
export class LiveView {
  constructor({ order_by, limit, key }, onRows) {
    this.key = key;
    this.limit = limit ?? null;
    this.rows = [];
    this.onRows = onRows;
    this._order = orderOf(order_by, key);
    this._complete = false; // rows hold every object of the view (nothing beyond the window)
    this._stale = false; //    rows miss some objects until the next snapshot
    this.subscription = null;
    this.ready = null;
  }

  /** Stop following; `rows` keeps its last value. */
  unsubscribe() {
    return this.subscription.unsubscribe();
  }

  _bind(sub) {
    sub._view = this;
    this.subscription = sub;
    this.ready = sub.ready.then(() => this);
    this.ready.catch(() => {});
  }

  _reset(objects) {
    this.rows = objects.slice();
    this._complete = this.limit === null || objects.length < this.limit;
    this._stale = false;
    this._changed({ event: "snapshot", subscription: this.subscription });
  }

  _apply(event) {
    const at = this.rows.findIndex((row) => sameKey(row[this.key], event.pk));
    if (at >= 0) this.rows.splice(at, 1);
    if (event.event === "deleted" || event.event === "left") {
      if (at >= 0 && !this._complete) this._gap();
    } else if (event.data !== undefined) {
      this._place(event.data);
    }
    this._changed(event);
  }

  /** Put `row` where it sorts, unless that is past the end of a window that may have rows
   * beyond it (then only the server knows which row belongs there). */
  _place(row) {
    const rows = this.rows;
    let at = rows.findIndex((other) => this._compare(row, other) < 0);
    if (at < 0) at = rows.length;
    if (at === rows.length && !this._complete) {
      if (rows.length < this.limit) this._gap(); // it moved off the end, or a gap waits
      return;
    }
    rows.splice(at, 0, row);
    if (this.limit !== null && rows.length > this.limit) {
      rows.length = this.limit;
      this._complete = false;
    }
  }

  _gap() {
    this._stale = true;
    const sub = this.subscription;
    sub.client._refresh(sub);
  }

  _compare(a, b) {
    for (const { path, descending } of this._order) {
      const order = compareValues(valueAt(a, path), valueAt(b, path));
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  }

  _changed(change) {
    try {
      this.onRows(this.rows, change);
    } catch (error) {
      this.subscription.client._report(error);
    }
  }
}

function joinOrder(order_by) {
  return Array.isArray(order_by) ? order_by.join(",") : order_by;
}

function orderOf(order_by, key) {
  const names = (joinOrder(order_by) ?? "").split(",").map((name) => name.trim()).filter(Boolean);
  const order = names.map((name) => {
    const descending = name.startsWith("-");
    return { path: (descending ? name.slice(1) : name).split("."), descending };
  });
  if (!order.some(({ path }) => path.length === 1 && path[0] === key)) {
    order.push({ path: [key], descending: false }); // the server appends the key: a total order
  }
  return order;
}

function valueAt(row, path) {
  let value = row;
  for (const part of path) value = value == null ? undefined : value[part];
  return value;
}

function rank(value) {
  if (value === null || value === undefined) return 0;
  if (typeof value === "number") return 1;
  if (typeof value === "string") return 2;
  if (typeof value === "boolean") return 3;
  return 4;
}

function compareValues(a, b) {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === 0) return 0;
  if (ra === 4) [a, b] = [JSON.stringify(a), JSON.stringify(b)];
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameKey(a, b) {
  return a === b || (a != null && b != null && JSON.stringify(a) === JSON.stringify(b));
}
