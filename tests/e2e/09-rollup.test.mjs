// The local-mode rollup: blocks become `safe` (and `finalized`) once the batcher stored
// their frames on the local DA, the proposer records an output root every
// `submission_interval` blocks once they are safe, and `optimism_outputAtBlock` answers
// keccak256(0x00*32 ++ stateRoot ++ messagePasserStorageRoot ++ blockHash). All of it
// survives a restart.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, concat, pad } from 'viem';
import { startNode, rpc, waitForReceipt, waitFor, freshAccount, DEV_ACCOUNTS } from './harness.mjs';

const MESSAGE_PASSER = '0x4200000000000000000000000000000000000016';
const INTERVAL = 2;
const CONFIG = `
[batcher]
max_channel_duration_blocks = 2
max_channel_age_ms = 500

[settlement]
submission_interval = ${INTERVAL}
`;

const hex = (n) => `0x${BigInt(n).toString(16)}`;

async function blockNumber(url, tag) {
  return BigInt((await rpc(url, 'eth_getBlockByNumber', [tag, false])).number);
}

/** The output root computed independently from eth_getBlockByNumber and eth_getProof. */
async function expectedOutputRoot(url, n) {
  const block = await rpc(url, 'eth_getBlockByNumber', [hex(n), false]);
  const proof = await rpc(url, 'eth_getProof', [MESSAGE_PASSER, [], hex(n)]);
  return keccak256(concat([pad('0x00', { size: 32 }), block.stateRoot, proof.storageHash, block.hash]));
}

/** `{block: outputRoot}` of every "output proposed" line in `log`. */
function proposals(log) {
  const found = {};
  for (const m of log.matchAll(/output proposed.*?block=(\d+).*?output_root=(0x[0-9a-f]{64})/g)) {
    found[m[1]] = m[2];
  }
  return found;
}

describe('local rollup: safe head, outputs, restart', { timeout: 120_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: 1, config: CONFIG });
  });
  after(async () => {
    await node?.cleanup();
  });

  let included;
  let proposed;

  it('transactions become safe and finalized', async () => {
    const wallet = node.walletClient(DEV_ACCOUNTS[3]);
    const { account } = await freshAccount();
    const hashes = [];
    for (let i = 0; i < 3; i++) hashes.push(await wallet.sendTransaction({ to: account.address, value: 1000n }));
    const receipts = [];
    for (const h of hashes) receipts.push(await waitForReceipt(node.url, h));
    included = receipts.reduce((max, r) => (BigInt(r.blockNumber) > max ? BigInt(r.blockNumber) : max), 0n);
    await waitFor(async () => (await blockNumber(node.url, 'safe')) >= included, {
      timeoutMs: 30_000,
      label: `safe >= ${included}`,
    });
    assert.ok((await blockNumber(node.url, 'finalized')) >= included, 'local DA: finalized follows safe');
    const status = await rpc(node.url, 'optimism_syncStatus');
    assert.equal(typeof status.safe_l2.number, 'number');
    assert.ok(BigInt(status.safe_l2.number) >= included);
    assert.ok(status.unsafe_l2.number >= status.safe_l2.number);
  });

  it('proposed outputs equal optimism_outputAtBlock and the v0 formula', async () => {
    await waitFor(async () => Object.keys(proposals(node.stderr)).length >= 2, {
      timeoutMs: 30_000,
      label: 'two proposals',
    });
    proposed = proposals(node.stderr);
    const blocks = Object.keys(proposed).map(Number);
    for (const n of blocks) {
      assert.equal(n % INTERVAL, 0, `block ${n} is on the interval`);
      const out = await rpc(node.url, 'optimism_outputAtBlock', [hex(n)]);
      assert.equal(out.blockRef.number, n, 'numbers are JSON integers');
      assert.equal(out.outputRoot, proposed[n]);
      assert.equal(out.outputRoot, await expectedOutputRoot(node.url, n));
      assert.equal(out.version, pad('0x00', { size: 32 }));
    }
    const safe = await blockNumber(node.url, 'safe');
    assert.ok(blocks.every((n) => BigInt(n) <= safe), 'only safe blocks are proposed');
    const config = await rpc(node.url, 'optimism_rollupConfig');
    assert.equal(config.l2_chain_id, node.chainId);
    assert.equal(config.genesis.l2.hash, (await rpc(node.url, 'eth_getBlockByNumber', ['0x0', false])).hash);
  });

  it('safe head and outputs persist across a restart; proposals resume without repeats', async () => {
    const safeBefore = await blockNumber(node.url, 'safe');
    const last = Math.max(...Object.keys(proposed).map(Number));
    const outputBefore = await rpc(node.url, 'optimism_outputAtBlock', [hex(last)]);
    const exit = await node.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `clean exit\n${node.logTail()}`);
    const firstLog = node.stderr;
    await node.launch();
    assert.ok((await blockNumber(node.url, 'safe')) >= safeBefore, 'safe survives');
    const outputAfter = await rpc(node.url, 'optimism_outputAtBlock', [hex(last)]);
    assert.equal(outputAfter.outputRoot, outputBefore.outputRoot);
    const allBefore = proposals(firstLog);
    const lastBefore = Math.max(...Object.keys(allBefore).map(Number));
    await waitFor(async () => Object.keys(proposals(node.stderr)).length >= 1, {
      timeoutMs: 30_000,
      label: 'a proposal after the restart',
    });
    const after = Object.keys(proposals(node.stderr)).map(Number);
    assert.equal(Math.min(...after), lastBefore + INTERVAL, 'the next output, no gap, no repeat');
    assert.ok((await blockNumber(node.url, 'safe')) > safeBefore, 'safe keeps moving');
  });
});
