// Hostile and malformed input: the node answers each with an error and keeps serving.
// Also the configurable limits ([rpc] max_request_bytes, max_batch_size,
// max_logs_block_range) through a --config file.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256 } from 'viem';
import { startNode, rpc, rpcRaw, postRaw, postLarge, assertAlive, waitForReceipt, DEV_ACCOUNTS } from './harness.mjs';

/** POSTs a large body; resolves to {status, text, json} or {networkError}. */
function postBig(url, body) {
  return postLarge(url, body, { timeoutMs: 30_000 });
}

function assertJsonRpcError(res, label) {
  assert.ok(res.json, `${label}: not a JSON body (HTTP ${res.status}): ${res.text?.slice(0, 200)}`);
  const msgs = Array.isArray(res.json) ? res.json : [res.json];
  assert.ok(msgs.length > 0, `${label}: empty response`);
  for (const m of msgs) {
    assert.ok(m.error, `${label}: expected an error, got ${JSON.stringify(m).slice(0, 300)}`);
    assert.equal(typeof m.error.code, 'number');
    assert.equal(typeof m.error.message, 'string');
  }
  return msgs[0].error;
}

describe('bad input (default limits)', { timeout: 90_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: 0 });
  });
  after(async () => {
    await node?.cleanup();
  });

  it('malformed JSON is -32700 with id null', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"', 'not json at all', '{"jsonrpc": "2.0", "id": 1, "method": }']) {
      const res = await postRaw(node.url, body);
      assert.ok(res.json, `HTTP ${res.status}: ${res.text}`);
      assert.equal(res.json.error?.code, -32700, JSON.stringify(res.json));
      assert.equal(res.json.id, null);
    }
  });

  it('invalid requests (not a JSON-RPC object, missing method, empty batch) are errors', async () => {
    const cases = [
      ['number', '42'],
      ['missing method', '{"jsonrpc":"2.0","id":1}'],
      ['empty batch', '[]'],
      ['method not a string', '{"jsonrpc":"2.0","id":1,"method":7}'],
    ];
    for (const [label, body] of cases) {
      const res = await postRaw(node.url, body);
      const err = assertJsonRpcError(res, label);
      assert.equal(err.code, -32600, `${label}: ${JSON.stringify(res.json)}`);
    }
    assertAlive(node);
  });

  it('invalid params are -32602', async () => {
    const res = await rpcRaw(node.url, 'eth_getBalance', ['not-an-address', 'latest']);
    assert.equal(res.error?.code, -32602, JSON.stringify(res));
    const res2 = await rpcRaw(node.url, 'eth_getBlockByNumber', ['0xzz', false]);
    assert.equal(res2.error?.code, -32602, JSON.stringify(res2));
  });

  it('malformed RLP in eth_sendRawTransaction is an error, not a crash', async () => {
    for (const raw of ['0x', '0xdeadbeef', '0x02', '0x02c0', '0xf8ffffffff', `0x02${'ff'.repeat(100)}`, '0xzz']) {
      const res = await rpcRaw(node.url, 'eth_sendRawTransaction', [raw]);
      assert.ok(res.error, `${raw}: ${JSON.stringify(res)}`);
      assert.equal(typeof res.error.message, 'string');
    }
    assertAlive(node);
    assert.match(await rpc(node.url, 'eth_blockNumber'), /^0x/);
  });

  it('unknown method is -32601', async () => {
    const res = await rpcRaw(node.url, 'eth_doesNotExist', []);
    assert.equal(res.error?.code, -32601, JSON.stringify(res));
    const res2 = await rpcRaw(node.url, 'debug_traceTransaction', [`0x${'00'.repeat(32)}`]);
    assert.equal(res2.error?.code, -32601, JSON.stringify(res2));
  });

  it('a 10 MiB body gets an error response (HTTP 413 or a JSON-RPC error)', async (t) => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: `0x${'00'.repeat(5 * 1024 * 1024)}` }, 'latest'] });
    assert.ok(big.length > 10 * 1024 * 1024);
    const res = await postBig(node.url, big);
    assert.ok(!res.networkError, `no response at all to a 10 MiB body: ${res.networkError?.message} ${res.networkError?.cause?.message ?? ''}`);
    t.diagnostic(`10 MiB body: HTTP ${res.status} ${res.text.slice(0, 160)}`);
    if (res.status === 413) {
      // acceptable as is; a JSON-RPC error body is a bonus
    } else {
      assertJsonRpcError(res, '10 MiB body');
    }
    assertAlive(node);
  });

  it('a 4 MiB body (under the 5 MiB limit) is served', async () => {
    const input = `0x${'ab'.repeat(2 * 1024 * 1024)}`;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'web3_sha3', params: [input] });
    assert.ok(body.length > 4 * 1024 * 1024 && body.length < 5 * 1024 * 1024);
    const res = await postLarge(node.url, body, { timeoutMs: 30_000 });
    assert.ok(!res.networkError, `no response: ${res.networkError?.message}`);
    assert.equal(res.status, 200, res.text?.slice(0, 200));
    assert.equal(res.json?.result, keccak256(input), res.text?.slice(0, 200));
  });

  it('a batch of 1001 (one over the limit) gets a JSON-RPC error', async () => {
    const batch = Array.from({ length: 1001 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_blockNumber', params: [] }));
    const res = await postRaw(node.url, batch, { timeoutMs: 30_000 });
    assertJsonRpcError(res, '1001-element batch');
  });

  it('a 10,000-element batch gets a JSON-RPC error', async () => {
    const batch = Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_blockNumber', params: [] }));
    const res = await postRaw(node.url, batch, { timeoutMs: 30_000 });
    assertJsonRpcError(res, '10,000-element batch');
    assertAlive(node);
  });

  it('a batch at the limit (1000) is answered in full, in order, with mixed results', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: i % 100 === 7 ? 'eth_nope' : 'eth_chainId',
      params: [],
    }));
    const res = await postRaw(node.url, batch, { timeoutMs: 30_000 });
    assert.ok(Array.isArray(res.json), `HTTP ${res.status}: ${res.text.slice(0, 200)}`);
    assert.equal(res.json.length, 1000);
    const byId = new Map(res.json.map((m) => [m.id, m]));
    for (let i = 0; i < 1000; i++) {
      const m = byId.get(i);
      assert.ok(m, `missing response ${i}`);
      if (i % 100 === 7) assert.equal(m.error?.code, -32601);
      else assert.equal(m.result, `0x${node.chainId.toString(16)}`);
    }
  });

  it('a notification (no id) gets no response entry', async () => {
    const res = await postRaw(node.url, [
      { jsonrpc: '2.0', method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 5, method: 'eth_blockNumber', params: [] },
    ]);
    assert.ok(Array.isArray(res.json), res.text);
    assert.equal(res.json.length, 1);
    assert.equal(res.json[0].id, 5);
  });

  it('after all of the above the node still answers and mines', async () => {
    assertAlive(node);
    assert.match(await rpc(node.url, 'eth_blockNumber'), /^0x/);
    const wallet = node.walletClient(DEV_ACCOUNTS[1]);
    const hash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[2].address, value: 1n });
    const receipt = await waitForReceipt(node.url, hash);
    assert.equal(receipt.status, '0x1');
  });
});

describe('configured limits ([rpc] in --config)', { timeout: 60_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({
      blockTime: 0,
      config: '[rpc]\nmax_request_bytes = 4096\nmax_batch_size = 5\nmax_logs_block_range = 2\n',
    });
  });
  after(async () => {
    await node?.cleanup();
  });

  it('max_batch_size = 5: a batch of 5 works, 6 is an error', async () => {
    const mk = (n) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_blockNumber', params: [] }));
    const ok = await postRaw(node.url, mk(5));
    assert.ok(Array.isArray(ok.json) && ok.json.length === 5 && ok.json.every((m) => m.result), ok.text);
    const res = await postRaw(node.url, mk(6));
    assertJsonRpcError(res, 'batch of 6 with max_batch_size = 5');
  });

  it('max_request_bytes = 4096: a 5 KiB body is refused, a small one served', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: `0x${'00'.repeat(2600)}` }, 'latest'] });
    assert.ok(body.length > 5000);
    const res = await postBig(node.url, body);
    assert.ok(!res.networkError, `no response: ${res.networkError?.message}`);
    if (res.status !== 413) assertJsonRpcError(res, '5 KiB body with max_request_bytes = 4096');
    assert.match(await rpc(node.url, 'eth_blockNumber'), /^0x/);
  });

  it('max_logs_block_range = 2: a wider eth_getLogs range is an error', async () => {
    const wallet = node.walletClient(DEV_ACCOUNTS[1]);
    for (let i = 0; i < 3; i++) {
      const hash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[2].address, value: 1n });
      await waitForReceipt(node.url, hash);
    }
    const head = BigInt(await rpc(node.url, 'eth_blockNumber'));
    assert.ok(head >= 3n);
    const narrow = await rpcRaw(node.url, 'eth_getLogs', [{ fromBlock: `0x${(head - 1n).toString(16)}`, toBlock: `0x${head.toString(16)}` }]);
    assert.ok(Array.isArray(narrow.result), JSON.stringify(narrow));
    const wide = await rpcRaw(node.url, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: `0x${head.toString(16)}` }]);
    assert.ok(wide.error, `range of ${head + 1n} blocks with max_logs_block_range = 2: ${JSON.stringify(wide)}`);
  });
});

describe('bad configuration is refused at start-up', { timeout: 30_000 }, () => {
  it('an unknown [rpc] field makes the node exit with an error naming it', async () => {
    let started;
    try {
      started = await startNode({ blockTime: 0, config: '[rpc]\nmax_batch_sise = 5\n', startTimeoutMs: 15_000 });
    } catch (err) {
      assert.match(err.message, /exited/);
      assert.match(err.message, /max_batch_sise/);
      return;
    }
    await started.cleanup();
    assert.fail('the node started although its config has an unknown field');
  });
});
