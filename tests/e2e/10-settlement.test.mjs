// Settlement on a real L1 (anvil): `altius contracts deploy` puts an L2OutputOracle on
// anvil, the node runs with the `ethereum-calldata` DA (batcher transactions to the inbox
// on anvil) and the `l2-output-oracle` settlement, and every output the contract records
// must equal `optimism_outputAtBlock` and the v0 formula recomputed here from the block
// header and `eth_getProof` of the L2ToL1MessagePasser. A restart of the node neither
// repeats nor skips a proposal; an L1 revert past a proposal makes the node propose that
// block again.
//
// L1 accounts (the test mnemonic, which anvil funds): #1 is the batcher, #2 deploys the
// oracle and is its proposer. L2 transactions use #3, so no nonces are shared.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { keccak256, concat, pad, encodeFunctionData, decodeFunctionResult } from 'viem';
import {
  startNode,
  rpc,
  waitForReceipt,
  waitFor,
  freshAccount,
  withTimeout,
  assertAlive,
  REPO_ROOT,
  ALTIUS_BIN,
  DEV_ACCOUNTS,
  DEV_KEYS,
  DEV_CHAIN_ID,
} from './harness.mjs';

const ANVIL_BIN = resolve(REPO_ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const ORACLE_ABI = JSON.parse(readFileSync(resolve(REPO_ROOT, 'contracts/artifacts/L2OutputOracle.json'), 'utf8')).abi;
const MESSAGE_PASSER = '0x4200000000000000000000000000000000000016';
const INTERVAL = 2;
const BATCHER = DEV_ACCOUNTS[1];
const hex = (n) => `0x${BigInt(n).toString(16)}`;

// ---------------------------------------------------------------------------------------
// anvil

/** Starts anvil on a free port; resolves to {url, stop()} once it listens. */
async function startAnvil() {
  // Six slots per epoch: anvil's `finalized` block is then 12 blocks behind its head, so
  // L2 blocks become finalized within the test, while the L1 revert below (a few blocks)
  // stays within what is not final, as a real reorg does.
  const child = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', '0', '--slots-in-an-epoch', '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const port = await withTimeout(
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
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      killNow();
      await withTimeout(exited, 10_000, 'anvil exit');
      process.removeListener('exit', killNow);
    },
  };
}

/** Runs `altius contracts deploy`; resolves to {address, settlementToml}. */
function deployOracle(l1Url, keyFile) {
  const args = ['contracts', 'deploy', '--l1-rpc', l1Url, '--key-file', keyFile, '--submission-interval', String(INTERVAL), '--l2-block-time', '1'];
  return new Promise((res, rej) => {
    execFile(ALTIUS_BIN, args, { timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`altius ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      const address = /L2OutputOracle deployed at (0x[0-9a-fA-F]{40})/.exec(stdout)?.[1];
      const toml = stdout.slice(stdout.indexOf('[settlement]'));
      if (!address || !toml.startsWith('[settlement]')) return rej(new Error(`unexpected deploy output:\n${stdout}`));
      res({ address, settlementToml: toml });
    });
  });
}

// ---------------------------------------------------------------------------------------
// The oracle, read with eth_call.

async function oracleCall(l1Url, oracle, functionName, args = [], block = 'latest') {
  const data = encodeFunctionData({ abi: ORACLE_ABI, functionName, args });
  const result = await rpc(l1Url, 'eth_call', [{ to: oracle, data }, block]);
  return decodeFunctionResult({ abi: ORACLE_ABI, functionName, data: result });
}

/** The L1 head's number as an RPC block tag: calls at it see one state while proposals go on. */
async function l1Head(l1Url) {
  return `0x${(await blockNumber(l1Url, 'latest')).toString(16)}`;
}

/** Every output recorded by the oracle at L1 block `block`: [{index, l2BlockNumber, outputRoot}]. */
async function oracleOutputs(l1Url, oracle, block) {
  const at = block ?? (await l1Head(l1Url));
  const count = Number(await oracleCall(l1Url, oracle, 'nextOutputIndex', [], at));
  const outputs = [];
  for (let i = 0; i < count; i++) {
    const o = await oracleCall(l1Url, oracle, 'getL2Output', [BigInt(i)], at);
    outputs.push({ index: i, l2BlockNumber: Number(o.l2BlockNumber), outputRoot: o.outputRoot });
  }
  return outputs;
}

// ---------------------------------------------------------------------------------------
// The node.

async function blockNumber(url, tag) {
  return BigInt((await rpc(url, 'eth_getBlockByNumber', [tag, false])).number);
}

/** The output root computed independently from eth_getBlockByNumber and eth_getProof. */
async function expectedOutputRoot(url, n) {
  const block = await rpc(url, 'eth_getBlockByNumber', [hex(n), false]);
  const proof = await rpc(url, 'eth_getProof', [MESSAGE_PASSER, [], hex(n)]);
  return keccak256(concat([pad('0x00', { size: 32 }), block.stateRoot, proof.storageHash, block.hash]));
}

/** L2 block numbers of the proposer's "output proposed" lines in `log`, in order. */
function proposedBlocks(log) {
  return [...log.matchAll(/output proposed block=(\d+) output_root=/g)].map((m) => Number(m[1]));
}

/**
 * `{first, last, l1Block}` of every "channel submitted" line in `log`, in order; `l1Block`
 * is the L1 block of the channel's last frame (the "batcher transaction confirmed" line
 * before it).
 */
function submittedChannels(log) {
  const channels = [];
  let l1Block;
  for (const m of log.matchAll(/batcher transaction confirmed .*?l1_block=(\d+)|channel submitted .*?first=(\d+) last=(\d+)/g)) {
    if (m[1] !== undefined) l1Block = Number(m[1]);
    else channels.push({ first: Number(m[2]), last: Number(m[3]), l1Block });
  }
  return channels;
}

describe('settlement on an anvil L1: L2OutputOracle and calldata DA', { timeout: 180_000 }, () => {
  let anvil;
  let node;
  let oracle;
  let tmp;

  /** The whole log of every node process started so far, oldest first. */
  const fullLog = () => node.history.map((p) => p.stderr).join('\n');

  /** Waits until the oracle holds at least `count` outputs; returns them. */
  async function waitOutputs(count, label) {
    return waitFor(
      async () => {
        assertAlive(node);
        const outputs = await oracleOutputs(anvil.url, oracle);
        return outputs.length >= count ? outputs : null;
      },
      { timeoutMs: 40_000, intervalMs: 100, label: `${label} (${count} outputs on the oracle)` },
    ).catch((e) => {
      throw new Error(`${e.message}\nnode log tail:\n${node.logTail(30)}`);
    });
  }

  /** Every oracle output: on the interval, equal to optimism_outputAtBlock and the formula. */
  async function checkOutputs(outputs) {
    const safe = await blockNumber(node.url, 'safe');
    for (const o of outputs) {
      const n = o.l2BlockNumber;
      assert.equal(n, (o.index + 1) * INTERVAL, `output ${o.index} is for block ${(o.index + 1) * INTERVAL}`);
      assert.ok(BigInt(n) <= safe, `block ${n} is safe (safe = ${safe})`);
      const out = await rpc(node.url, 'optimism_outputAtBlock', [hex(n)]);
      assert.equal(out.blockRef.number, n);
      assert.equal(o.outputRoot, out.outputRoot, `oracle output of block ${n} equals optimism_outputAtBlock`);
      assert.equal(o.outputRoot, await expectedOutputRoot(node.url, n), `oracle output of block ${n} equals the formula`);
    }
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'altius-e2e-l1-'));
    anvil = await startAnvil();
    const batcherKey = join(tmp, 'batcher.key');
    const proposerKey = join(tmp, 'proposer.key');
    writeFileSync(batcherKey, `${DEV_KEYS[1]}\n`);
    writeFileSync(proposerKey, `${DEV_KEYS[2]}\n`);
    const deployment = await deployOracle(anvil.url, proposerKey);
    oracle = deployment.address;
    const config = `
[da]
kind = "ethereum-calldata"
l1_rpc_url = "${anvil.url}"
l2_chain_id = ${DEV_CHAIN_ID}
batcher_key_file = "${batcherKey}"
confirmations = 1
# A batcher transaction that an L1 revert took away is replaced (or given up) quickly.
resubmit_after_secs = 2
receipt_timeout_secs = 10

[batcher]
max_channel_duration_blocks = 2
max_channel_age_ms = 500
retry_backoff_ms = 200
max_retry_backoff_ms = 2000
verify_interval_ms = 500

${deployment.settlementToml}`;
    node = await startNode({ blockTime: 1, config });
  });

  after(async () => {
    await node?.cleanup();
    await anvil?.stop().catch(() => {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the deployed oracle is configured as asked and the settlement TOML points at it', async () => {
    assert.equal(await oracleCall(anvil.url, oracle, 'SUBMISSION_INTERVAL'), BigInt(INTERVAL));
    assert.equal(await oracleCall(anvil.url, oracle, 'L2_BLOCK_TIME'), 1n);
    assert.equal((await oracleCall(anvil.url, oracle, 'PROPOSER')).toLowerCase(), DEV_ACCOUNTS[2].address.toLowerCase());
    assert.equal(await oracleCall(anvil.url, oracle, 'startingBlockNumber'), 0n);
  });

  it('transactions become safe through L1 calldata; oracle outputs equal optimism_outputAtBlock and the formula', async () => {
    const wallet = node.walletClient(DEV_ACCOUNTS[3]);
    const { account } = await freshAccount();
    const hashes = [];
    for (let i = 0; i < 3; i++) hashes.push(await wallet.sendTransaction({ to: account.address, value: 1000n + BigInt(i) }));
    let included = 0n;
    for (const h of hashes) {
      const r = await waitForReceipt(node.url, h);
      if (BigInt(r.blockNumber) > included) included = BigInt(r.blockNumber);
    }
    await waitFor(async () => (await blockNumber(node.url, 'safe')) >= included, { timeoutMs: 40_000, label: `safe >= ${included}` });
    // `finalized` follows L1's finalized block past genesis, and never passes `safe`.
    const finalized = await waitFor(
      async () => {
        const f = await blockNumber(node.url, 'finalized');
        return f > 0n ? f : null;
      },
      { timeoutMs: 40_000, label: 'finalized past genesis' },
    );
    assert.ok(finalized <= (await blockNumber(node.url, 'safe')), `finalized ${finalized} <= safe`);
    const l1Finalized = await blockNumber(anvil.url, 'finalized');
    assert.ok(l1Finalized > 0n && l1Finalized < (await blockNumber(anvil.url, 'latest')), 'L1 finalized lags its head');
    // The batch data is on L1: calldata transactions from the batcher to the chain's
    // inbox (0x00 ++ keccak256(bytes32(chainId))[:19]), each a version-0 frame.
    assert.ok(BigInt(await rpc(anvil.url, 'eth_getTransactionCount', [BATCHER.address, 'latest'])) > 0n, 'batcher transactions on L1');
    const inbox = `0x00${keccak256(pad(hex(DEV_CHAIN_ID), { size: 32 })).slice(2, 40)}`;
    const batchTxs = [...node.stderr.matchAll(/batcher transaction confirmed hash=(0x[0-9a-f]{64})/g)].map((m) => m[1]);
    assert.ok(batchTxs.length > 0, 'batcher transactions in the log');
    for (const h of batchTxs.slice(-3)) {
      const tx = await rpc(anvil.url, 'eth_getTransactionByHash', [h]);
      assert.equal(tx.from.toLowerCase(), BATCHER.address.toLowerCase());
      assert.equal(tx.to.toLowerCase(), inbox);
      assert.match(tx.input, /^0x00[0-9a-f]{32}/, 'version byte 0 then a channel id');
    }
    const wanted = Math.ceil(Number(included) / INTERVAL) + 1;
    const outputs = await waitOutputs(wanted, 'outputs covering the transactions');
    assert.ok(outputs[outputs.length - 1].l2BlockNumber >= Number(included));
    await checkOutputs(outputs);
    // The L1 side matches too: latestBlockNumber is the last output's block, both read at one
    // L1 block (the proposer goes on proposing meanwhile).
    const at = await l1Head(anvil.url);
    const pinned = await oracleOutputs(anvil.url, oracle, at);
    assert.equal(Number(await oracleCall(anvil.url, oracle, 'latestBlockNumber', [], at)), pinned[pinned.length - 1].l2BlockNumber);
  });

  it('a restart of the node neither repeats nor skips a proposal', async () => {
    const before = await oracleOutputs(anvil.url, oracle);
    const exit = await node.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `clean exit\n${node.logTail()}`);
    const firstRun = proposedBlocks(node.stderr);
    await node.launch();
    const outputs = await waitOutputs(before.length + 2, 'proposals after the restart');
    await checkOutputs(outputs);
    // Every output on the oracle was proposed exactly once, in order, across both runs.
    await waitFor(() => proposedBlocks(fullLog()).length >= outputs.length, { timeoutMs: 10_000, label: 'proposal log lines' });
    const logged = proposedBlocks(fullLog());
    assert.deepEqual(logged.slice(0, outputs.length), outputs.map((o) => o.l2BlockNumber), `proposals in the logs: ${logged}`);
    const secondRun = proposedBlocks(node.stderr);
    assert.ok(secondRun.length >= 1, 'the restarted node proposes');
    assert.equal(secondRun[0], firstRun[firstRun.length - 1] + INTERVAL, 'the first proposal after the restart is the next one');
    assert.doesNotMatch(fullLog(), /must be equal to next expected block number/, 'no out-of-order proposal was attempted');
  });

  it('a SIGKILL of the node neither repeats nor skips a proposal', async () => {
    await node.kill();
    const atKill = await oracleOutputs(anvil.url, oracle);
    await node.launch();
    const outputs = await waitOutputs(atKill.length + 2, 'proposals after the SIGKILL');
    await checkOutputs(outputs);
    await waitFor(() => proposedBlocks(node.stderr).length >= 1, { timeoutMs: 10_000, label: 'log line' });
    assert.equal(proposedBlocks(node.stderr)[0], (atKill.length + 1) * INTERVAL, 'the next output, no gap, no repeat');
    assert.doesNotMatch(node.stderr, /must be equal to next expected block number/, 'no out-of-order proposal was attempted');
  });

  let lostChannels;
  let revertMark;

  it('an L1 revert past a proposal makes the node propose that block again', async () => {
    const batcherNonce = async () => BigInt(await rpc(anvil.url, 'eth_getTransactionCount', [BATCHER.address, 'latest']));
    const logMark = node.stderr.length;
    const snapshot = await rpc(anvil.url, 'evm_snapshot');
    // At least the snapshot's head (a block mined between the two calls only makes the wait
    // below stricter).
    const headAfterSnapshot = Number(await rpc(anvil.url, 'eth_blockNumber'));
    const atSnapshot = await oracleOutputs(anvil.url, oracle); // may already hold more than the snapshot
    const nonceAtSnapshot = await batcherNonce();
    // Wait for a proposal and a batcher transaction after the snapshot.
    const landed = await waitOutputs(atSnapshot.length + 1, 'a proposal after the snapshot');
    await waitFor(async () => (await batcherNonce()) > nonceAtSnapshot, { timeoutMs: 20_000, label: 'a batcher transaction after the snapshot' });
    const target = landed[atSnapshot.length];
    // The batcher logs a channel once its last frame's receipt is in: wait for a channel
    // confirmed after the snapshot, or the revert may take away a transaction whose channel
    // the log does not show yet.
    await waitFor(() => submittedChannels(node.stderr.slice(logMark)).some((c) => c.l1Block > headAfterSnapshot), {
      timeoutMs: 20_000,
      label: `a channel confirmed after L1 block ${headAfterSnapshot}`,
    });
    // Revert only once the proposer has read that proposal's receipt: a proposal reverted
    // before that is retried only after the client's receipt timeout (two minutes).
    await waitFor(() => proposedBlocks(node.stderr.slice(logMark)).includes(target.l2BlockNumber), {
      timeoutMs: 10_000,
      label: `the proposer's log line for block ${target.l2BlockNumber}`,
    });
    const nonceBeforeRevert = await batcherNonce();
    assert.equal(await rpc(anvil.url, 'evm_revert', [snapshot]), true, 'evm_revert');
    revertMark = node.stderr.length;
    const snapshotHead = Number(await rpc(anvil.url, 'eth_blockNumber'));
    lostChannels = submittedChannels(node.stderr.slice(0, revertMark)).filter((c) => c.l1Block > snapshotHead);
    assert.ok((await batcherNonce()) < nonceBeforeRevert, 'the revert took batcher transactions away too');
    const reverted = await oracleOutputs(anvil.url, oracle);
    assert.ok(reverted.length <= atSnapshot.length, `the revert removed the proposal of block ${target.l2BlockNumber}`);
    assert.ok(Number(await oracleCall(anvil.url, oracle, 'nextBlockNumber')) <= target.l2BlockNumber);
    // Proposed again: the output for that block is back, and right.
    const again = await waitOutputs(target.index + 1, `block ${target.l2BlockNumber} proposed again`);
    assert.equal(again[target.index].l2BlockNumber, target.l2BlockNumber);
    assert.equal(again[target.index].outputRoot, target.outputRoot, 'same L2 block, same output root');
    await checkOutputs(again);
    // The first proposal after the revert is the oracle's next block then: no gap.
    await waitFor(() => proposedBlocks(node.stderr.slice(revertMark)).length >= 1, { timeoutMs: 10_000, label: 'log line' });
    const afterRevert = proposedBlocks(node.stderr.slice(revertMark));
    assert.equal(afterRevert[0], (reverted.length + 1) * INTERVAL, `proposals after the revert: ${afterRevert}`);
    // The node goes on: blocks keep becoming safe and being proposed.
    await waitOutputs(again.length + 1, 'a further proposal after the revert');
    assertAlive(node);
  });

  it('batch data taken away by the L1 revert is submitted again', async () => {
    assert.ok(lostChannels?.length > 0, 'the revert took a channel away');
    const firstLost = Math.min(...lostChannels.map((c) => c.first));
    await waitFor(() => submittedChannels(node.stderr.slice(revertMark)).some((c) => c.first <= firstLost), {
      timeoutMs: 10_000,
      label: `block ${firstLost} (in a reverted channel) submitted again after the revert`,
    });
    const rewind = /batch data left the DA layer.*?submitting again from block (\d+)/.exec(node.stderr.slice(revertMark));
    assert.ok(rewind, 'the batcher says why it submits again');
    assert.equal(Number(rewind[1]), firstLost, 'it goes back exactly to the first lost channel');
    // Everything from there becomes safe again.
    const lastLost = Math.max(...lostChannels.map((c) => c.last));
    await waitFor(async () => (await blockNumber(node.url, 'safe')) >= BigInt(lastLost), { timeoutMs: 30_000, label: `safe >= ${lastLost} again` });
    assertAlive(node);
  });
});
