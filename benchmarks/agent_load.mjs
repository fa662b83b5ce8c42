// A load generator for `credchain agent`, in Node.js (no dependencies): the kind of client a
// scanner not written in Python is. Each of CONNECTIONS workers owns one keep-alive
// connection and resolves its share of the queries one after the other.
//
//   node agent_load.mjs SOCKET QUERIES.jsonl CONNECTIONS [REPEAT]
//
// Prints one JSON line: requests, seconds, p50/p99 round trip in microseconds, the count of
// each HTTP status, and failures (answers of 500 or more).
import http from "node:http";
import fs from "node:fs";

const [socketPath, queriesFile, connectionsText, repeatText] = process.argv.slice(2);
const connections = Number(connectionsText || 1);
const repeat = Number(repeatText || 1);
const queries = fs.readFileSync(queriesFile, "utf8").split("\n").filter((l) => l.trim());

function post(agent, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath,
        agent,
        method: "POST",
        path: "/v1/resolve",
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve([response.statusCode, Buffer.concat(chunks)]));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const statuses = {};

async function worker(offset, times) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let failures = 0;
  for (let round = 0; round < repeat; round++) {
    for (let i = offset; i < queries.length; i += connections) {
      const started = process.hrtime.bigint();
      const [status] = await post(agent, queries[i]);
      times.push(Number(process.hrtime.bigint() - started) / 1000);
      statuses[status] = (statuses[status] || 0) + 1;
      if (status >= 500) failures++;
    }
  }
  agent.destroy();
  return failures;
}

const times = [];
const started = process.hrtime.bigint();
const failures = (
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(i, times)))
).reduce((a, b) => a + b, 0);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(
  JSON.stringify({
    requests: times.length,
    seconds,
    p50_us: at(0.5),
    p99_us: at(0.99),
    statuses,
    failures,
  }),
);
