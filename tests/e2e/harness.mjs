// End-to-end test harness: starts the `altius` binary on a free port with a fresh data
// directory, waits for its `Listening on 127.0.0.1:PORT` line, and makes sure the child
// never outlives the test process (after hooks, process exit and signal handlers).
//
// Environment:
//   ALTIUS_BIN          path of the binary (default <repo>/target/debug/altius)
//   ALTIUS_E2E_VERBOSE  set to 1 to copy the node's stderr to this process's stderr

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  webSocket,
} from 'viem';
import { privateKeyToAccount, mnemonicToAccount } from 'viem/accounts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const ALTIUS_BIN = (() => {
  const p = process.env.ALTIUS_BIN || 'target/debug/altius';
  return isAbsolute(p) ? p : resolve(REPO_ROOT, p);
})();

export const CAST_BIN = resolve(REPO_ROOT, 'node_modules/@foundry-rs/cast-linux-amd64/bin/cast');

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEV_CHAIN_ID = 901337;
export const FIRST_DEV_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
export const FIRST_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const DEV_PREFUND = 10_000n * 10n ** 18n;

/** The ten dev accounts (viem local accounts, m/44'/60'/0'/0/i). */
export const DEV_ACCOUNTS = Array.from({ length: 10 }, (_, i) =>
  mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }),
);
/** Their private keys as 0x-hex strings. */
export const DEV_KEYS = DEV_ACCOUNTS.map((a) => `0x${Buffer.from(a.getHdKey().privateKey).toString('hex')}`);

/** OP Stack fee vaults (predeploys). */
export const FEE_VAULTS = {
  sequencer: '0x4200000000000000000000000000000000000011',
  baseFee: '0x4200000000000000000000000000000000000019',
  l1Fee: '0x420000000000000000000000000000000000001A',
  operator: '0x420000000000000000000000000000000000001b',
};

// ---------------------------------------------------------------------------------------
// Child process bookkeeping: every node started here is killed when this process ends.

const live = new Set();

function killAllNow() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllNow();
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[sig] ?? 0));
  });
}

// ---------------------------------------------------------------------------------------
// Small helpers.

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects with `label` when `promise` does not settle within `ms`. */
export async function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `fn` until it returns a truthy value; returns that value or throws after `timeoutMs`. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, label = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${lastErr ? `: ${lastErr.message}` : ''}`);
}

let rpcId = 1;

/**
 * POSTs `body` (string or object) to `url`. Returns {status, text, json} (json undefined
 * when the body is not JSON). Never hangs: aborts after `timeoutMs`.
 */
export async function postRaw(url, body, { timeoutMs = 15_000, headers = {} } = {}) {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** One JSON-RPC call; returns the whole response object ({result} or {error}). */
export async function rpcRaw(url, method, params = [], opts = {}) {
  const id = rpcId++;
  const { json, status, text } = await postRaw(url, { jsonrpc: '2.0', id, method, params }, opts);
  if (json === undefined) {
    throw new Error(`${method}: non-JSON response (HTTP ${status}): ${text.slice(0, 500)}`);
  }
  return json;
}

/** One JSON-RPC call; returns `result` or throws an Error carrying `.code`, `.data`. */
export async function rpc(url, method, params = [], opts = {}) {
  const res = await rpcRaw(url, method, params, opts);
  if (res.error) {
    const err = new Error(`${method} failed: ${res.error.code} ${res.error.message}`);
    err.code = res.error.code;
    err.rpcMessage = res.error.message;
    err.data = res.error.data;
    throw err;
  }
  if (!('result' in res)) throw new Error(`${method}: response without result: ${JSON.stringify(res)}`);
  return res.result;
}

/** Waits for a receipt over raw JSON-RPC. */
export async function waitForReceipt(url, hash, timeoutMs = 20_000) {
  return waitFor(() => rpc(url, 'eth_getTransactionReceipt', [hash]), {
    timeoutMs,
    label: `receipt of ${hash}`,
  });
}

/** Runs cast with a timeout; resolves to trimmed stdout, rejects with stderr on failure. */
export function cast(args, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    execFile(CAST_BIN, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message = `cast ${args.join(' ')} failed: ${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`;
        err.stdout = stdout;
        err.stderr = stderr;
        reject(err);
      } else {
        resolvePromise(stdout.trim());
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// Starting the node.

const TAIL_BYTES = 256 * 1024;

function appendTail(buf, chunk) {
  const s = buf + chunk;
  return s.length > TAIL_BYTES ? s.slice(s.length - TAIL_BYTES) : s;
}

/**
 * Spawns `altius run` and resolves once it prints its listening line.
 * Returns an object describing the running process.
 */
function spawnNode({ datadir, blockTime, configFile, extraArgs = [], startTimeoutMs }) {
  if (!existsSync(ALTIUS_BIN)) {
    throw new Error(`altius binary not found at ${ALTIUS_BIN} (build it with cargo build -p altius-sequencer, or set ALTIUS_BIN)`);
  }
  const args = ['run', '--datadir', datadir, '--http-port', '0'];
  if (blockTime !== null) args.push('--block-time', String(blockTime));
  if (configFile) args.push('--config', configFile);
  args.push(...extraArgs);
  const child = spawn(ALTIUS_BIN, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { RUST_LOG: process.env.RUST_LOG || 'info', ...process.env, RUST_BACKTRACE: '1' },
  });
  live.add(child);
  // Never let a forgotten child keep this process alive: the exit handler kills it.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
  const proc = {
    child,
    args,
    stdout: '',
    stderr: '',
    exited: false,
    exitCode: null,
    exitSignal: null,
  };
  proc.exitPromise = new Promise((res) => {
    child.once('exit', (code, signal) => {
      proc.exited = true;
      proc.exitCode = code;
      proc.exitSignal = signal;
      live.delete(child);
      res({ code, signal });
    });
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    proc.stderr = appendTail(proc.stderr, d);
    if (process.env.ALTIUS_E2E_VERBOSE === '1') process.stderr.write(d);
  });
  const ready = new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`altius did not print its listening line within ${startTimeoutMs} ms\nargs: ${args.join(' ')}\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`));
    }, startTimeoutMs);
    child.stdout.on('data', (d) => {
      proc.stdout = appendTail(proc.stdout, d);
      const m = /Listening on (\S+):(\d+)/.exec(proc.stdout);
      if (m && !proc.port) {
        clearTimeout(timer);
        proc.host = m[1];
        proc.port = Number(m[2]);
        res(proc);
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!proc.port) {
        rej(new Error(`altius exited (code ${code}, signal ${signal}) before listening\nargs: ${args.join(' ')}\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`));
      }
    });
  });
  return ready;
}

/**
 * Starts a node. Options: blockTime (seconds, default 0; null: no --block-time flag), datadir (default: a fresh temp
 * directory, removed by cleanup()), config (TOML text written to a temp file and passed with
 * --config), extraArgs, startTimeoutMs.
 *
 * The caller must call `cleanup()` (normally from an `after` hook); a process exit handler
 * kills any node still running as a last resort.
 */
export async function startNode(opts = {}) {
  const {
    blockTime = 0,
    config,
    extraArgs = [],
    startTimeoutMs = 30_000,
  } = opts;
  const tmpRoot = mkdtempSync(join(tmpdir(), 'altius-e2e-'));
  const datadir = opts.datadir ?? join(tmpRoot, 'data');
  let configFile;
  if (config !== undefined) {
    configFile = join(tmpRoot, 'altius.toml');
    writeFileSync(configFile, config);
  }

  const node = {
    datadir,
    blockTime,
    configFile,
    proc: null,
    /** Every process started for this node (restarts included), newest last. */
    history: [],
    get url() {
      return `http://127.0.0.1:${this.proc.port}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${this.proc.port}`;
    },
    get port() {
      return this.proc.port;
    },
    get pid() {
      return this.proc.child.pid;
    },
    get stdout() {
      return this.proc.stdout;
    },
    get stderr() {
      return this.proc.stderr;
    },
    get alive() {
      return !!this.proc && !this.proc.exited;
    },
    /** The last lines of the node's stderr, for failure messages. */
    logTail(lines = 40) {
      return this.proc ? this.proc.stderr.split('\n').slice(-lines).join('\n') : '';
    },
    async launch(blockTimeOverride) {
      if (blockTimeOverride !== undefined) this.blockTime = blockTimeOverride;
      this.proc = await spawnNode({
        datadir,
        blockTime: this.blockTime,
        configFile,
        extraArgs,
        startTimeoutMs,
      });
      this.history.push(this.proc);
      return this;
    },
    /**
     * Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs` and then throws.
     * Resolves to {code, signal}.
     */
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      const p = this.proc;
      if (!p || p.exited) return p ? { code: p.exitCode, signal: p.exitSignal } : null;
      p.child.kill(signal);
      let timer;
      const res = await Promise.race([
        p.exitPromise,
        new Promise((r) => {
          timer = setTimeout(() => r(null), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (res === null) {
        p.child.kill('SIGKILL');
        await withTimeout(p.exitPromise, 5_000, 'exit after SIGKILL');
        throw new Error(`altius did not exit within ${timeoutMs} ms of ${signal}; killed\nstderr tail:\n${this.logTail()}`);
      }
      return res;
    },
    /** SIGKILL, waiting (bounded) for the exit. */
    async kill() {
      const p = this.proc;
      if (!p || p.exited) return;
      p.child.kill('SIGKILL');
      await withTimeout(p.exitPromise, 10_000, 'exit after SIGKILL');
    },
    /** Stops (with `signal`, or SIGKILL when signal is 'SIGKILL') and starts again on the same datadir. */
    async restart({ signal = 'SIGTERM', blockTime } = {}) {
      if (signal === 'SIGKILL') await this.kill();
      else await this.stop(signal);
      return this.launch(blockTime);
    },
    /** Kills the process and removes the temp files. Safe to call twice. */
    async cleanup() {
      try {
        await this.kill();
      } catch {
        // ignore
      }
      try {
        rmSync(tmpRoot, { recursive: true, force: true });
      } catch {
        // ignore
      }
    },
    /** viem public client over HTTP. */
    publicClient() {
      return createPublicClient({ chain: this.chain, transport: http(this.url, { timeout: 15_000, retryCount: 0 }) });
    },
    /** viem public client over WebSocket. */
    wsClient() {
      return createPublicClient({ chain: this.chain, transport: webSocket(this.wsUrl, { timeout: 15_000, retryCount: 0, reconnect: false }) });
    },
    /** viem wallet client with a local account (eth_accounts is empty). */
    walletClient(account) {
      return createWalletClient({ account, chain: this.chain, transport: http(this.url, { timeout: 15_000, retryCount: 0 }) });
    },
  };
  try {
    await node.launch();
  } catch (e) {
    rmSync(tmpRoot, { recursive: true, force: true });
    throw e;
  }
  const chainId = Number(await rpc(node.url, 'eth_chainId'));
  node.chainId = chainId;
  node.chain = defineChain({
    id: chainId,
    name: 'altius-dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [node.url], webSocket: [node.wsUrl] } },
  });
  return node;
}

/** A fresh random local account (unfunded). */
export async function freshAccount() {
  const { generatePrivateKey } = await import('viem/accounts');
  const key = generatePrivateKey();
  return { key, account: privateKeyToAccount(key) };
}

/** Hex quantity -> bigint. */
export function big(hex) {
  return BigInt(hex);
}

/** Asserts that the node process is still running; the message includes its log tail. */
export function assertAlive(node) {
  if (!node.alive) {
    throw new Error(`altius is no longer running (exit code ${node.proc.exitCode}, signal ${node.proc.exitSignal})\nstderr tail:\n${node.logTail()}`);
  }
}

// ---------------------------------------------------------------------------------------
// Hand-assembled contracts (no compiler needed).

/**
 * Runtime of the log emitter: LOG1 with no data and topic0 = the first 32 bytes of the
 * calldata; then STOP.  PUSH1 0 CALLDATALOAD PUSH1 0 PUSH1 0 LOG1 STOP
 */
export const EMITTER_RUNTIME = '0x60003560006000a100';

/** Init code prefix that returns `runtime` (hex, <= 255 bytes) after running `setup` (hex). */
export function initCode(runtime, setup = '0x') {
  const rt = runtime.slice(2);
  const len = rt.length / 2;
  if (len > 255) throw new Error('runtime too long for this assembler');
  const s = setup.slice(2);
  const prefixLen = s.length / 2 + 12;
  const h = (n) => n.toString(16).padStart(2, '0');
  // PUSH1 len PUSH1 off PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN
  return `0x${s}60${h(len)}60${h(prefixLen)}600039` + `60${h(len)}6000f3${rt}`;
}

/** Emitter init code that also stores 0x2a in slot 0 and 0x1234 in slot 1. */
export const EMITTER_WITH_STORAGE_INIT = initCode(EMITTER_RUNTIME, '0x602a600055611234600155');
export const EMITTER_INIT = initCode(EMITTER_RUNTIME);

// ---------------------------------------------------------------------------------------
// A minimal JSON-RPC WebSocket client (the `ws` package, which viem depends on).

/** JSON-RPC over one WebSocket: calls with timeouts and per-subscription notification queues. */
export class WsRpc {
  static async connect(url, timeoutMs = 10_000) {
    const { default: WebSocket } = await import('ws');
    const c = new WsRpc();
    c.ws = new WebSocket(url);
    c.pending = new Map();
    c.notes = new Map(); // subscription id -> [result]
    c.waiters = new Set();
    c.closed = false;
    c.ws.on('message', (data) => c.onMessage(data));
    c.ws.on('close', () => {
      c.closed = true;
      for (const { reject } of c.pending.values()) reject(new Error('websocket closed'));
      c.pending.clear();
    });
    c.ws.on('error', () => {});
    await withTimeout(
      new Promise((res, rej) => {
        c.ws.once('open', res);
        c.ws.once('error', rej);
        c.ws.once('unexpected-response', (_req, resp) => rej(new Error(`websocket upgrade refused: HTTP ${resp.statusCode}`)));
      }),
      timeoutMs,
      `websocket connect to ${url}`,
    );
    return c;
  }

  onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    const msgs = Array.isArray(msg) ? msg : [msg];
    for (const m of msgs) {
      if (m.method === 'eth_subscription' && m.params) {
        const id = m.params.subscription;
        if (!this.notes.has(id)) this.notes.set(id, []);
        this.notes.get(id).push(m.params.result);
        for (const w of this.waiters) w();
      } else if (m.id !== undefined && this.pending.has(m.id)) {
        const { resolve } = this.pending.get(m.id);
        this.pending.delete(m.id);
        resolve(m);
      }
    }
  }

  /** Sends a call; resolves to the whole response ({result} or {error}). */
  callRaw(method, params = [], timeoutMs = 10_000) {
    const id = rpcId++;
    const p = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return withTimeout(p, timeoutMs, `ws ${method}`).finally(() => this.pending.delete(id));
  }

  async call(method, params = [], timeoutMs = 10_000) {
    const res = await this.callRaw(method, params, timeoutMs);
    if (res.error) {
      const err = new Error(`ws ${method} failed: ${res.error.code} ${res.error.message}`);
      err.code = res.error.code;
      throw err;
    }
    return res.result;
  }

  /** Notifications received so far for subscription `id`. */
  received(id) {
    return this.notes.get(id) ?? [];
  }

  /** Waits until a notification for `id` satisfies `pred`; returns it. */
  async waitNotification(id, pred = () => true, timeoutMs = 10_000) {
    const find = () => this.received(id).find(pred);
    const found = find();
    if (found !== undefined) return found;
    let waiter;
    const p = new Promise((resolve) => {
      waiter = () => {
        const f = find();
        if (f !== undefined) resolve(f);
      };
      this.waiters.add(waiter);
    });
    try {
      return await withTimeout(p, timeoutMs, `notification on subscription ${id}`);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  close() {
    try {
      this.ws.terminate();
    } catch {
      // ignore
    }
  }
}

// ---------------------------------------------------------------------------------------
// Large bodies: a raw HTTP/1.1 POST over TCP that stops writing as soon as the server
// answers (a server may send 413 and close before reading a huge body, which makes fetch
// fail with EPIPE although the server did answer).

/**
 * POSTs `body` (string) to `url` and resolves to {status, text, json} from the first
 * response, or {networkError} when no response came at all. Bounded by `timeoutMs`.
 */
export async function postLarge(url, body, { timeoutMs = 30_000, chunkBytes = 64 * 1024 } = {}) {
  const net = await import('node:net');
  const u = new URL(url);
  const payload = Buffer.from(body);
  return new Promise((resolvePromise) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    let received = Buffer.alloc(0);
    let done = false;
    let writeError = null;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(result);
    };
    const parsed = () => {
      const s = received.toString('latin1');
      const headEnd = s.indexOf('\r\n\r\n');
      if (headEnd < 0) return null;
      const head = s.slice(0, headEnd);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      if (status === 100) {
        received = received.subarray(headEnd + 4);
        return parsed();
      }
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const bodyBytes = received.subarray(headEnd + 4);
      if (len && bodyBytes.length < Number(len[1])) return null;
      if (!len && !/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        // Without a length the body ends with the connection.
        if (!socket.readableEnded) return null;
      }
      let text = bodyBytes.toString('utf8');
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        if (!/\r\n0\r\n\r\n$/.test(text) && !socket.readableEnded) return null;
        // Decode chunked.
        let out = '';
        let rest = text;
        for (;;) {
          const i = rest.indexOf('\r\n');
          if (i < 0) break;
          const n = parseInt(rest.slice(0, i), 16);
          if (!n) break;
          out += rest.slice(i + 2, i + 2 + n);
          rest = rest.slice(i + 2 + n + 2);
        }
        text = out;
      }
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status, text, json };
    };
    const timer = setTimeout(() => {
      const r = parsed();
      finish(r ?? { networkError: new Error(`no response within ${timeoutMs} ms (write error: ${writeError?.message ?? 'none'})`) });
    }, timeoutMs);
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      const r = parsed();
      if (r) finish(r);
    });
    socket.on('end', () => {
      const r = parsed();
      finish(r ?? { networkError: new Error(`connection closed without a complete response (write error: ${writeError?.message ?? 'none'}; got ${received.length} bytes)`) });
    });
    socket.on('error', (e) => {
      writeError = e;
      const r = parsed();
      if (r) finish(r);
      else if (received.length === 0) {
        // Give an in-flight response a moment to arrive.
        setTimeout(() => finish(parsed() ?? { networkError: e }), 200);
      }
    });
    socket.on('connect', async () => {
      // Like curl with a large body: announce it with `Expect: 100-continue` and give the
      // server a moment to refuse it (413 on the declared length) before sending it.
      socket.write(
        `POST ${u.pathname || '/'} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${payload.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      const waitUntil = Date.now() + 1000;
      while (!done && received.length === 0 && Date.now() < waitUntil) await sleep(10);
      if (done) return;
      if (received.length > 0 && !/^HTTP\/1\.[01] 100/.test(received.toString('latin1'))) return; // final answer already
      for (let off = 0; off < payload.length && !done && !writeError; off += chunkBytes) {
        if (received.length > 0) break; // the server already answered
        const ok = socket.write(payload.subarray(off, off + chunkBytes));
        if (!ok) {
          await new Promise((r) => {
            const t = setTimeout(r, 2000);
            socket.once('drain', () => {
              clearTimeout(t);
              r();
            });
            socket.once('close', () => {
              clearTimeout(t);
              r();
            });
          });
        }
      }
    });
  });
}
