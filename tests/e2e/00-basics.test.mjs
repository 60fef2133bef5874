// Start-up banner and the read-only JSON-RPC methods on a fresh dev chain.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode,
  rpc,
  rpcRaw,
  DEV_ACCOUNTS,
  DEV_KEYS,
  DEV_CHAIN_ID,
  DEV_PREFUND,
  FIRST_DEV_ADDRESS,
  FIRST_DEV_KEY,
  FEE_VAULTS,
} from './harness.mjs';

const HEX_QTY = /^0x(0|[1-9a-f][0-9a-f]*)$/;

describe('basics: banner and read-only RPC', { timeout: 60_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: 0 });
  });
  after(async () => {
    await node?.cleanup();
  });

  it('prints the anvil-style banner with the ten dev accounts, their keys and the chain id', () => {
    const out = node.stdout;
    assert.match(out, /Available Accounts/);
    assert.match(out, /Private Keys/);
    for (let i = 0; i < 10; i++) {
      const addr = DEV_ACCOUNTS[i].address;
      assert.ok(
        out.includes(`(${i}) ${addr} (10000.000000000000000000 ETH)`),
        `banner lacks account ${i} ${addr} with 10000 ETH:\n${out}`,
      );
      assert.ok(out.toLowerCase().includes(`(${i}) ${DEV_KEYS[i]}`), `banner lacks key ${i}`);
    }
    assert.ok(out.includes(FIRST_DEV_ADDRESS));
    assert.ok(out.includes(FIRST_DEV_KEY));
    assert.match(out, /test test test test test test test test test test test junk/);
    const m = /Chain ID\s*\n=+\s*\n\s*(\d+)/.exec(out);
    assert.ok(m, `no Chain ID section in banner:\n${out}`);
    assert.equal(Number(m[1]), node.chainId, 'banner chain id != eth_chainId');
    assert.match(out, /Listening on 127\.0\.0\.1:\d+/);
  });

  it('eth_chainId is the dev default and net_version agrees', async () => {
    assert.equal(await rpc(node.url, 'eth_chainId'), `0x${DEV_CHAIN_ID.toString(16)}`);
    assert.equal(await rpc(node.url, 'net_version'), String(DEV_CHAIN_ID));
  });

  it('web3_clientVersion, eth_syncing, eth_accounts', async () => {
    const v = await rpc(node.url, 'web3_clientVersion');
    assert.equal(typeof v, 'string');
    assert.ok(v.length > 0);
    assert.equal(await rpc(node.url, 'eth_syncing'), false);
    assert.deepEqual(await rpc(node.url, 'eth_accounts'), []);
  });

  it('genesis: block 0 and the earliest tag, dev balances of 10,000 ETH', async () => {
    const head = await rpc(node.url, 'eth_blockNumber');
    assert.match(head, HEX_QTY);
    const b0 = await rpc(node.url, 'eth_getBlockByNumber', ['0x0', false]);
    assert.ok(b0, 'block 0 missing');
    assert.equal(b0.number, '0x0');
    assert.match(b0.hash, /^0x[0-9a-f]{64}$/);
    assert.match(b0.stateRoot, /^0x[0-9a-f]{64}$/);
    assert.deepEqual(b0.transactions, []);
    const earliest = await rpc(node.url, 'eth_getBlockByNumber', ['earliest', false]);
    assert.equal(earliest.hash, b0.hash);
    const byHash = await rpc(node.url, 'eth_getBlockByHash', [b0.hash, false]);
    assert.equal(byHash.number, '0x0');
    assert.equal(byHash.stateRoot, b0.stateRoot);
    assert.equal(await rpc(node.url, 'eth_getBlockTransactionCountByNumber', ['0x0']), '0x0');
    for (const a of DEV_ACCOUNTS) {
      assert.equal(BigInt(await rpc(node.url, 'eth_getBalance', [a.address, '0x0'])), DEV_PREFUND, a.address);
    }
    assert.equal(await rpc(node.url, 'eth_getTransactionCount', [FIRST_DEV_ADDRESS, '0x0']), '0x0');
    assert.equal(await rpc(node.url, 'eth_getCode', [FIRST_DEV_ADDRESS, 'latest']), '0x');
  });

  it('block tags latest, pending, safe, finalized resolve to blocks', async () => {
    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    assert.ok(latest && latest.hash, 'latest');
    for (const tag of ['pending', 'safe', 'finalized']) {
      const b = await rpc(node.url, 'eth_getBlockByNumber', [tag, false]);
      assert.ok(b, `${tag} returned null`);
      assert.match(b.number, HEX_QTY, tag);
      assert.ok(BigInt(b.number) <= BigInt(latest.number) + 1n, `${tag} beyond latest+1`);
    }
    const bal = await rpc(node.url, 'eth_getBalance', [FIRST_DEV_ADDRESS, 'pending']);
    assert.match(bal, HEX_QTY);
    const n = await rpc(node.url, 'eth_getTransactionCount', [FIRST_DEV_ADDRESS, 'pending']);
    assert.match(n, HEX_QTY);
    // A block that does not exist yet is null, not an error.
    assert.equal(await rpc(node.url, 'eth_getBlockByNumber', ['0xffffff', false]), null);
    assert.equal(
      await rpc(node.url, 'eth_getBlockByHash', [`0x${'ab'.repeat(32)}`, false]),
      null,
    );
    assert.equal(
      await rpc(node.url, 'eth_getTransactionByHash', [`0x${'cd'.repeat(32)}`]),
      null,
    );
    assert.equal(
      await rpc(node.url, 'eth_getTransactionReceipt', [`0x${'cd'.repeat(32)}`]),
      null,
    );
  });

  it('fee methods: eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory', async () => {
    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    assert.ok(latest.baseFeePerGas !== undefined, 'latest block has no baseFeePerGas');
    const gasPrice = BigInt(await rpc(node.url, 'eth_gasPrice'));
    const tip = BigInt(await rpc(node.url, 'eth_maxPriorityFeePerGas'));
    assert.ok(tip >= 0n);
    const fh = await rpc(node.url, 'eth_feeHistory', ['0x4', 'latest', [25, 75]]);
    // The last baseFeePerGas entry is the next block's base fee: a legacy transaction
    // priced at eth_gasPrice must be includable in it.
    const nextBaseFee = BigInt(fh.baseFeePerGas[fh.baseFeePerGas.length - 1]);
    assert.ok(gasPrice >= nextBaseFee, `gasPrice ${gasPrice} < next base fee ${nextBaseFee}`);
    assert.equal(BigInt(fh.baseFeePerGas[fh.baseFeePerGas.length - 2]), BigInt(latest.baseFeePerGas), 'feeHistory base fee of the newest block');
    assert.match(fh.oldestBlock, HEX_QTY);
    assert.ok(Array.isArray(fh.baseFeePerGas) && Array.isArray(fh.gasUsedRatio));
    assert.ok(fh.gasUsedRatio.length >= 1 && fh.gasUsedRatio.length <= 4, JSON.stringify(fh));
    assert.equal(fh.baseFeePerGas.length, fh.gasUsedRatio.length + 1, 'baseFeePerGas has one entry per block + next');
    assert.ok(Array.isArray(fh.reward), 'reward missing although percentiles were asked');
    assert.equal(fh.reward.length, fh.gasUsedRatio.length);
    for (const r of fh.reward) assert.equal(r.length, 2);
  });

  it('fee vault predeploys are readable', async () => {
    for (const addr of Object.values(FEE_VAULTS)) {
      assert.match(await rpc(node.url, 'eth_getBalance', [addr, 'latest']), HEX_QTY);
    }
  });

  it('logs go to stderr, stdout carries only the banner and the listening line', () => {
    assert.doesNotMatch(node.stdout, /\b(INFO|DEBUG|WARN|TRACE)\b/, `log lines on stdout:\n${node.stdout}`);
    assert.ok(node.stderr.length > 0, 'no logs on stderr');
  });

  it('unknown method is -32601', async () => {
    const res = await rpcRaw(node.url, 'eth_noSuchMethod', []);
    assert.ok(res.error, JSON.stringify(res));
    assert.equal(res.error.code, -32601);
  });
});

describe('default block time', { timeout: 30_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: null }); // no --block-time: the default, 1 s
  });
  after(async () => {
    await node?.cleanup();
  });

  it('without --block-time a block is built about every second, transactions or not', async () => {
    const start = BigInt(await rpc(node.url, 'eth_blockNumber'));
    await new Promise((r) => setTimeout(r, 3500));
    const end = BigInt(await rpc(node.url, 'eth_blockNumber'));
    assert.ok(end - start >= 2n && end - start <= 5n, `${end - start} blocks in 3.5 s`);
    const a = await rpc(node.url, 'eth_getBlockByNumber', [`0x${(end - 1n).toString(16)}`, false]);
    const b = await rpc(node.url, 'eth_getBlockByNumber', [`0x${end.toString(16)}`, false]);
    const dt = BigInt(b.timestamp) - BigInt(a.timestamp);
    assert.ok(dt >= 1n && dt <= 2n, `timestamps ${a.timestamp} -> ${b.timestamp}`);
    assert.equal(b.parentHash, a.hash);
  });
});
