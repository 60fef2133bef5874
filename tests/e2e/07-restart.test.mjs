// Persistence across restarts on the same data directory: a clean stop (SIGTERM, SIGINT)
// keeps everything; a SIGKILL in the middle of a burst of transactions may lose the block
// in progress but everything the node served before must still be there and consistent.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256 } from 'viem';
import {
  startNode,
  rpc,
  waitForReceipt,
  waitFor,
  freshAccount,
  sleep,
  DEV_ACCOUNTS,
  EMITTER_WITH_STORAGE_INIT,
} from './harness.mjs';

const hex = (n) => `0x${BigInt(n).toString(16)}`;

describe('restart on the same datadir', { timeout: 120_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: 0 });
  });
  after(async () => {
    await node?.cleanup();
  });

  async function snapshot(addresses, hashes, contract) {
    const head = BigInt(await rpc(node.url, 'eth_blockNumber'));
    const blocks = [];
    for (let n = 0n; n <= head; n++) blocks.push(await rpc(node.url, 'eth_getBlockByNumber', [hex(n), false]));
    const headBlock = blocks[blocks.length - 1];
    const balances = {};
    const nonces = {};
    for (const a of addresses) {
      balances[a] = await rpc(node.url, 'eth_getBalance', [a, 'latest']);
      nonces[a] = await rpc(node.url, 'eth_getTransactionCount', [a, 'latest']);
    }
    const receipts = {};
    const txs = {};
    for (const h of hashes) {
      receipts[h] = await rpc(node.url, 'eth_getTransactionReceipt', [h]);
      txs[h] = await rpc(node.url, 'eth_getTransactionByHash', [h]);
    }
    const code = await rpc(node.url, 'eth_getCode', [contract, 'latest']);
    const slots = [await rpc(node.url, 'eth_getStorageAt', [contract, '0x0', 'latest']), await rpc(node.url, 'eth_getStorageAt', [contract, '0x1', 'latest'])];
    return { head, hash: headBlock.hash, stateRoot: headBlock.stateRoot, blocks, balances, nonces, receipts, txs, code, slots };
  }

  it('SIGTERM: head number, hash, state root, balances, receipts, code and storage survive', async () => {
    const wallets = [1, 2].map((i) => node.walletClient(DEV_ACCOUNTS[i]));
    const { account: recipient } = await freshAccount();
    const hashes = [];
    for (let i = 0; i < 3; i++) {
      for (const w of wallets) {
        const h = await w.sendTransaction({ to: recipient.address, value: 1000n * BigInt(i + 1) });
        await waitForReceipt(node.url, h);
        hashes.push(h);
      }
    }
    const deploy = await wallets[0].sendTransaction({ data: EMITTER_WITH_STORAGE_INIT, gas: 200_000n });
    const deployReceipt = await waitForReceipt(node.url, deploy);
    hashes.push(deploy);
    const contract = deployReceipt.contractAddress;
    const addresses = [DEV_ACCOUNTS[1].address, DEV_ACCOUNTS[2].address, recipient.address, contract];

    const before = await snapshot(addresses, hashes, contract);
    assert.ok(before.head >= 7n);
    assert.equal(BigInt(before.balances[recipient.address]), 12_000n);
    assert.equal(before.slots[0], hex(0x2a).replace('0x', '0x' + '0'.repeat(62)));

    const exit = await node.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `clean exit on SIGTERM\nstderr tail:\n${node.logTail()}`);
    assert.doesNotMatch(node.stderr, /panicked/);
    await node.launch();
    assert.ok(node.port > 0);

    const afterRestart = await snapshot(addresses, hashes, contract);
    assert.equal(afterRestart.head, before.head, 'head number');
    assert.equal(afterRestart.hash, before.hash, 'head hash');
    assert.equal(afterRestart.stateRoot, before.stateRoot, 'state root');
    assert.deepEqual(afterRestart.blocks, before.blocks, 'every block');
    assert.deepEqual(afterRestart.balances, before.balances, 'balances');
    assert.deepEqual(afterRestart.nonces, before.nonces, 'nonces');
    assert.deepEqual(afterRestart.receipts, before.receipts, 'receipts');
    assert.deepEqual(afterRestart.txs, before.txs, 'transactions');
    assert.equal(afterRestart.code, before.code, 'code');
    assert.deepEqual(afterRestart.slots, before.slots, 'storage');
    assert.equal(Number(await rpc(node.url, 'eth_chainId')), node.chainId);

    // New transactions are accepted and extend the same chain (new port: new client).
    const h = await node.walletClient(DEV_ACCOUNTS[2]).sendTransaction({ to: recipient.address, value: 1n });
    const r = await waitForReceipt(node.url, h);
    assert.equal(r.status, '0x1');
    assert.ok(BigInt(r.blockNumber) > before.head);
    const next = await rpc(node.url, 'eth_getBlockByNumber', [hex(before.head + 1n), false]);
    assert.equal(next.parentHash, before.hash, 'the next block builds on the restored head');
    assert.equal(BigInt(await rpc(node.url, 'eth_getBalance', [recipient.address, 'latest'])), 12_001n);
  });

  it('SIGKILL during a burst: everything served before the kill is still there and consistent', async (t) => {
    const senders = [3, 4, 5].map((i) => DEV_ACCOUNTS[i]);
    const { account: recipient } = await freshAccount();
    const startHead = BigInt(await rpc(node.url, 'eth_blockNumber'));
    const startNonces = {};
    for (const s of senders) startNonces[s.address] = Number(await rpc(node.url, 'eth_getTransactionCount', [s.address, 'latest']));
    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const maxFeePerGas = BigInt(latest.baseFeePerGas) * 3n + 2_000_000_000n;

    // Sign everything first, then fire.
    const PER_SENDER = 15;
    const sent = new Map(); // hash -> {from, value}
    const raws = [];
    for (const [si, s] of senders.entries()) {
      for (let k = 0; k < PER_SENDER; k++) {
        const value = BigInt(1 + si * 100 + k);
        const raw = await s.signTransaction({
          chainId: node.chainId,
          type: 'eip1559',
          nonce: startNonces[s.address] + k,
          to: recipient.address,
          value,
          gas: 21000n,
          maxFeePerGas,
          maxPriorityFeePerGas: 1_000_000_000n,
        });
        sent.set(keccak256(raw), { from: s.address, value });
        raws.push(raw);
      }
    }
    // Interleave senders so blocks keep coming while we send.
    const order = [];
    for (let k = 0; k < PER_SENDER; k++) for (let si = 0; si < senders.length; si++) order.push(raws[si * PER_SENDER + k]);

    const seen = new Map(); // block number -> {hash, balance of recipient at it}
    let stopPolling = false;
    const poller = (async () => {
      while (!stopPolling) {
        try {
          const b = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false], { timeoutMs: 2000 });
          if (b && !seen.has(BigInt(b.number))) {
            const bal = await rpc(node.url, 'eth_getBalance', [recipient.address, b.number], { timeoutMs: 2000 });
            seen.set(BigInt(b.number), { hash: b.hash, stateRoot: b.stateRoot, balance: BigInt(bal) });
          }
        } catch {
          // the node is being killed
        }
        await sleep(5);
      }
    })();

    let accepted = 0;
    for (const [i, raw] of order.entries()) {
      const res = await rpc(node.url, 'eth_sendRawTransaction', [raw]).then(
        () => true,
        () => false,
      );
      if (res) accepted++;
      // Kill once a few blocks were made, while transactions are still arriving.
      if (i === Math.floor(order.length * 0.6)) break;
    }
    await waitFor(async () => BigInt(await rpc(node.url, 'eth_blockNumber')) >= startHead + 2n, { timeoutMs: 10_000, label: 'two blocks of the burst' });
    // More in flight at the moment of the kill.
    const inflight = order.slice(Math.floor(order.length * 0.6) + 1).map((raw) => rpc(node.url, 'eth_sendRawTransaction', [raw], { timeoutMs: 3000 }).catch(() => null));
    await sleep(15);
    await node.kill();
    stopPolling = true;
    await poller;
    await Promise.all(inflight);
    assert.ok(accepted > 0);
    assert.ok(seen.size > 0, 'observed blocks before the kill');
    const maxSeen = [...seen.keys()].reduce((a, b) => (a > b ? a : b));

    await node.launch();
    const head = BigInt(await rpc(node.url, 'eth_blockNumber'));
    assert.ok(head >= maxSeen, `head after restart ${head} is behind a block served before the kill (${maxSeen})`);

    // Every block served before the kill is unchanged, and so is the balance at it.
    for (const [n, s] of seen) {
      const b = await rpc(node.url, 'eth_getBlockByNumber', [hex(n), false]);
      assert.ok(b, `block ${n} served before the kill is missing`);
      assert.equal(b.hash, s.hash, `block ${n} hash`);
      assert.equal(b.stateRoot, s.stateRoot, `block ${n} state root`);
      assert.equal(BigInt(await rpc(node.url, 'eth_getBalance', [recipient.address, hex(n)])), s.balance, `recipient balance at block ${n}`);
    }

    // The chain up to the head is complete: blocks link, every transaction has its receipt.
    let prev = await rpc(node.url, 'eth_getBlockByNumber', [hex(startHead), false]);
    const included = [];
    for (let n = startHead + 1n; n <= head; n++) {
      const b = await rpc(node.url, 'eth_getBlockByNumber', [hex(n), false]);
      assert.ok(b, `block ${n} <= head ${head} missing`);
      assert.equal(b.parentHash, prev.hash, `block ${n} parent`);
      assert.equal(BigInt(await rpc(node.url, 'eth_getBlockTransactionCountByNumber', [hex(n)])), BigInt(b.transactions.length));
      let cumulative = 0n;
      for (const [i, h] of b.transactions.entries()) {
        const r = await rpc(node.url, 'eth_getTransactionReceipt', [h]);
        assert.ok(r, `receipt of ${h} in block ${n} missing`);
        assert.equal(r.blockHash, b.hash);
        assert.equal(BigInt(r.transactionIndex), BigInt(i));
        cumulative = BigInt(r.cumulativeGasUsed);
        const tx = await rpc(node.url, 'eth_getTransactionByHash', [h]);
        assert.equal(tx.blockHash, b.hash);
        included.push(h);
      }
      assert.equal(cumulative, BigInt(b.gasUsed), `block ${n} gasUsed = last cumulativeGasUsed`);
      prev = b;
    }
    assert.equal(await rpc(node.url, 'eth_getBlockByNumber', [hex(head + 1n), false]), null);

    // The state at the head matches the transactions in the chain.
    let expected = 0n;
    const perSender = {};
    for (const h of included) {
      const t = sent.get(h);
      if (!t) continue;
      expected += t.value;
      perSender[t.from] = (perSender[t.from] ?? 0) + 1;
    }
    assert.ok(included.length > 0, 'some of the burst was mined');
    t.diagnostic(
      `burst: ${sent.size} signed, ${accepted} accepted before the kill point; highest block served before the kill ${maxSeen}; ` +
        `head after restart ${head}; ${included.length} transactions in blocks ${startHead + 1n}..${head}`,
    );
    assert.equal(BigInt(await rpc(node.url, 'eth_getBalance', [recipient.address, 'latest'])), expected, 'recipient balance = sum of included values');
    for (const s of senders) {
      assert.equal(
        Number(await rpc(node.url, 'eth_getTransactionCount', [s.address, 'latest'])),
        startNonces[s.address] + (perSender[s.address] ?? 0),
        `nonce of ${s.address}`,
      );
    }
    const headBlock = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const proof = await rpc(node.url, 'eth_getProof', [recipient.address, [], 'latest']);
    assert.equal(keccak256(proof.accountProof[0]), headBlock.stateRoot, 'state root of the head matches the state served');

    // New transactions are still accepted and mined after the crash.
    const wallet = node.walletClient(DEV_ACCOUNTS[9]);
    const h = await wallet.sendTransaction({ to: recipient.address, value: 5n });
    const r = await waitForReceipt(node.url, h);
    assert.equal(r.status, '0x1');
    assert.ok(BigInt(r.blockNumber) > head);
    // And the senders of the burst can go on from the nonce the chain has (anything still
    // pooled from before the kill is mined as well, or was lost with the process).
    const s0 = node.walletClient(senders[0]);
    const h2 = await s0.sendTransaction({ to: recipient.address, value: 7n });
    const r2 = await waitForReceipt(node.url, h2);
    assert.equal(r2.status, '0x1');
  });

  it('SIGINT also stops cleanly and the data survives', async () => {
    const before = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const exit = await node.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, `clean exit on SIGINT\nstderr tail:\n${node.logTail()}`);
    await node.launch();
    const afterRestart = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    assert.equal(afterRestart.hash, before.hash);
    assert.equal(afterRestart.stateRoot, before.stateRoot);
  });

  it('a second process on a datadir in use refuses to start; the first keeps serving', async () => {
    const other = await startNode({ blockTime: 0, datadir: node.datadir, startTimeoutMs: 15_000 }).catch((e) => e);
    if (!(other instanceof Error)) {
      await other.cleanup();
      assert.fail('a second altius started on a datadir that another altius has open');
    }
    assert.match(other.message, /exited/);
    const b = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    assert.ok(b.hash);
  });
});
