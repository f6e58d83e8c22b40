// tbone.js against a real TBone server; run by tests/js/test_tbone_js.py, which starts the
// server (see its API there) and sets:
//   TBONE_URL  http://127.0.0.1:PORT (the API lives under /api)
//   TBONE_JS   file URL of the tbone.js the server served at /api/tbone.js
// The server closes sockets idle for more than 1.5 s, so most clients here ping every 300 ms.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

const { connect, TBoneError, SUBPROTOCOL } = await import(process.env.TBONE_JS);
const HTTP = process.env.TBONE_URL;
const WS = HTTP.replace(/^http/, "ws") + "/api/ws";

// TBONE_TRANSPORT=sse runs the whole suite over the SSE + POST fallback, unchanged
const TRANSPORT = process.env.TBONE_TRANSPORT ?? "auto";
const clients = [];
function open(options = {}) {
  const defaults = { pingInterval: 300, minDelay: 50, maxDelay: 400, transport: TRANSPORT };
  const client = connect(WS, { ...defaults, ...options });
  clients.push(client);
  return client;
}
after(() => clients.forEach((c) => c.close()));

async function http(method, path, body) {
  const init = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(HTTP + path, init);
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

/** Collects a subscription's events; `next()` waits (bounded) for the next one. */
function inbox() {
  const events = [];
  let wake = () => {};
  const push = (event) => {
    events.push(event);
    wake();
  };
  push.next = async (ms = 3000) => {
    const deadline = Date.now() + ms;
    while (events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${ms} ms`);
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
    }
    return events.shift();
  };
  push.none = async (ms = 300) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    assert.deepEqual(events.map((e) => [e.event, e.data?.title]), []);
  };
  return push;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("requests", () => {
  test("connects with the tbone.v1 subprotocol and round-trips a request", async () => {
    const client = open();
    await client.ready;
    assert.equal(client.transport, TRANSPORT === "sse" ? "sse" : "websocket");
    assert.equal(SUBPROTOCOL, "tbone.v1");
    assert.equal(client.connected, true);
    const created = await client.request("POST", "/api/books", { title: "Dune", author: "Herbert" });
    assert.equal(created.status, 201);
    assert.equal(created.body.title, "Dune");
    const read = await client.request("GET", `/api/books/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, created.body);
    assert.ok(read.headers.etag ?? read.headers.ETag);
  });

  test("requests made before the socket opens are sent once it does", async () => {
    const client = open();
    const answers = await Promise.all([
      client.request("GET", "/api/books?author=nobody"),
      client.request("GET", "/api/books?limit=1"),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    assert.deepEqual(answers[0].body.objects, []);
  });

  test("concurrent requests are matched to their answers by id", async () => {
    const client = open();
    const titles = Array.from({ length: 20 }, (_, i) => `Concurrent ${i}`);
    const answers = await Promise.all(
      titles.map((title) => client.request("POST", "/api/books", { title, author: "Many" })),
    );
    assert.deepEqual(answers.map((a) => a.body.title), titles);
  });

  test("an error status rejects with a TBoneError carrying the problem", async () => {
    const client = open();
    await assert.rejects(client.request("GET", "/api/books/missing"), (error) => {
      assert.ok(error instanceof TBoneError);
      assert.equal(error.status, 404);
      assert.equal(error.problem.status, 404);
      return true;
    });
    await assert.rejects(client.request("POST", "/api/books", { title: "" }), (error) => {
      assert.equal(error.status, 422);
      const locs = error.problem.errors.map((e) => e.loc.join("."));
      assert.deepEqual(locs.sort(), ["author", "title"]);
      return true;
    });
  });

  test("a request times out on its own deadline; the client stays usable", async () => {
    const client = open();
    await assert.rejects(client.request("GET", "/api/slow", undefined, undefined, { timeout: 150 }), (error) => {
      assert.ok(error instanceof TBoneError);
      assert.equal(error.status, 0);
      assert.match(error.message, /within 150 ms/);
      return true;
    });
    const { status } = await client.request("GET", "/api/books?limit=1");
    assert.equal(status, 200);
  });

  test("close() rejects pending requests and ready; later calls reject", async () => {
    const client = open();
    await client.ready;
    const pending = client.request("GET", "/api/slow");
    client.close();
    await assert.rejects(pending, /closed/);
    await assert.rejects(client.ready, /closed/);
    await assert.rejects(client.request("GET", "/api/books"), /closed/);
    assert.equal(client.connected, false);
  });
});

describe("subscriptions", () => {
  test("created, updated and deleted reach the subscriber", async () => {
    const client = open();
    const events = inbox();
    const sub = client.subscribe("books", {}, events);
    assert.equal(await sub.ready, sub);
    assert.match(sub.id, /.+/);

    const { body: book } = await http("POST", "/api/books", { title: "Kindred", author: "Butler" });
    let event = await events.next();
    assert.equal(event.event, "created");
    assert.equal(event.resource, "books");
    assert.equal(event.pk, book.id);
    assert.deepEqual(event.data, book);
    assert.equal(event.subscription, sub);
    assert.equal(event.data.cost, undefined, "private fields never reach subscribers");

    await http("PATCH", `/api/books/${book.id}`, { year: 1979 });
    event = await events.next();
    assert.equal(event.event, "updated");
    assert.equal(event.data.year, 1979);

    await http("DELETE", `/api/books/${book.id}`);
    event = await events.next();
    assert.equal(event.event, "deleted");
    assert.equal(event.pk, book.id);
    assert.equal(event.data.title, "Kindred");
    await sub.unsubscribe();
  });

  test("filters, event kinds and pk narrow what arrives", async () => {
    const client = open();
    const byAuthor = inbox();
    const onlyDeleted = inbox();
    const one = inbox();
    const { body: mine } = await http("POST", "/api/books", { title: "Watched", author: "Le Guin" });
    const subs = [
      client.subscribe("books", { filter: { author: "Le Guin" } }, byAuthor),
      client.subscribe("books", { events: ["deleted"], filter: { author: "Le Guin" } }, onlyDeleted),
      client.subscribe("books", { pk: mine.id }, one),
    ];
    await Promise.all(subs.map((s) => s.ready));

    await http("POST", "/api/books", { title: "Elsewhere", author: "Someone" });
    const { body: earthsea } = await http("POST", "/api/books", { title: "Earthsea", author: "Le Guin" });
    assert.equal((await byAuthor.next()).data.title, "Earthsea");

    // an update that moves a book out of the filter tells that subscription it left (key only)
    await http("PATCH", `/api/books/${earthsea.id}`, { author: "Someone" });
    const left = await byAuthor.next();
    assert.deepEqual([left.event, left.pk, left.data], ["left", earthsea.id, undefined]);
    await http("PATCH", `/api/books/${mine.id}`, { year: 1971 });
    const updated = await byAuthor.next();
    assert.deepEqual([updated.event, updated.pk], ["updated", mine.id]);
    assert.deepEqual([(await one.next()).event], ["updated"]);

    await http("DELETE", `/api/books/${mine.id}`);
    assert.equal((await onlyDeleted.next()).pk, mine.id);
    assert.equal((await byAuthor.next()).event, "deleted");
    assert.equal((await one.next()).event, "deleted");
    await Promise.all([byAuthor.none(), onlyDeleted.none(), one.none()]);
  });

  test("a refused subscription rejects ready with the problem", async () => {
    const client = open();
    const nowhere = client.subscribe("nowhere", {}, () => {});
    await assert.rejects(nowhere.ready, (error) => error.status === 404);
    const badFilter = client.subscribe("books", { filter: { cost__gte: 1 } }, () => {});
    await assert.rejects(badFilter.ready, (error) => error.status === 400);
    assert.equal(badFilter.active, false);
  });

  test("after unsubscribe no events arrive; other subscriptions carry on", async () => {
    const client = open();
    const gone = inbox();
    const kept = inbox();
    const sub = client.subscribe("books", {}, gone);
    const other = client.subscribe("books", {}, kept);
    await Promise.all([sub.ready, other.ready]);
    await sub.unsubscribe();
    assert.equal(sub.active, false);
    await http("POST", "/api/books", { title: "After", author: "Nobody" });
    assert.equal((await kept.next()).data.title, "After");
    await gone.none();
  });
});

describe("connection", () => {
  test("keep-alive pings hold an idle connection open past the server's idle timeout", async () => {
    const client = open({ pingInterval: 300 });
    const closes = [];
    client.onclose = (event) => closes.push(event.code);
    await client.ready;
    await sleep(2500); // the server closes sockets silent for 1.5 s
    assert.deepEqual(closes, []);
    assert.equal(client.connected, true);
  });

  test("reconnects after the server closes, re-subscribes and maps the new subscription id", async () => {
    // no pings: the server closes the idle socket (1000), the client comes back by itself
    const client = open({ pingInterval: 60000 });
    const opens = [];
    const closes = [];
    client.onopen = (info) => opens.push(info.reconnected);
    client.onclose = (info) => closes.push([info.code, info.willReconnect]);
    const events = inbox();
    const early = client.subscribe("books", {}, () => {});
    const sub = client.subscribe("books", { filter: { author: "Reconnect" } }, events);
    await sub.ready;
    await early.unsubscribe(); // so the new connection numbers its subscriptions differently
    const firstId = sub.id;

    const deadline = Date.now() + 6000;
    while (opens.length < 2 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(closes[0], [1000, true]);
    assert.deepEqual(opens.slice(0, 2), [false, true]);
    while (sub.id === null && Date.now() < deadline) await sleep(20);
    assert.ok(sub.id !== null && sub.id !== firstId, `new id ${sub.id} after ${firstId}`);

    // it had seen no event, but its answer gave a position: it resumes, nothing to replay
    await events.none();
    await http("POST", "/api/books", { title: "Back again", author: "Reconnect" });
    const event = await events.next();
    assert.equal(event.data.title, "Back again");
    assert.equal(event.subscription, sub);
    const { status } = await client.request("GET", "/api/books?author=Reconnect");
    assert.equal(status, 200);
  });

  test("a failed handshake is retried with backoff until close()", async () => {
    const dead = connect(HTTP.replace(/^http/, "ws") + "/api/no-such-socket", { minDelay: 20, maxDelay: 40 });
    const closes = [];
    dead.onclose = (event) => closes.push(event.willReconnect);
    await sleep(400);
    dead.close();
    assert.ok(closes.length >= 3, `tried ${closes.length} times`);
    assert.ok(closes.slice(0, -1).every(Boolean));
    assert.equal(closes.at(-1), false);
  });
});

describe("authentication", () => {
  test("a token in the URL identifies the user for requests and events", async () => {
    const client = open({ token: "alice-token" });
    const { body } = await client.request("POST", "/api/notes", { text: "mine" });
    assert.equal(body.owner, "alice");
    const anonymous = open();
    await assert.rejects(anonymous.request("GET", "/api/notes"), (error) => error.status === 401);
  });

  test("authenticate() upgrades an anonymous connection", async () => {
    const client = open();
    await client.ready;
    await client.authenticate("bob-token");
    const notes = inbox();
    await client.subscribe("notes", {}, notes).ready;
    const { body } = await client.request("POST", "/api/notes", { text: "hello" });
    assert.equal(body.owner, "bob");
    assert.equal((await notes.next()).data.text, "hello");
    await assert.rejects(client.authenticate("wrong"), (error) => error.status === 401);
  });

  test("a view whose objects the server stopped tracking re-snapshots on the resync event", async () => {
    // the test server tracks 2 objects per subscription: past that, a re-check after
    // authenticate() cannot say what left, and the server sends the view a resync event
    const client = open();
    const author = unique("Tracked");
    for (const title of ["a", "b", "c"]) await http("POST", "/api/books", { title, author });
    const changes = [];
    const view = client.live("books", { filter: { author }, order_by: "title" }, (rows, change) =>
      changes.push(change.event),
    );
    await view.ready;
    assert.deepEqual(changes, ["snapshot"]);
    await client.authenticate("bob-token");
    await until(() => changes.length >= 2, () => JSON.stringify(changes));
    assert.deepEqual(changes, ["snapshot", "snapshot"]);
    assert.deepEqual(view.rows.map((b) => b.title), ["a", "b", "c"]);
  });

  test("a refused token closes with 4401 and the client does not retry", async () => {
    const client = open({ token: "forged" });
    const closes = [];
    const closed = new Promise((resolve) => {
      client.onclose = (event) => resolve(closes.push([event.code, event.willReconnect]));
    });
    const pending = client.request("GET", "/api/books");
    const refused = (error) => error.status === 401 && /not valid/.test(error.problem.detail);
    await assert.rejects(pending, refused);
    await closed;
    await sleep(200);
    assert.deepEqual(closes, [[4401, false]]);
    assert.equal(client.closed, true);
    await assert.rejects(client.ready, refused);
    await assert.rejects(client.request("GET", "/api/books"), /closed/);
  });
});

// -- positions, resume and live views ------------------------------------------------------

let seed = Number(process.env.TBONE_JS_SEED ?? Date.now() % 100000);
console.log(`live-view writers use seed ${seed} (TBONE_JS_SEED=${seed} repeats it)`);
function random() {
  seed = (seed * 1103515245 + 12345) % 2147483648; // a small LCG: repeatable from the seed
  return seed / 2147483648;
}
const pick = (items) => items[Math.floor(random() * items.length)];
const unique = (prefix) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** Wait until `check()` is truthy, polling; fail with `describe()` if it never is. */
async function until(check, describe, ms = 8000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never true within ${ms} ms: ${await describe()}`);
    await sleep(50);
  }
}

/** A client the server drops for idleness (1.5 s without a frame) and that comes back slowly,
 * so that writes happen while it is away. */
function dropping(options = {}) {
  const client = open({ pingInterval: 60000, minDelay: 400, maxDelay: 600, ...options });
  client.drops = 0;
  client.onclose = () => (client.drops += 1);
  return client;
}

const listed = async (query) => (await http("GET", `/api/books?${query}`)).body.objects;
const summary = (rows) => rows.map((b) => `${b.title}:${b.year}`).join(", ");

describe("positions and resume", () => {
  test("every event has a seq; the subscription remembers the last one", async () => {
    const client = open();
    const author = unique("Seq");
    const events = inbox();
    const sub = client.subscribe("books", { filter: { author } }, events);
    await sub.ready;
    assert.equal(typeof sub.seq, "string"); // the answer's position: resumable from the start
    await http("POST", "/api/books", { title: "One", author });
    await http("POST", "/api/books", { title: "Two", author });
    const [one, two] = [await events.next(), await events.next()];
    assert.equal(typeof one.seq, "string");
    assert.notEqual(one.seq, two.seq);
    assert.equal(sub.seq, two.seq);
  });

  test("after a server-side drop, the writes made meanwhile arrive once each, in order", async () => {
    const client = dropping();
    const author = unique("Resume");
    const events = [];
    const sub = client.subscribe("books", { filter: { author } }, (e) => events.push(e));
    await sub.ready;
    await http("POST", "/api/books", { title: "w0", author });
    await until(() => sub.seq !== null, () => "no first event");
    const titles = ["w0"];
    for (let i = 1; i <= 60; i++) {
      titles.push(`w${i}`);
      await http("POST", "/api/books", { title: `w${i}`, author });
      await sleep(40);
    }
    await until(
      () => events.length >= titles.length,
      () => `${events.length} events: ${events.map((e) => e.data?.title ?? e.event)}`,
    );
    await sleep(300); // nothing more may come
    assert.ok(client.drops >= 1, "the server never dropped the socket: nothing was resumed");
    assert.deepEqual(events.map((e) => e.event), titles.map(() => "created"), "no resync");
    assert.deepEqual(events.map((e) => e.data.title), titles);
    assert.equal(new Set(events.map((e) => e.seq)).size, titles.length);
  });

  test("a position the server cannot replay: a subscription hears resync, a view re-snapshots", async () => {
    const client = dropping();
    const author = unique("Resync");
    await http("POST", "/api/books", { title: "Before", author });
    const events = inbox();
    const sub = client.subscribe("books", { filter: { author } }, events);
    const changes = [];
    const view = client.live("books", { filter: { author }, order_by: "title" }, (rows, change) =>
      changes.push(change.event),
    );
    await Promise.all([sub.ready, view.ready]);
    assert.deepEqual(view.rows.map((b) => b.title), ["Before"]);
    // as after a server restart: positions from another history
    sub.seq = "foreign-position";
    view.subscription.seq = "foreign-position";
    const drops = client.drops;
    await until(() => client.drops > drops, () => "no drop");
    await http("POST", "/api/books", { title: "While away", author }); // no socket hears it
    const resync = await events.next(5000);
    assert.equal(resync.event, "resync");
    await until(
      () => view.rows.length === 2,
      () => summary(view.rows),
    );
    assert.deepEqual(view.rows.map((b) => b.title), ["Before", "While away"]);
    assert.deepEqual(changes.slice(0, 2), ["snapshot", "snapshot"]);
  });
});

describe("live views", () => {
  test("the snapshot is ordered and limited like the list endpoint, nulls first ascending", async () => {
    const client = open();
    const author = unique("Order");
    for (const [title, year] of [["b", 1990], ["a", null], ["c", 1980], ["d", null], ["e", 2000]]) {
      await http("POST", "/api/books", { title, author, year });
    }
    const up = client.live("books", { filter: { author }, order_by: ["year", "-title"] });
    const down = client.live("books", { filter: { author }, order_by: "-year", limit: 3 });
    await Promise.all([up.ready, down.ready]);
    assert.deepEqual(up.rows.map((b) => b.title), ["d", "a", "c", "b", "e"]);
    assert.deepEqual(down.rows.map((b) => b.title), ["e", "b", "c"]);
    // a created row sorts where the server would put it; the window keeps its limit
    await http("POST", "/api/books", { title: "f", author, year: 1995 });
    await http("POST", "/api/books", { title: "g", author });
    await until(() => up.rows.length === 7, () => summary(up.rows));
    await until(() => down.rows[1]?.title === "f", () => summary(down.rows));
    assert.deepEqual(up.rows.map((b) => b.title), ["g", "d", "a", "c", "b", "f", "e"]);
    assert.deepEqual(down.rows.map((b) => b.title), ["e", "f", "b"]);
    assert.deepEqual(up.rows, await listed(`author=${author}&order_by=year,-title`));
  });

  test("a view stays equal to the list under random writes and dropped connections", async () => {
    // Its own refreshes keep the socket busy, so the server's idle close cannot be relied on:
    // the connection is cut every 700 ms instead (the socket closed under the client).
    const client = dropping({ maxDelay: 500 });
    const cutter = setInterval(() => client.connected && client._socket.close(4000, "cut"), 700);
    const author = unique("Live");
    const other = unique("Other");
    const years = [null, 1950, 1960, 1970, 1980, 1990];
    for (let i = 0; i < 8; i++) {
      await http("POST", "/api/books", { title: `seed ${i}`, author, year: pick(years) });
    }
    const query = `author=${author}&order_by=-year,title&limit=5`;
    let refreshes = 0;
    const count = (rows, change) => (refreshes += change.event === "snapshot");
    const view = client.live("books", { filter: { author }, order_by: "-year,title", limit: 5 }, count);
    const all = client.live("books", { filter: { author }, order_by: "year" });
    await Promise.all([view.ready, all.ready]);
    assert.deepEqual(view.rows, await listed(query));

    const started = Date.now();
    let writes = 0;
    while (Date.now() - started < 4000) {
      const known = [...(await listed(`author__in=${author},${other}&limit=50`))];
      const book = known.length ? pick(known) : null;
      const op = book ? pick(["create", "year", "year", "move", "delete"]) : "create";
      if (op === "create") {
        await http("POST", "/api/books", { title: `w${writes}`, author: pick([author, other]), year: pick(years) });
      } else if (op === "year") {
        await http("PATCH", `/api/books/${book.id}`, { year: pick(years) });
      } else if (op === "move") {
        await http("PATCH", `/api/books/${book.id}`, { author: book.author === author ? other : author });
      } else {
        await http("DELETE", `/api/books/${book.id}`);
      }
      writes += 1;
    }
    clearInterval(cutter);
    assert.ok(client.drops >= 2, `only ${client.drops} drops in ${writes} writes`);
    const expected = await listed(query);
    const everything = await listed(`author=${author}&order_by=year&limit=50`);
    await until(
      async () =>
        JSON.stringify(view.rows) === JSON.stringify(expected) &&
        JSON.stringify(all.rows) === JSON.stringify(everything),
      () => `limited: ${summary(view.rows)} != ${summary(expected)}\nall: ${summary(all.rows)} != ${summary(everything)}`,
    );
    console.log(`live view: ${writes} writes, ${client.drops} drops, ${refreshes} snapshots, converged`);
  });

  test("unsubscribe stops a view; rows keep their last value", async () => {
    const client = open();
    const author = unique("Stop");
    const view = client.live("books", { filter: { author } });
    await view.ready;
    await view.unsubscribe();
    await http("POST", "/api/books", { title: "Unseen", author });
    await sleep(300);
    assert.deepEqual(view.rows, []);
  });
});

// -- the fallback: Server-Sent Events + POST where WebSockets fail -----------------------------

/** A WebSocket whose upgrade always fails, as behind a proxy that blocks it. */
class BlockedWebSocket {
  static made = 0;
  constructor() {
    BlockedWebSocket.made += 1;
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      if (this.onerror) this.onerror({});
      if (this.onclose) this.onclose({ code: 1006, reason: "" });
    }, 5);
  }
  send() {}
  close() {}
}

describe("fallback", () => {
  test("falls back to SSE + POST by itself when the WebSocket upgrade fails", async () => {
    const before = BlockedWebSocket.made;
    const client = open({ WebSocket: BlockedWebSocket, transport: "auto" });
    const opens = [];
    const closes = [];
    client.onopen = (info) => opens.push(info.reconnected);
    client.onclose = (info) => closes.push(info.code);
    await client.ready;
    assert.equal(client.transport, "sse");
    assert.equal(BlockedWebSocket.made, before + 1, "one upgrade tried");
    assert.deepEqual(opens, [false]);
    assert.deepEqual(closes, [], "the failed upgrade is not reported as a drop");
    const events = inbox();
    await client.subscribe("books", { filter: { author: "Fallback" } }, events).ready;
    const created = await client.request("POST", "/api/books", { title: "Over SSE", author: "Fallback" });
    assert.equal(created.status, 201);
    const event = await events.next();
    assert.equal(event.event, "created");
    assert.equal(event.data.title, "Over SSE");
    assert.ok(event.seq);
    await http("PATCH", `/api/books/${created.body.id}`, { year: 2001 });
    assert.equal((await events.next()).data.year, 2001);
  });

  test("without any WebSocket implementation the client streams from the start", async () => {
    const client = open({ WebSocket: undefined, transport: "auto" });
    assert.equal(client.transport, "sse");
    const { status, body } = await client.request("GET", "/api/books?limit=1");
    assert.equal(status, 200);
    assert.ok(Array.isArray(body.objects));
  });

  test("many frames at once go in order, batched into few POSTs", async () => {
    const client = open({ transport: "sse" });
    await client.ready;
    const titles = Array.from({ length: 60 }, (_, i) => `Batch ${i}`);
    const answers = await Promise.all(
      titles.map((title) => client.request("POST", "/api/books", { title, author: "Batch" })),
    );
    assert.deepEqual(answers.map((a) => a.body.title), titles);
    const listed = await client.request("GET", "/api/books?author=Batch&limit=100");
    assert.equal(listed.body.meta.total_count, 60);
  });

  test("a view over the fallback resumes by seq after the server drops the stream", async () => {
    const client = open({ transport: "sse", pingInterval: 60000, minDelay: 400, maxDelay: 600 });
    let drops = 0;
    client.onclose = () => (drops += 1);
    const author = `Resume-${Date.now()}`;
    const view = client.live("books", { filter: { author }, order_by: "title" });
    await view.ready;
    await until(() => drops > 0, () => "no drop", 6000); // idle: the server ends the session
    for (const title of ["A", "B", "C"]) await http("POST", "/api/books", { title, author });
    await until(
      () => view.rows.map((r) => r.title).join() === "A,B,C",
      () => view.rows.map((r) => r.title).join(),
    );
    assert.equal(client.transport, "sse");
  });
});
