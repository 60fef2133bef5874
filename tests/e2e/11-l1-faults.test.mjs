// Batch data on an anvil L1 that misbehaves: an L1 reorg (evm_revert) that drops batcher
// transactions, an anvil SIGKILLed and restarted with its saved state, and one restarted
// empty. Each time the node must go on producing blocks, retry with backoff, submit again
// what the L1 lost, and end with every safe L2 block derivable from L1 in order, read back
// here independently (frames -> zlib channels -> singular batches, matched to the node's
// blocks by parent hash, timestamp and transaction hashes). Without faults every block is
// in exactly one batch; after a loss, a channel that landed before the batcher noticed is
// posted again in order, and derivation drops the stale copy. The metrics endpoint reports
// the rewinds, the backlog and the heads.
//
// anvil runs with its default 32 slots per epoch: its `finalized` block stays at genesis
// in this test, so none of the batch data is final and all of it is checked.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, rpc, waitFor, waitForReceipt, freshAccount, assertAlive, DEV_ACCOUNTS, DEV_KEYS, DEV_CHAIN_ID } from './harness.mjs';
import { startAnvil, inboxOf, assertPostedOnce, assertDerivable } from './l1.mjs';

const INBOX = inboxOf(DEV_CHAIN_ID);

async function blockNumber(url, tag) {
  return Number((await rpc(url, 'eth_getBlockByNumber', [tag, false])).number);
}

/** `{name: value}` of the unlabelled samples of a Prometheus text exposition. */
async function scrape(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z0-9_]+) (-?\d+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

/** `{first, last}` of every "channel submitted" line in `log`. */
function submittedChannels(log) {
  return [...log.matchAll(/channel submitted .*?first=(\d+) last=(\d+)/g)].map((m) => ({ first: Number(m[1]), last: Number(m[2]) }));
}

describe('batch data on a faulty L1 (anvil): reorg, killed and restarted L1', { timeout: 300_000 }, () => {
  let anvil;
  let node;
  let tmp;
  let stateFile;
  let metricsUrl;

  const safe = () => blockNumber(node.url, 'safe');
  const head = () => blockNumber(node.url, 'latest');

  /** Waits until `safe` reaches `n`. */
  async function waitSafe(n, label, timeoutMs = 60_000) {
    await waitFor(
      async () => {
        assertAlive(node);
        return (await safe()) >= n;
      },
      { timeoutMs, intervalMs: 200, label: `${label}: safe >= ${n}` },
    ).catch((e) => {
      throw new Error(`${e.message}\nnode log tail:\n${node.logTail(40)}`);
    });
  }

  /** Sends a few L2 transfers and waits for their receipts; returns the highest block. */
  async function someTransactions(count = 2) {
    const wallet = node.walletClient(DEV_ACCOUNTS[3]);
    const { account } = await freshAccount();
    let highest = 0;
    for (let i = 0; i < count; i++) {
      const hash = await wallet.sendTransaction({ to: account.address, value: 1000n + BigInt(i) });
      highest = Math.max(highest, Number((await waitForReceipt(node.url, hash)).blockNumber));
    }
    return highest;
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'altius-e2e-l1-faults-'));
    stateFile = join(tmp, 'anvil-state.json');
    anvil = await startAnvil({ state: stateFile, stateInterval: 1 });
    const batcherKey = join(tmp, 'batcher.key');
    writeFileSync(batcherKey, `${DEV_KEYS[1]}\n`);
    const config = `
[da]
kind = "ethereum-calldata"
l1_rpc_url = "${anvil.url}"
l2_chain_id = ${DEV_CHAIN_ID}
batcher_key_file = "${batcherKey}"
confirmations = 1
resubmit_after_secs = 2
receipt_timeout_secs = 10

[batcher]
batch_type = "singular"
compression = "zlib"
max_channel_duration_blocks = 2
max_channel_age_ms = 500
retry_backoff_ms = 200
max_retry_backoff_ms = 1600
verify_interval_ms = 300

[metrics]
enabled = true
port = 0
`;
    node = await startNode({ blockTime: 1, config });
    const m = await waitFor(() => /Metrics on (http:\/\/\S+\/metrics)/.exec(node.stdout), { label: 'metrics address' });
    metricsUrl = m[1];
  });

  after(async () => {
    await node?.cleanup();
    await anvil?.stop().catch(() => {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('every safe block is in exactly one batch on L1; the metrics agree with the RPC', async () => {
    const included = await someTransactions();
    await waitSafe(included, 'transactions posted');
    const safeNow = await safe();
    await assertPostedOnce(assert, anvil.url, node.url, INBOX, safeNow);
    const metrics = await scrape(metricsUrl);
    assert.ok(metrics.altius_l2_safe_block >= safeNow, JSON.stringify(metrics));
    assert.ok(metrics.altius_l2_head_block >= metrics.altius_l2_safe_block);
    assert.ok(metrics.altius_batcher_confirmed_block >= safeNow);
    assert.ok(metrics.altius_batcher_last_confirmed_da_height > 0, 'an L1 block number');
    assert.ok(metrics.altius_batcher_last_confirmed_da_height <= Number(await rpc(anvil.url, 'eth_blockNumber')));
    assert.equal(metrics.altius_batcher_throttled, 0);
    assert.equal(metrics.altius_da_fallback_active, 0, 'no fallback configured');
    assert.equal(metrics.altius_batcher_rewinds_total, 0);
    assert.equal(metrics.altius_l2_finalized_block, 0, 'anvil finalizes nothing here');
  });

  it('an L1 reorg that drops batcher transactions: they are submitted again and safe moves back', async () => {
    const snapshot = await rpc(anvil.url, 'evm_snapshot');
    const snapshotHead = Number(await rpc(anvil.url, 'eth_blockNumber'));
    const safeAtSnapshot = await safe();
    const mark = node.stderr.length;
    // Let two channels land after the snapshot.
    await waitFor(() => submittedChannels(node.stderr.slice(mark)).length >= 2, { timeoutMs: 30_000, label: 'two channels after the snapshot' });
    const lost = submittedChannels(node.stderr.slice(mark));
    const safeBefore = await safe();
    assert.ok(safeBefore > safeAtSnapshot);
    assert.equal(await rpc(anvil.url, 'evm_revert', [snapshot]), true);
    assert.equal(Number(await rpc(anvil.url, 'eth_blockNumber')), snapshotHead);
    const revertMark = node.stderr.length;
    // The batcher notices, rewinds to the first lost channel and moves safe back.
    const rewound = await waitFor(() => /batch data left the DA layer.*?submitting again from block (\d+)/.exec(node.stderr.slice(revertMark)), {
      timeoutMs: 20_000,
      label: 'the rewind log line',
    });
    const from = Number(rewound[1]);
    assert.ok(from <= lost[0].first, `rewound to ${from}, the first lost channel starts at ${lost[0].first}`);
    assert.ok(from > safeAtSnapshot - 2, `rewound to ${from}, no further than needed (safe was ${safeAtSnapshot} at the snapshot)`);
    assert.match(node.stderr.slice(revertMark), /safe head moved back/);
    // The lost blocks are submitted again, safe passes its old value, and L1 holds every
    // safe block once.
    await waitFor(() => submittedChannels(node.stderr.slice(revertMark)).some((c) => c.first === from), {
      timeoutMs: 20_000,
      label: `block ${from} submitted again`,
    });
    await waitSafe(safeBefore + 1, 'after the reorg');
    await assertDerivable(assert, anvil.url, node.url, INBOX, await safe());
    const metrics = await scrape(metricsUrl);
    assert.ok(metrics.altius_batcher_rewinds_total >= 1, JSON.stringify(metrics));
  });

  it('anvil SIGKILLed and restarted with its saved state: retries with backoff, nothing lost', async () => {
    const headBefore = await head();
    await anvil.kill();
    const killMark = node.stderr.length;
    const port = anvil.port;
    // Blocks keep coming while the L1 is down; submissions fail and back off.
    await waitFor(async () => (await head()) >= headBefore + 4, { timeoutMs: 20_000, label: 'L2 blocks while L1 is down' });
    const failures = await waitFor(
      () => {
        const delays = [...node.stderr.slice(killMark).matchAll(/DA submission failed .*?retry_in_ms=(\d+)/g)].map((m) => Number(m[1]));
        return delays.length >= 4 ? delays : null;
      },
      { timeoutMs: 20_000, label: 'four failed submissions' },
    );
    assert.deepEqual(failures.slice(0, 4), [200, 400, 800, 1600], `backoff doubles: ${failures}`);
    const down = await scrape(metricsUrl);
    const backlog = down.altius_l2_head_block - down.altius_batcher_confirmed_block;
    assert.ok(backlog >= 4, JSON.stringify(down));
    assert.ok(down.altius_batcher_backlog_blocks >= backlog - 1, 'the backlog gauge follows while a submission waits');
    assert.ok(down.altius_batcher_pending_frames >= 1, 'a frame waits for the L1');
    assertAlive(node);

    anvil = await startAnvil({ port, state: stateFile, stateInterval: 1 });
    const headNow = await head();
    await waitSafe(headNow, 'after the L1 came back');
    await assertDerivable(assert, anvil.url, node.url, INBOX, await safe());
    // Blocks keep coming, so a new frame may be waiting at any one scrape: the backlog has
    // drained once no frame is left waiting between two submissions.
    await waitFor(async () => (await scrape(metricsUrl)).altius_batcher_pending_frames === 0, {
      timeoutMs: 20_000,
      label: 'no frame left waiting for the L1',
    });
  });

  it('anvil restarted empty (the L1 lost everything): all batch data is submitted again', async () => {
    await someTransactions(1);
    const port = anvil.port;
    await anvil.kill();
    rmSync(stateFile, { force: true });
    anvil = await startAnvil({ port });
    assert.equal(Number(await rpc(anvil.url, 'eth_blockNumber')), 0, 'a new chain');
    const mark = node.stderr.length;
    await waitFor(() => /batch data left the DA layer.*?submitting again from block 1\b/.test(node.stderr.slice(mark)), {
      timeoutMs: 30_000,
      label: 'a rewind to block 1',
    });
    const headNow = await head();
    await waitSafe(headNow, 'everything posted again', 90_000);
    await assertDerivable(assert, anvil.url, node.url, INBOX, await safe());
    const metrics = await scrape(metricsUrl);
    assert.ok(metrics.altius_batcher_rewinds_total >= 2, JSON.stringify(metrics));
  });

  it('a SIGKILL of the node mid-channel: the restart resumes without a gap or a duplicate', async () => {
    await waitSafe(await head(), 'caught up before the kill');
    const before = await assertDerivable(assert, anvil.url, node.url, INBOX, await safe());
    // Transactions land in a block whose channel is still open (max_channel_age_ms = 500).
    const included = await someTransactions(2);
    await node.kill();
    const mark = node.history.length;
    await node.launch();
    assert.equal(node.history.length, mark + 1);
    await waitSafe(Math.max(included, await head()), 'after the restart');
    const after = await assertDerivable(assert, anvil.url, node.url, INBOX, await safe());
    // A kill between a batcher transaction's inclusion and its record in the cursor would
    // post that one frame's channel again, rebuilt under a new ID (derivation drops the
    // copies: its blocks, max_channel_duration_blocks = 2 at most); nothing else may repeat.
    const repeated = [...after.staleChannels].filter((c) => !before.staleChannels.has(c));
    const copies = `stale copies ${before.stale} -> ${after.stale}, in new channels ${repeated}`;
    assert.ok(repeated.length <= 1, copies);
    assert.ok(after.stale - before.stale <= 2, copies);
    assert.equal(after.ahead, before.ahead, 'nothing out of order');
  });
});
