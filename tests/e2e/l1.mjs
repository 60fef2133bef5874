// An anvil L1 for end-to-end tests, and an independent reader of the batch data the node
// posts there: batcher transactions -> frames -> channels -> (zlib) singular batches,
// matched against the node's own blocks.

import { spawn } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { resolve } from 'node:path';
import { keccak256, fromRlp, pad } from 'viem';
import { rpc, withTimeout, REPO_ROOT } from './harness.mjs';

export const ANVIL_BIN = resolve(REPO_ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

const hex = (n) => `0x${BigInt(n).toString(16)}`;

/** The default batch inbox of an L2 chain: 0x00 ++ keccak256(bytes32(chainId))[:19]. */
export function inboxOf(chainId) {
  return `0x00${keccak256(pad(hex(chainId), { size: 32 })).slice(2, 40)}`;
}

/**
 * Starts anvil; resolves to {url, port, stop(), kill()} once it listens. Options: port
 * (default 0: a free one), slotsInAnEpoch, state (a file loaded at start and dumped every
 * stateInterval seconds), stateInterval.
 */
export async function startAnvil({ port = 0, slotsInAnEpoch, state, stateInterval } = {}) {
  const args = ['--host', '127.0.0.1', '--port', String(port)];
  if (slotsInAnEpoch !== undefined) args.push('--slots-in-an-epoch', String(slotsInAnEpoch));
  if (state) args.push('--state', state);
  if (stateInterval !== undefined) args.push('--state-interval', String(stateInterval));
  const child = spawn(ANVIL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killNow = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killNow);
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
  let out = '';
  const exited = new Promise((res) => child.once('exit', res));
  const listening = await withTimeout(
    new Promise((res, rej) => {
      const onData = (d) => {
        out = (out + d).slice(-64 * 1024);
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) res(Number(m[1]));
      };
      child.stdout.setEncoding('utf8').on('data', onData);
      child.stderr.setEncoding('utf8').on('data', onData);
      child.once('error', rej);
      child.once('exit', (code) => rej(new Error(`anvil exited (${code}) before listening:\n${out}`)));
    }),
    30_000,
    'anvil start',
  );
  const kill = async () => {
    killNow();
    await withTimeout(exited, 10_000, 'anvil exit');
    process.removeListener('exit', killNow);
  };
  return { url: `http://127.0.0.1:${listening}`, port: listening, kill, stop: kill };
}

/** Every transaction to `inbox` on the L1 at `url`, in chain order: [{hash, block, input}]. */
export async function inboxTransactions(url, inbox) {
  const head = Number(await rpc(url, 'eth_blockNumber'));
  const txs = [];
  for (let n = 1; n <= head; n++) {
    const block = await rpc(url, 'eth_getBlockByNumber', [hex(n), true]);
    for (const tx of block.transactions) {
      if (tx.to?.toLowerCase() === inbox.toLowerCase()) txs.push({ hash: tx.hash, block: n, input: tx.input });
    }
  }
  return txs;
}

/** The frames of a version-0 batcher transaction's calldata. */
export function parseFrames(input) {
  const data = Buffer.from(input.slice(2), 'hex');
  if (data[0] !== 0) throw new Error(`derivation version ${data[0]}, expected 0`);
  const frames = [];
  let at = 1;
  while (at < data.length) {
    const id = data.subarray(at, at + 16).toString('hex');
    const number = data.readUInt16BE(at + 16);
    const length = data.readUInt32BE(at + 18);
    const body = data.subarray(at + 22, at + 22 + length);
    const last = data[at + 22 + length];
    if (body.length !== length || (last !== 0 && last !== 1)) throw new Error(`malformed frame at byte ${at}`);
    frames.push({ id, number, body, isLast: last === 1 });
    at += 23 + length;
  }
  return frames;
}

/**
 * Channels whose frames 0..last are all on L1 (a frame seen twice counts once), in the
 * order they complete; each {id, data}.
 */
export function completeChannels(txs) {
  const open = new Map();
  const done = [];
  for (const tx of txs) {
    for (const f of parseFrames(tx.input)) {
      if (done.some((c) => c.id === f.id)) continue;
      const ch = open.get(f.id) ?? { frames: new Map(), last: null };
      open.set(f.id, ch);
      if (!ch.frames.has(f.number)) ch.frames.set(f.number, f.body);
      if (f.isLast) ch.last = f.number;
      if (ch.last !== null && ch.frames.size === ch.last + 1) {
        const parts = [...Array(ch.last + 1).keys()].map((i) => ch.frames.get(i));
        done.push({ id: f.id, data: Buffer.concat(parts), l1Block: tx.block });
        open.delete(f.id);
      }
    }
  }
  return done;
}

/** Splits a stream of RLP strings into their payloads. */
function rlpStrings(buf) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    const b = buf[at];
    let start;
    let len;
    if (b < 0x80) [start, len] = [at, 1];
    else if (b <= 0xb7) [start, len] = [at + 1, b - 0x80];
    else if (b <= 0xbf) {
      const n = b - 0xb7;
      start = at + 1 + n;
      len = Number(BigInt(`0x${buf.subarray(at + 1, start).toString('hex')}`));
    } else throw new Error(`expected an RLP string at byte ${at}, found a list prefix ${b}`);
    out.push(buf.subarray(start, start + len));
    at = start + len;
  }
  return out;
}

/** The singular batches of a zlib channel: [{parentHash, timestamp, txHashes}]. */
export function singularBatches(channelData) {
  return rlpStrings(inflateSync(channelData)).map((item) => {
    if (item[0] !== 0) throw new Error(`batch type ${item[0]}, expected 0 (singular)`);
    const [parentHash, , , timestamp, txs] = fromRlp(`0x${item.subarray(1).toString('hex')}`, 'hex');
    return { parentHash, timestamp: Number(timestamp === '0x' ? 0 : BigInt(timestamp)), txHashes: txs.map((t) => keccak256(t)) };
  });
}

/**
 * Reads every batch on L1, then matches each to one of the node's blocks (by parent hash,
 * timestamp and transaction hashes): returns {counts, unmatched, head}, counts[n] being how
 * many batches on L1 hold block n (n <= head, the node's head after the L1 was read),
 * order the block numbers of the batches in L1 order, and orderChannels their channels.
 */
export async function batchCoverage(l1Url, nodeUrl, inbox) {
  const channels = completeChannels(await inboxTransactions(l1Url, inbox));
  const batches = channels.flatMap((c) => singularBatches(c.data).map((b) => ({ ...b, channel: c.id, l1Block: c.l1Block })));
  const head = Number(await rpc(nodeUrl, 'eth_blockNumber'));
  const counts = new Array(head + 1).fill(0);
  const byKey = new Map();
  for (let n = 1; n <= head; n++) {
    const block = await rpc(nodeUrl, 'eth_getBlockByNumber', [hex(n), true]);
    const txHashes = block.transactions.filter((t) => t.type !== '0x7e').map((t) => t.hash);
    byKey.set(`${block.parentHash}/${Number(block.timestamp)}`, { n, txHashes });
  }
  let unmatched = 0;
  const where = {};
  const order = [];
  const orderChannels = [];
  for (const b of batches) {
    const block = byKey.get(`${b.parentHash}/${b.timestamp}`);
    if (!block) {
      unmatched++;
      continue;
    }
    if (JSON.stringify(block.txHashes) !== JSON.stringify(b.txHashes)) {
      throw new Error(`the batch of block ${block.n} holds transactions ${b.txHashes}, the block ${block.txHashes}`);
    }
    counts[block.n]++;
    order.push(block.n);
    orderChannels.push(b.channel);
    (where[block.n] ??= []).push(`channel 0x${b.channel} (L1 block ${b.l1Block})`);
  }
  return { counts, unmatched, head, where, order, orderChannels };
}

/**
 * Asserts that blocks 1..safe are each in exactly one batch on L1 and that no block is in
 * two (later blocks may not be posted yet); returns the coverage.
 */
export async function assertPostedOnce(assert, l1Url, nodeUrl, inbox, safe) {
  const cov = await batchCoverage(l1Url, nodeUrl, inbox);
  assert.equal(cov.unmatched, 0, 'every batch on L1 is one of the node\'s blocks');
  const missing = [];
  const repeated = [];
  cov.counts.forEach((c, n) => {
    if (n >= 1 && n <= safe && c === 0) missing.push(n);
    if (c > 1) repeated.push(n);
  });
  assert.deepEqual(missing, [], `safe blocks 1..${safe} missing on L1`);
  assert.deepEqual(repeated, [], `blocks posted twice: ${JSON.stringify(repeated.map((n) => [n, cov.where[n]]))}`);
  return cov;
}

/**
 * Asserts that reading the batches in L1 order, as derivation does (a batch for the next
 * block is taken; one for an older block is a stale copy and dropped; one for a later
 * block is out of order and dropped), yields blocks 1..safe, and that every batch on L1 is
 * one of the node's blocks. After the L1 lost data, a channel that landed before the
 * batcher noticed the loss is submitted again after the lost ones, leaving a stale copy
 * on L1: returns the {stale, ahead} counts of batches, and staleChannels, the set of the
 * channels that hold the stale copies.
 */
export async function assertDerivable(assert, l1Url, nodeUrl, inbox, safe) {
  const cov = await batchCoverage(l1Url, nodeUrl, inbox);
  assert.equal(cov.unmatched, 0, 'every batch on L1 is one of the node\'s blocks');
  let next = 1;
  let stale = 0;
  let ahead = 0;
  const staleChannels = new Set();
  cov.order.forEach((n, i) => {
    if (n === next) next++;
    else if (n < next) {
      stale++;
      staleChannels.add(cov.orderChannels[i]);
    } else ahead++;
  });
  assert.ok(next > safe, `derivation from L1 reaches block ${next - 1}, safe is ${safe}; batches in L1 order: ${cov.order}`);
  return { stale, ahead, staleChannels };
}
