// Replacing a pending transaction (same sender and nonce): both fees must rise by at least
// 10%; smaller bumps are rejected with `replacement transaction underpriced`; the
// replacement is the one that gets mined.
//
// The node runs with a 10 s block time so the transaction stays pending while the test
// replaces it (the whole exchange takes well under a second, right after a block).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseGwei } from 'viem';
import { startNode, rpc, rpcRaw, waitFor, freshAccount, DEV_ACCOUNTS } from './harness.mjs';

const BLOCK_TIME = 10;

describe('pending transaction replacement', { timeout: 90_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: BLOCK_TIME });
  });
  after(async () => {
    await node?.cleanup();
  });

  it('accepts a +10% replacement, rejects smaller bumps, mines the replacement', async () => {
    const sender = DEV_ACCOUNTS[3];
    const { account: to } = await freshAccount();

    // Start right after a block boundary so nothing is mined during the exchange below.
    const start = BigInt(await rpc(node.url, 'eth_blockNumber'));
    await waitFor(async () => BigInt(await rpc(node.url, 'eth_blockNumber')) > start, {
      timeoutMs: BLOCK_TIME * 1000 + 3000,
      label: 'a block boundary (empty blocks on the timer)',
    }).catch(() => {
      // A node that builds no empty blocks: go on; the exchange still takes < 1 s.
    });

    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const baseFee = BigInt(latest.baseFeePerGas);
    // Fees that are multiples of 100 so that +10% is exact.
    const maxFee = ((baseFee * 4n + parseGwei('10')) / 100n + 1n) * 100n;
    const tip = parseGwei('1');
    const nonce = Number(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'latest']));
    const sign = (fee, prio, value) =>
      sender.signTransaction({
        chainId: node.chainId,
        type: 'eip1559',
        nonce,
        to: to.address,
        value,
        gas: 21000n,
        maxFeePerGas: fee,
        maxPriorityFeePerGas: prio,
      });
    const sendRaw = (raw) => rpcRaw(node.url, 'eth_sendRawTransaction', [raw]);
    const bump = (x, pct) => (x * (100n + BigInt(pct))) / 100n;

    const raw0 = await sign(maxFee, tip, 1n);
    const r0 = await sendRaw(raw0);
    assert.ok(r0.result, `original rejected: ${JSON.stringify(r0)}`);
    const hash0 = r0.result;

    const pendingTx = await rpc(node.url, 'eth_getTransactionByHash', [hash0]);
    assert.ok(pendingTx, 'pending transaction is served by eth_getTransactionByHash');
    assert.equal(pendingTx.blockHash, null, 'still pending');
    assert.equal(BigInt(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'pending'])), BigInt(nonce + 1));
    assert.equal(BigInt(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'latest'])), BigInt(nonce));

    const underpriced = [
      ['both +5%', bump(maxFee, 5), bump(tip, 5)],
      ['both +9%', bump(maxFee, 9), bump(tip, 9)],
      ['max fee +50%, same tip', bump(maxFee, 50), tip],
      ['tip +50%, same max fee', maxFee, bump(tip, 50)],
      ['same fees, other value', maxFee, tip],
      ['lower fees', maxFee - 100n, tip - 100n],
    ];
    for (const [label, fee, prio] of underpriced) {
      const res = await sendRaw(await sign(fee, prio, 7n));
      assert.ok(res.error, `${label}: expected a rejection, got ${JSON.stringify(res)}`);
      assert.equal(res.error.message, 'replacement transaction underpriced', label);
      assert.equal(res.error.code, -32000, label);
    }

    // Exactly +10% on both fees is enough.
    const raw1 = await sign(bump(maxFee, 10), bump(tip, 10), 2n);
    const r1 = await sendRaw(raw1);
    assert.ok(r1.result, `+10% replacement rejected: ${JSON.stringify(r1)}`);
    const hash1 = r1.result;
    assert.notEqual(hash1, hash0);
    assert.equal(await rpc(node.url, 'eth_getTransactionByHash', [hash0]), null, 'the replaced transaction is gone');
    const pending1 = await rpc(node.url, 'eth_getTransactionByHash', [hash1]);
    assert.equal(BigInt(pending1.maxFeePerGas), bump(maxFee, 10));

    // The original, sent again, is now the underpriced one.
    const again = await sendRaw(raw0);
    assert.equal(again.error?.message, 'replacement transaction underpriced', JSON.stringify(again));

    // Still nothing mined for this nonce: the exchange happened inside one block interval.
    assert.equal(
      BigInt(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'latest'])),
      BigInt(nonce),
      'the pending transaction was mined during the exchange (block came too early for this test)',
    );

    // Wait for the next block: the replacement is mined, the original never.
    const receipt = await waitFor(() => rpc(node.url, 'eth_getTransactionReceipt', [hash1]), {
      timeoutMs: BLOCK_TIME * 1000 + 10_000,
      intervalMs: 200,
      label: 'the replacement to be mined',
    });
    assert.equal(receipt.status, '0x1');
    assert.equal(await rpc(node.url, 'eth_getTransactionReceipt', [hash0]), null);
    assert.equal(BigInt(await rpc(node.url, 'eth_getBalance', [to.address, 'latest'])), 2n);
    assert.equal(BigInt(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'latest'])), BigInt(nonce + 1));
    const block = await rpc(node.url, 'eth_getBlockByNumber', [receipt.blockNumber, false]);
    assert.ok(block.transactions.includes(hash1));
    assert.ok(!block.transactions.includes(hash0));

    // Once mined, the same nonce is too low.
    const late = await sendRaw(await sign(bump(maxFee, 100), bump(tip, 100), 9n));
    assert.equal(late.error?.message, 'nonce too low', JSON.stringify(late));
  });
});
