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

const clients = [];
function open(options = {}) {
  const client = connect(WS, { pingInterval: 300, minDelay: 50, maxDelay: 400, ...options });
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
