// Deploy a contract compiled at run time with solcjs (offline), then: eth_call reads
// (latest, historical, state overrides), transactions that write and emit events,
// eth_getLogs filters (address, topics, OR-topics, block ranges, block hash),
// eth_getCode, eth_getStorageAt and eth_estimateGas. Uses ethers v6 and raw JSON-RPC.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import solc from 'solc';
import { ethers } from 'ethers';
import { startNode, rpc, rpcRaw, DEV_KEYS } from './harness.mjs';

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Counter {
    uint256 public count;   // slot 0
    address public owner;   // slot 1

    event Incremented(address indexed by, uint256 indexed newCount, uint256 amount);
    event Note(bytes32 indexed tag, string text);

    constructor(uint256 start) {
        count = start;
        owner = msg.sender;
    }

    function add(uint256 amount) external returns (uint256) {
        count += amount;
        emit Incremented(msg.sender, count, amount);
        return count;
    }

    function note(bytes32 tag, string calldata text) external {
        emit Note(tag, text);
    }

    function boom() external pure {
        revert("boom");
    }
}
`;

function compile() {
  const input = {
    language: 'Solidity',
    sources: { 'Counter.sol': { content: SOURCE } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const c = out.contracts['Counter.sol'].Counter;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployed: `0x${c.evm.deployedBytecode.object}` };
}

const pad32 = (hex) => ethers.zeroPadValue(hex, 32).toLowerCase();
const word = (n) => ethers.toBeHex(n, 32);
const INCREMENTED = ethers.id('Incremented(address,uint256,uint256)');
const NOTE = ethers.id('Note(bytes32,string)');

describe('contract deploy, calls, events and logs', { timeout: 90_000 }, () => {
  let node;
  let provider;
  let compiled;
  let alice;
  let bob;
  let counter;
  let address;
  let deployBlock;
  /** Every log the test produced, as [blockNumber, topic0, sender, txHash]. */
  const produced = [];

  before(async () => {
    compiled = compile();
    node = await startNode({ blockTime: 0 });
    provider = new ethers.JsonRpcProvider(node.url, node.chainId, { staticNetwork: true, pollingInterval: 100 });
    alice = new ethers.NonceManager(new ethers.Wallet(DEV_KEYS[5], provider));
    bob = new ethers.NonceManager(new ethers.Wallet(DEV_KEYS[6], provider));
  });
  after(async () => {
    provider?.destroy();
    await node?.cleanup();
  });

  it('deploys; eth_getCode returns the runtime code solc produced', async () => {
    const factory = new ethers.ContractFactory(compiled.abi, compiled.bytecode, alice);
    counter = await factory.deploy(5n);
    const deployTx = counter.deploymentTransaction();
    const receipt = await deployTx.wait(1, 20_000);
    assert.equal(receipt.status, 1);
    address = await counter.getAddress();
    assert.equal(receipt.contractAddress.toLowerCase(), address.toLowerCase());
    assert.equal(address, ethers.getCreateAddress({ from: await alice.getAddress(), nonce: deployTx.nonce }));
    deployBlock = receipt.blockNumber;
    const code = await rpc(node.url, 'eth_getCode', [address, 'latest']);
    assert.equal(code, compiled.deployed.toLowerCase());
    assert.equal(await rpc(node.url, 'eth_getCode', [address, ethers.toQuantity(deployBlock - 1)]), '0x');
  });

  it('eth_getStorageAt reads the constructor-written slots', async () => {
    assert.equal(await rpc(node.url, 'eth_getStorageAt', [address, '0x0', 'latest']), word(5));
    assert.equal(await rpc(node.url, 'eth_getStorageAt', [address, '0x1', 'latest']), pad32(await alice.getAddress()));
    assert.equal(await rpc(node.url, 'eth_getStorageAt', [address, '0x2', 'latest']), word(0));
  });

  it('eth_call reads; eth_estimateGas; a transaction writes and emits Incremented', async () => {
    assert.equal(await counter.count(), 5n);
    assert.equal((await counter.owner()).toLowerCase(), (await alice.getAddress()).toLowerCase());
    // eth_call of a state-changing function returns its result without changing state.
    assert.equal(await counter.add.staticCall(10n), 15n);
    assert.equal(await counter.count(), 5n);

    const data = counter.interface.encodeFunctionData('add', [3n]);
    const from = await bob.getAddress();
    const est = BigInt(await rpc(node.url, 'eth_estimateGas', [{ from, to: address, data }]));
    assert.ok(est > 21_000n && est < 100_000n, `estimate ${est}`);
    // The estimate is enough: send with exactly that gas limit.
    const tx = await counter.connect(bob).add(3n, { gasLimit: est });
    const receipt = await tx.wait(1, 20_000);
    assert.equal(receipt.status, 1);
    assert.ok(receipt.gasUsed <= est);
    assert.equal(receipt.logs.length, 1);
    const log = receipt.logs[0];
    assert.equal(log.address.toLowerCase(), address.toLowerCase());
    assert.deepEqual(log.topics.map((t) => t.toLowerCase()), [INCREMENTED, pad32(from), word(8)]);
    assert.equal(log.data, word(3));
    produced.push([receipt.blockNumber, INCREMENTED, from.toLowerCase(), receipt.hash]);

    assert.equal(await counter.count(), 8n);
    assert.equal(await rpc(node.url, 'eth_getStorageAt', [address, '0x0', 'latest']), word(8));
    // Historical reads.
    const call = { to: address, data: counter.interface.encodeFunctionData('count') };
    assert.equal(await rpc(node.url, 'eth_call', [call, ethers.toQuantity(deployBlock)]), word(5));
    assert.equal(await rpc(node.url, 'eth_call', [call, ethers.toQuantity(receipt.blockNumber)]), word(8));
    assert.equal(await rpc(node.url, 'eth_getStorageAt', [address, '0x0', ethers.toQuantity(deployBlock)]), word(5));
  });

  it('eth_call with state overrides (stateDiff, state, balance, code)', async () => {
    const call = { to: address, data: counter.interface.encodeFunctionData('count') };
    assert.equal(
      await rpc(node.url, 'eth_call', [call, 'latest', { [address]: { stateDiff: { [word(0)]: word(100) } } }]),
      word(100),
    );
    assert.equal(
      await rpc(node.url, 'eth_call', [call, 'latest', { [address]: { state: { [word(0)]: word(7) } } }]),
      word(7),
    );
    // The override did not touch the real state.
    assert.equal(await rpc(node.url, 'eth_call', [call, 'latest']), word(8));
    // Code override: run the counter's code at an empty address with overridden storage.
    const ghost = ethers.Wallet.createRandom().address;
    assert.equal(
      await rpc(node.url, 'eth_call', [
        { to: ghost, data: call.data },
        'latest',
        { [ghost]: { code: compiled.deployed, stateDiff: { [word(0)]: word(42) } } },
      ]),
      word(42),
    );
    // Balance override lets an empty account send value in a call.
    const poor = ethers.Wallet.createRandom().address;
    const res = await rpcRaw(node.url, 'eth_call', [
      { from: poor, to: address, value: '0x0', data: call.data, gasPrice: '0x3b9aca00', gas: '0x30000' },
      'latest',
      { [poor]: { balance: ethers.toQuantity(ethers.parseEther('1')) } },
    ]);
    assert.equal(res.result, word(8), JSON.stringify(res));
  });

  it('call objects may carry the calldata as input, data, or both when equal (as cast sends it)', async () => {
    const data = counter.interface.encodeFunctionData('count');
    for (const [label, obj] of [
      ['data', { to: address, data }],
      ['input', { to: address, input: data }],
      ['input and data', { to: address, input: data, data }],
    ]) {
      const call = await rpcRaw(node.url, 'eth_call', [obj, 'latest']);
      assert.equal(call.result, word(8), `eth_call with ${label}: ${JSON.stringify(call)}`);
      const est = await rpcRaw(node.url, 'eth_estimateGas', [obj]);
      assert.ok(est.result && BigInt(est.result) > 21_000n, `eth_estimateGas with ${label}: ${JSON.stringify(est)}`);
    }
    // Different input and data is an error (geth: both set but not equal).
    const other = counter.interface.encodeFunctionData('owner');
    const bad = await rpcRaw(node.url, 'eth_call', [{ to: address, input: data, data: other }, 'latest']);
    assert.ok(bad.error, JSON.stringify(bad));
  });

  it('a revert: eth_call and eth_estimateGas report execution reverted', async () => {
    const data = counter.interface.encodeFunctionData('boom');
    const res = await rpcRaw(node.url, 'eth_call', [{ to: address, data }, 'latest']);
    assert.ok(res.error, `eth_call of a reverting function must fail: ${JSON.stringify(res)}`);
    assert.match(res.error.message, /execution reverted/);
    // geth: code 3 with the revert data (Error("boom")).
    assert.equal(res.error.code, 3, JSON.stringify(res.error));
    const reason = ethers.AbiCoder.defaultAbiCoder().encode(['string'], ['boom']);
    assert.equal(res.error.data, `0x08c379a0${reason.slice(2)}`);
    const est = await rpcRaw(node.url, 'eth_estimateGas', [{ to: address, data }]);
    assert.ok(est.error, `eth_estimateGas of a reverting call must fail: ${JSON.stringify(est)}`);
    assert.match(est.error.message, /execution reverted/);
  });

  it('more events from two senders over several blocks', async () => {
    // alice: add(1), note; bob: add(2), note; alice: add(4)
    const steps = [
      [alice, 'add', [1n]],
      [alice, 'note', [ethers.encodeBytes32String('a'), 'hello']],
      [bob, 'add', [2n]],
      [bob, 'note', [ethers.encodeBytes32String('b'), 'world']],
      [alice, 'add', [4n]],
    ];
    for (const [signer, fn, args] of steps) {
      const tx = await counter.connect(signer)[fn](...args);
      const r = await tx.wait(1, 20_000);
      assert.equal(r.status, 1);
      assert.equal(r.logs.length, 1);
      produced.push([r.blockNumber, fn === 'add' ? INCREMENTED : NOTE, (await signer.getAddress()).toLowerCase(), r.hash]);
    }
    assert.equal(await counter.count(), 15n);
    const blocks = new Set(produced.map((p) => p[0]));
    assert.ok(blocks.size >= 2, 'events are spread over several blocks');
  });

  it('eth_getLogs: address, topics, OR-topics, ranges and block hash find exactly the expected logs', async () => {
    const head = Number(await rpc(node.url, 'eth_blockNumber'));
    const from = ethers.toQuantity(deployBlock);
    const q = (filter) => rpc(node.url, 'eth_getLogs', [filter]);
    const ids = (logs) => logs.map((l) => l.transactionHash).sort();
    const expect = (pred) => produced.filter(pred).map((p) => p[3]).sort();

    const all = await q({ address, fromBlock: from, toBlock: 'latest' });
    assert.deepEqual(ids(all), expect(() => true));
    for (const l of all) {
      assert.equal(l.address.toLowerCase(), address.toLowerCase());
      assert.equal(l.removed, false);
      const block = await rpc(node.url, 'eth_getBlockByNumber', [l.blockNumber, false]);
      assert.equal(l.blockHash, block.hash);
      assert.ok(block.transactions.includes(l.transactionHash));
      assert.match(l.logIndex, /^0x/);
      assert.match(l.transactionIndex, /^0x/);
    }
    // Ordered by block then log index.
    const order = all.map((l) => [BigInt(l.blockNumber), BigInt(l.logIndex)]);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? Number(a[1] - b[1]) : a[0] < b[0] ? -1 : 1));
    assert.deepEqual(order, sorted);

    // No address filter, topic filter only.
    assert.deepEqual(ids(await q({ fromBlock: from, toBlock: 'latest', topics: [INCREMENTED] })), expect((p) => p[1] === INCREMENTED));
    assert.deepEqual(ids(await q({ address, fromBlock: from, topics: [NOTE] })), expect((p) => p[1] === NOTE));
    // OR within a position.
    assert.deepEqual(ids(await q({ address, fromBlock: from, topics: [[INCREMENTED, NOTE]] })), expect(() => true));
    // Second topic = indexed sender (Incremented only: Note's topic1 is the tag).
    const bobAddr = (await bob.getAddress()).toLowerCase();
    assert.deepEqual(
      ids(await q({ address, fromBlock: from, topics: [INCREMENTED, pad32(bobAddr)] })),
      expect((p) => p[1] === INCREMENTED && p[2] === bobAddr),
    );
    // Wildcard first position, third topic = newCount 8 (bob's first add).
    const eight = await q({ address, fromBlock: from, topics: [null, null, word(8)] });
    assert.equal(eight.length, 1);
    assert.equal(eight[0].topics[1].toLowerCase(), pad32(bobAddr));
    // Address list including the contract; an unrelated address alone finds nothing.
    const other = ethers.Wallet.createRandom().address;
    assert.deepEqual(ids(await q({ address: [other, address], fromBlock: from })), expect(() => true));
    assert.deepEqual(await q({ address: other, fromBlock: from, toBlock: 'latest' }), []);
    // Block ranges.
    const mid = produced[2][0];
    assert.deepEqual(
      ids(await q({ address, fromBlock: ethers.toQuantity(mid), toBlock: ethers.toQuantity(head) })),
      expect((p) => p[0] >= mid),
    );
    assert.deepEqual(
      ids(await q({ address, fromBlock: ethers.toQuantity(deployBlock), toBlock: ethers.toQuantity(mid - 1) })),
      expect((p) => p[0] < mid),
    );
    const single = produced[3][0];
    assert.deepEqual(
      ids(await q({ address, fromBlock: ethers.toQuantity(single), toBlock: ethers.toQuantity(single) })),
      expect((p) => p[0] === single),
    );
    assert.deepEqual(await q({ address, fromBlock: '0x0', toBlock: ethers.toQuantity(deployBlock) }), []);
    // Block hash filter.
    const blk = await rpc(node.url, 'eth_getBlockByNumber', [ethers.toQuantity(single), false]);
    assert.deepEqual(ids(await q({ blockHash: blk.hash })), expect((p) => p[0] === single));
    // fromBlock > toBlock is an error, not a silent empty result or a crash.
    const bad = await rpcRaw(node.url, 'eth_getLogs', [{ fromBlock: ethers.toQuantity(head), toBlock: ethers.toQuantity(deployBlock) }]);
    assert.ok(bad.error || (Array.isArray(bad.result) && bad.result.length === 0), JSON.stringify(bad));
  });

  it('ethers contract events: queryFilter agrees', async () => {
    const events = await counter.queryFilter(counter.filters.Incremented(), deployBlock, 'latest');
    assert.equal(events.length, produced.filter((p) => p[1] === INCREMENTED).length);
    assert.deepEqual(events.map((e) => e.args.newCount), [8n, 9n, 11n, 15n]);
  });
});
