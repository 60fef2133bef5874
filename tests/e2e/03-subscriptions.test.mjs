// WebSocket: JSON-RPC calls over WS, viem watchBlocks (eth_subscribe newHeads), and raw
// eth_subscribe for newHeads, logs (address + topic filter) and newPendingTransactions,
// plus eth_unsubscribe.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, pad } from 'viem';
import {
  startNode,
  rpc,
  WsRpc,
  waitForReceipt,
  withTimeout,
  sleep,
  DEV_ACCOUNTS,
  EMITTER_INIT,
  EMITTER_RUNTIME,
} from './harness.mjs';

describe('WebSocket subscriptions', { timeout: 90_000 }, () => {
  let node;
  let wallet;
  let pub;
  let emitter;
  const sockets = [];
  const sender = DEV_ACCOUNTS[7];

  async function send(params) {
    const hash = await wallet.sendTransaction({ ...params });
    const receipt = await waitForReceipt(node.url, hash);
    assert.equal(receipt.status, '0x1', `tx ${hash} failed`);
    return { hash, receipt };
  }

  async function ws() {
    const c = await WsRpc.connect(node.wsUrl);
    sockets.push(c);
    return c;
  }

  before(async () => {
    node = await startNode({ blockTime: 0 });
    wallet = node.walletClient(sender);
    pub = node.publicClient();
    const { receipt } = await send({ data: EMITTER_INIT, gas: 200_000n });
    emitter = receipt.contractAddress;
    assert.ok(emitter, 'emitter deployed');
    assert.equal(await rpc(node.url, 'eth_getCode', [emitter, 'latest']), EMITTER_RUNTIME);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await node?.cleanup();
  });

  it('plain JSON-RPC calls work over WebSocket', async () => {
    const c = await ws();
    assert.equal(await c.call('eth_chainId'), `0x${node.chainId.toString(16)}`);
    const httpHead = BigInt(await rpc(node.url, 'eth_blockNumber'));
    assert.ok(BigInt(await c.call('eth_blockNumber')) >= httpHead);
    const unknown = await c.callRaw('eth_noSuchMethod');
    assert.equal(unknown.error?.code, -32601);
  });

  it('viem watchBlocks over the webSocket transport sees new blocks', async () => {
    const client = node.wsClient();
    const seen = [];
    let unwatch;
    try {
      const got = new Promise((resolve, reject) => {
        unwatch = client.watchBlocks({
          onBlock: (b) => {
            seen.push(b);
            resolve();
          },
          onError: reject,
        });
      });
      // Give the subscription a moment to be established, then make a block.
      await sleep(300);
      const { receipt } = await send({ to: DEV_ACCOUNTS[8].address, value: 1n });
      await withTimeout(got, 10_000, 'viem watchBlocks onBlock');
      await withTimeout(
        (async () => {
          while (!seen.some((b) => b.number === BigInt(receipt.blockNumber))) await sleep(50);
        })(),
        10_000,
        `watchBlocks seeing block ${BigInt(receipt.blockNumber)}`,
      );
      const b = seen.find((x) => x.number === BigInt(receipt.blockNumber));
      assert.equal(b.hash, receipt.blockHash);
    } finally {
      unwatch?.();
      await client.transport.getRpcClient?.().then((c) => c.close()).catch(() => {});
    }
  });

  it('eth_subscribe newHeads delivers each new header; eth_unsubscribe stops it', async () => {
    const c = await ws();
    const sub = await c.call('eth_subscribe', ['newHeads']);
    assert.match(sub, /^0x[0-9a-f]+$/i);
    const { receipt } = await send({ to: DEV_ACCOUNTS[8].address, value: 2n });
    const head = await c.waitNotification(sub, (h) => h.number === receipt.blockNumber);
    const block = await rpc(node.url, 'eth_getBlockByNumber', [receipt.blockNumber, false]);
    assert.equal(head.hash, block.hash);
    assert.equal(head.parentHash, block.parentHash);
    assert.equal(head.stateRoot, block.stateRoot);
    assert.equal(head.miner.toLowerCase(), block.miner.toLowerCase());
    // Headers arrive in order, without gaps, from the subscription on.
    const numbers = c.received(sub).map((h) => BigInt(h.number));
    for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], numbers[i - 1] + 1n);

    assert.equal(await c.call('eth_unsubscribe', [sub]), true);
    const count = c.received(sub).length;
    await send({ to: DEV_ACCOUNTS[8].address, value: 3n });
    await sleep(500);
    assert.equal(c.received(sub).length, count, 'no newHeads after eth_unsubscribe');
    // Unsubscribing twice: geth answers with the error "subscription not found"; false is
    // also accepted.
    const twice = await c.callRaw('eth_unsubscribe', [sub]);
    assert.ok(twice.result === false || twice.error, JSON.stringify(twice));
  });

  it('eth_subscribe logs with address and topic filters delivers only matching logs', async () => {
    const c = await ws();
    const wanted = keccak256(toHex('wanted'));
    const other = keccak256(toHex('other'));
    const byTopic = await c.call('eth_subscribe', ['logs', { address: emitter, topics: [wanted] }]);
    const byAddress = await c.call('eth_subscribe', ['logs', { address: emitter }]);
    const elsewhere = await c.call('eth_subscribe', ['logs', { address: DEV_ACCOUNTS[8].address }]);

    const first = await send({ to: emitter, data: other, gas: 100_000n });
    const second = await send({ to: emitter, data: wanted, gas: 100_000n });

    const log = await c.waitNotification(byTopic, (l) => l.transactionHash === second.hash);
    assert.equal(log.address.toLowerCase(), emitter.toLowerCase());
    assert.deepEqual(log.topics, [wanted]);
    assert.equal(log.data, '0x');
    assert.equal(log.blockNumber, second.receipt.blockNumber);
    assert.equal(log.blockHash, second.receipt.blockHash);
    assert.equal(log.removed, false);

    await c.waitNotification(byAddress, (l) => l.transactionHash === first.hash);
    await c.waitNotification(byAddress, (l) => l.transactionHash === second.hash);
    await sleep(300);
    assert.deepEqual(
      c.received(byTopic).map((l) => l.transactionHash),
      [second.hash],
      'the topic-filtered subscription got exactly the matching log',
    );
    assert.equal(c.received(byAddress).length, 2);
    assert.equal(c.received(elsewhere).length, 0);
    // The same logs through eth_getLogs.
    const logs = await rpc(node.url, 'eth_getLogs', [{ address: emitter, topics: [wanted], fromBlock: first.receipt.blockNumber, toBlock: 'latest' }]);
    assert.deepEqual(logs.map((l) => l.transactionHash), [second.hash]);
    assert.deepEqual(logs[0].topics, [pad(wanted)]);
  });

  it('eth_subscribe newPendingTransactions delivers the hash of an accepted transaction', async () => {
    const c = await ws();
    const sub = await c.call('eth_subscribe', ['newPendingTransactions']);
    const hash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[8].address, value: 4n });
    const note = await c.waitNotification(sub, (h) => (typeof h === 'string' ? h : h?.hash) === hash);
    assert.equal(typeof note, 'string', 'notifications are transaction hashes by default');
    await waitForReceipt(node.url, hash);
    assert.equal(await c.call('eth_unsubscribe', [sub]), true);
  });

  it('a subscription of an unknown kind is an error', async () => {
    const c = await ws();
    const res = await c.callRaw('eth_subscribe', ['noSuchKind']);
    assert.ok(res.error, JSON.stringify(res));
  });

  it('eth_subscribe over plain HTTP is an error', async () => {
    const res = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }),
      signal: AbortSignal.timeout(10_000),
    }).then((r) => r.json());
    assert.ok(res.error, JSON.stringify(res));
  });
});
