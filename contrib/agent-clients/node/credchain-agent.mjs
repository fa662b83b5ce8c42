// A client of `credchain agent` for Node.js 18.3+ (tested on 20): built-in modules only.
//
//   import { CredchainAgent } from './credchain-agent.mjs';
//
//   const agent = new CredchainAgent();              // $CREDCHAIN_AGENT_SOCKET, else the home's
//   const safe = await agent.resolve({ asset_name: 'web-01' });   // { username, password, ... }
//   for await (const line of agent.iterateMany(queries, { concurrency: 8 })) { ... }
//   agent.close();
//
// One keep-alive connection per client, reused by every call (calls made at once queue on it;
// `maxSockets` allows more). A problem answer (404, 502, ...) rejects with an `AgentProblem`
// carrying the RFC 9457 problem: `status`, `slug` ('not-found', 'vault-unavailable', ...),
// `type`, `title`, `detail` (the agent's one line, never a secret). No agent, or one that went
// away mid-answer: an `AgentUnavailable`.
//
// As a command (exit 0 found, 3 not found, 1 another error, 2 bad usage):
//
//   node credchain-agent.mjs resolve '{"asset_name":"web-01"}'
//   node credchain-agent.mjs resolve-many --concurrency 8 < queries.jsonl
//   node credchain-agent.mjs --url https://127.0.0.1:8443 --ca agent.crt \
//        --token-file agent.token health

import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The environment variable naming the agent's socket (as `credchain resolve --agent`). */
export const SOCKET_ENV = 'CREDCHAIN_AGENT_SOCKET';

const PREFIX = 'urn:credchain:problem:';

/** The agent answered with a problem (RFC 9457); its message is the agent's `detail`. */
export class AgentProblem extends Error {
  constructor(status, problem) {
    const known = problem !== null && typeof problem === 'object' ? problem : {};
    const detail =
      typeof known.detail === 'string' ? known.detail : `the agent answered HTTP ${status}`;
    super(detail);
    this.name = 'AgentProblem';
    this.status = Number.isInteger(known.status) ? known.status : status;
    this.type = typeof known.type === 'string' ? known.type : 'about:blank';
    this.slug = this.type.startsWith(PREFIX) ? this.type.slice(PREFIX.length) : 'http-error';
    this.title = typeof known.title === 'string' ? known.title : '';
    this.detail = detail;
  }
}

/** No agent answers where the client looks, or it went away mid-answer. */
export class AgentUnavailable extends Error {
  constructor(message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AgentUnavailable';
  }
}

/** `$CREDCHAIN_AGENT_SOCKET`, else `agent.sock` in the credchain home (as the Python client). */
export function defaultSocket(env = process.env) {
  if (env[SOCKET_ENV]) return env[SOCKET_ENV];
  let home;
  if (env.CREDCHAIN_HOME) {
    home = env.CREDCHAIN_HOME.replace(/^~(?=$|\/)/, os.homedir());
  } else if (process.platform === 'darwin') {
    home = path.join(os.homedir(), 'Library', 'Application Support', 'credchain');
  } else {
    const config = (env.XDG_CONFIG_HOME || '').trim() || path.join(os.homedir(), '.config');
    home = path.join(config, 'credchain');
  }
  return path.join(home, 'agent.sock');
}

/** Asks a running agent over its Unix socket, or (`url`) over HTTPS with a bearer token. */
export class CredchainAgent {
  #transport;
  #agent;
  #target;
  #token;
  #timeout;
  #opened = 0;

  /**
   * @param {object} [options]
   * @param {string} [options.socketPath] the agent's Unix socket (default: `defaultSocket()`)
   * @param {string} [options.url] `https://HOST:PORT` of the agent's TCP listener instead
   * @param {string} [options.token] the bearer token (TCP only; the socket trusts the kernel)
   * @param {string|Buffer} [options.ca] PEM of the CA that signed the listener's certificate
   * @param {number} [options.timeout] ms a request may sit idle before it fails (60 000)
   * @param {number} [options.maxSockets] connections kept open at most (1)
   */
  constructor({ socketPath, url, token, ca, timeout = 60_000, maxSockets = 1 } = {}) {
    if (socketPath !== undefined && url !== undefined) {
      throw new TypeError('give socketPath or url, not both');
    }
    if (url !== undefined) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:') {
        // the bearer token must not cross the wire in the clear; the agent serves TLS only
        throw new TypeError(`the agent's TCP listener is HTTPS, not ${parsed.protocol}`);
      }
      this.#transport = https;
      this.#agent = new https.Agent({ keepAlive: true, maxSockets, ca });
      this.#target = {
        hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(parsed.port || 443),
      };
      this.where = parsed.origin;
    } else {
      const where = socketPath ?? defaultSocket();
      this.#transport = http;
      this.#agent = new http.Agent({ keepAlive: true, maxSockets });
      this.#target = { socketPath: where };
      this.where = `unix:${where}`;
    }
    const create = this.#agent.createConnection.bind(this.#agent);
    this.#agent.createConnection = (...args) => {
      this.#opened += 1;
      return create(...args);
    };
    this.#token = token;
    this.#timeout = timeout;
  }

  /** How many connections this client has opened (1 while keep-alive holds). */
  get connectionsOpened() {
    return this.#opened;
  }

  /** The asset's SAFE dict (`username`, base64 `password`, maybe `privilegePassword`). */
  async resolve(query) {
    return JSON.parse(await this.#call('POST', '/v1/resolve', JSON.stringify(query)));
  }

  /** Every line of `/v1/resolve-many` for `queries`, in completion order, each with `index`. */
  async resolveMany(queries, options = {}) {
    const lines = [];
    for await (const line of this.iterateMany(queries, options)) lines.push(line);
    return lines;
  }

  /**
   * The lines of `/v1/resolve-many` as they arrive. `queries`: an iterable or async iterable of
   * query objects (or strings, each one JSON line already).
   */
  async *iterateMany(queries, { concurrency } = {}) {
    const query = concurrency === undefined ? '' : `?concurrency=${encodeURIComponent(concurrency)}`;
    const body = Array.isArray(queries) ? queries.map(jsonLine).join('') : jsonLines(queries);
    const response = await this.#send('POST', `/v1/resolve-many${query}`, body, NDJSON);
    if (response.statusCode !== 200) {
      throw problemOf(response.statusCode, await this.#text(response));
    }
    response.setEncoding('utf8');
    const chunks = response[Symbol.asyncIterator]();
    let rest = '';
    for (;;) {
      let next;
      try {
        next = await chunks.next();
      } catch (error) {
        throw new AgentUnavailable(`the agent at ${this.where} went away: ${error.message}`, error);
      }
      if (next.done) break;
      rest += next.value;
      let end;
      while ((end = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, end);
        rest = rest.slice(end + 1);
        if (line.trim()) yield JSON.parse(line);
      }
    }
    if (rest.trim()) yield JSON.parse(rest);
  }

  /** The trace of a walk of the chain for `query` (no secret). */
  async explain(query) {
    return JSON.parse(await this.#call('POST', '/v1/explain', JSON.stringify(query)));
  }

  /** Liveness and each chain entry's last state. */
  async health() {
    return JSON.parse(await this.#call('GET', '/v1/health'));
  }

  /** The Prometheus text of `/metrics`. */
  async metrics() {
    return this.#call('GET', '/metrics');
  }

  /** Close the kept-alive connection; the client opens a new one if used again. */
  close() {
    this.#agent.destroy();
  }

  async #call(method, urlPath, body) {
    const response = await this.#send(method, urlPath, body, JSON_TYPE);
    const text = await this.#text(response);
    if (response.statusCode !== 200) throw problemOf(response.statusCode, text);
    return text;
  }

  async #text(response) {
    response.setEncoding('utf8');
    let text = '';
    try {
      for await (const chunk of response) text += chunk;
    } catch (error) {
      throw new AgentUnavailable(`the agent at ${this.where} went away: ${error.message}`, error);
    }
    return text;
  }

  #send(method, urlPath, body, contentType, again = true) {
    return new Promise((resolve, reject) => {
      const headers = {};
      if (body !== undefined) {
        headers['Content-Type'] = contentType;
        if (typeof body === 'string') headers['Content-Length'] = Buffer.byteLength(body);
      }
      if (this.#token !== undefined) headers.Authorization = `Bearer ${this.#token}`;
      const request = this.#transport.request({
        ...this.#target,
        agent: this.#agent,
        method,
        path: urlPath,
        headers,
        timeout: this.#timeout,
      });
      request.on('response', resolve);
      request.on('timeout', () => {
        request.destroy(
          new AgentUnavailable(`the agent at ${this.where} gave no answer in ${this.#timeout} ms`),
        );
      });
      request.on('error', (error) => {
        if (error instanceof AgentUnavailable) {
          reject(error);
        } else if (again && request.reusedSocket && error.code === 'ECONNRESET' && !isStream(body)) {
          // a kept-alive connection the agent closed while idle (or a restarted agent): once more
          this.#send(method, urlPath, body, contentType, false).then(resolve, reject);
        } else {
          reject(new AgentUnavailable(`no agent answers at ${this.where}: ${error.message}`, error));
        }
      });
      if (isStream(body)) {
        pump(body, request);
      } else {
        request.end(body);
      }
    });
  }
}

const JSON_TYPE = 'application/json';
const NDJSON = 'application/x-ndjson';

function jsonLine(query) {
  return `${typeof query === 'string' ? query : JSON.stringify(query)}\n`;
}

async function* jsonLines(queries) {
  for await (const query of queries) yield jsonLine(query);
}

function isStream(body) {
  return body !== undefined && typeof body !== 'string';
}

async function pump(lines, request) {
  try {
    for await (const line of lines) {
      if (!request.write(line)) await once(request, 'drain');
    }
    request.end();
  } catch (error) {
    request.destroy(error);
  }
}

function problemOf(status, text) {
  let problem = null;
  try {
    problem = JSON.parse(text);
  } catch {
    // not problem JSON (a proxy?): the status says what there is to say
  }
  return new AgentProblem(status, problem);
}

// -- the command ---------------------------------------------------------------------------------

const USAGE = `usage: node credchain-agent.mjs [--socket PATH | --url https://HOST:PORT [--ca FILE]
       [--token-file FILE]] COMMAND

commands:
  resolve QUERY_JSON                  the asset's SAFE dict, one JSON line
  resolve-many [--concurrency N]      JSON lines on stdin; one JSON line each, with its index
  explain QUERY_JSON                  the trace of a walk of the chain
  health                              liveness and each chain entry's last state
  metrics                             Prometheus text

exit: 0 found, 3 not found, 1 another error, 2 bad usage`;

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;
const EXIT_NOT_FOUND = 3;

function usage(message) {
  process.stderr.write(`credchain: ${message}\n${USAGE}\n`);
  return EXIT_USAGE;
}

function parseQuery(text) {
  const query = JSON.parse(text);
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw new SyntaxError('a query must be a JSON object');
  }
  return query;
}

/** Run the command with `argv` (the arguments after the script); resolves to the exit code. */
export async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        socket: { type: 'string' },
        url: { type: 'string' },
        ca: { type: 'string' },
        'token-file': { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, argument, ...extra] = positionals;
  const takesQuery = command === 'resolve' || command === 'explain';
  if (!['resolve', 'resolve-many', 'explain', 'health', 'metrics'].includes(command)) {
    return usage(command === undefined ? 'a command is needed' : `no command ${command}`);
  }
  if (extra.length > 0 || (takesQuery ? argument === undefined : argument !== undefined)) {
    return usage(takesQuery ? `${command} takes one QUERY_JSON` : `${command} takes no argument`);
  }
  let query;
  let options;
  try {
    if (takesQuery) query = parseQuery(argument);
    options =
      values.url === undefined
        ? { socketPath: values.socket }
        : {
            url: values.url,
            ca: values.ca === undefined ? undefined : fs.readFileSync(values.ca),
            token:
              values['token-file'] === undefined
                ? undefined
                : fs.readFileSync(values['token-file'], 'utf8').trim(),
          };
  } catch (error) {
    return usage(error.message);
  }
  let agent;
  try {
    agent = new CredchainAgent(options);
  } catch (error) {
    return usage(error.message);
  }
  try {
    if (command === 'resolve') {
      process.stdout.write(`${JSON.stringify(await agent.resolve(query))}\n`);
    } else if (command === 'explain') {
      process.stdout.write(`${JSON.stringify(await agent.explain(query))}\n`);
    } else if (command === 'health') {
      process.stdout.write(`${JSON.stringify(await agent.health())}\n`);
    } else if (command === 'metrics') {
      process.stdout.write(await agent.metrics());
    } else {
      const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
      const concurrency = values.concurrency;
      for await (const line of agent.iterateMany(lines, { concurrency })) {
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof AgentProblem && error.slug === 'not-found') {
      process.stderr.write(`credchain: not found: ${error.detail}\n`);
      return EXIT_NOT_FOUND;
    }
    process.stderr.write(`credchain: error: ${error.message}\n`);
    return EXIT_ERROR;
  } finally {
    agent.close();
  }
}

function runAsCommand() {
  if (!process.argv[1]) return false;
  try {
    return pathToFileURL(fs.realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (runAsCommand()) {
  process.exitCode = await main(process.argv.slice(2));
}
