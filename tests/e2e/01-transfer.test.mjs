// ETH transfers with viem, ethers v6 and cast: receipts, balances, transaction and block
// lookups, and the OP Stack fee vaults receiving the fees.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseEther, parseGwei } from 'viem';
import { ethers } from 'ethers';
import {
  startNode,
  rpc,
  cast,
  freshAccount,
  DEV_ACCOUNTS,
  DEV_KEYS,
  FEE_VAULTS,
} from './harness.mjs';

const SEQUENCER_VAULT = FEE_VAULTS.sequencer;

/** Balances of the four fee vaults at `block` (hex number). */
async function vaultBalances(url, block) {
  const out = {};
  for (const [name, addr] of Object.entries(FEE_VAULTS)) {
    out[name] = BigInt(await rpc(url, 'eth_getBalance', [addr, block]));
  }
  return out;
}

const hex = (n) => `0x${BigInt(n).toString(16)}`;

/**
 * Checks the fee accounting of block `number` against the block before it: the base fee
 * vault gets gasUsed*baseFee of every transaction, the sequencer vault (the beneficiary)
 * the priority fees, and all vaults together exactly what the senders paid beyond the
 * value (L2 execution fee + L1 data fee; the operator fee, if any, goes to its own vault).
 */
async function checkFeeVaults(url, number) {
  const block = await rpc(url, 'eth_getBlockByNumber', [hex(number), false]);
  const before = await vaultBalances(url, hex(number - 1n));
  const after = await vaultBalances(url, hex(number));
  const baseFee = BigInt(block.baseFeePerGas);
  let base = 0n;
  let tips = 0n;
  let l1 = 0n;
  for (const h of block.transactions) {
    const r = await rpc(url, 'eth_getTransactionReceipt', [h]);
    const gasUsed = BigInt(r.gasUsed);
    const price = BigInt(r.effectiveGasPrice);
    base += gasUsed * baseFee;
    tips += gasUsed * (price - baseFee);
    l1 += r.l1Fee ? BigInt(r.l1Fee) : 0n;
  }
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  assert.equal(delta.baseFee, base, `base fee vault delta in block ${number}`);
  assert.equal(delta.sequencer, tips, `sequencer fee vault delta in block ${number}`);
  assert.equal(delta.l1Fee, l1, `L1 fee vault delta in block ${number}`);
  assert.ok(delta.operator >= 0n, `operator fee vault lost balance in block ${number}`);
  return { delta, base, tips, l1, baseFee, block };
}

describe('ETH transfers', { timeout: 90_000 }, () => {
  let node;
  before(async () => {
    node = await startNode({ blockTime: 0 });
  });
  after(async () => {
    await node?.cleanup();
  });

  it('viem: send 1.5 ETH, receipt, balances, lookups, fee vaults', async () => {
    const pub = node.publicClient();
    const sender = DEV_ACCOUNTS[1];
    const wallet = node.walletClient(sender);
    const { account: to } = await freshAccount();
    const value = parseEther('1.5');
    const tip = parseGwei('1');
    const senderBefore = await pub.getBalance({ address: sender.address });
    const vaultsBefore = await vaultBalances(node.url, 'latest');
    const nonceBefore = await pub.getTransactionCount({ address: sender.address });

    const hash = await wallet.sendTransaction({ to: to.address, value, maxPriorityFeePerGas: tip });
    const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 20_000, pollingInterval: 100 });

    assert.equal(receipt.status, 'success');
    assert.equal(receipt.transactionHash, hash);
    assert.equal(receipt.from.toLowerCase(), sender.address.toLowerCase());
    assert.equal(receipt.to.toLowerCase(), to.address.toLowerCase());
    assert.equal(receipt.gasUsed, 21000n);
    assert.equal(receipt.cumulativeGasUsed >= receipt.gasUsed, true);
    assert.equal(receipt.contractAddress ?? null, null);
    assert.deepEqual(receipt.logs, []);
    assert.equal(receipt.type, 'eip1559');

    // Balances read at the receipt's block and at latest.
    assert.equal(await pub.getBalance({ address: to.address }), value);
    assert.equal(await pub.getBalance({ address: to.address, blockNumber: receipt.blockNumber }), value);
    assert.equal(await pub.getBalance({ address: to.address, blockNumber: receipt.blockNumber - 1n }), 0n);
    const raw = await rpc(node.url, 'eth_getTransactionReceipt', [hash]);
    const l1Fee = raw.l1Fee ? BigInt(raw.l1Fee) : 0n;
    const senderAfter = await pub.getBalance({ address: sender.address, blockNumber: receipt.blockNumber });
    assert.equal(await pub.getTransactionCount({ address: sender.address }), nonceBefore + 1);

    // Transaction and block lookups agree with the receipt.
    const tx = await pub.getTransaction({ hash });
    assert.equal(tx.hash, hash);
    assert.equal(tx.blockHash, receipt.blockHash);
    assert.equal(tx.blockNumber, receipt.blockNumber);
    assert.equal(tx.transactionIndex, receipt.transactionIndex);
    assert.equal(tx.value, value);
    assert.equal(tx.nonce, nonceBefore);
    assert.equal(tx.maxPriorityFeePerGas, tip);
    const block = await pub.getBlock({ blockNumber: receipt.blockNumber, includeTransactions: true });
    assert.equal(block.hash, receipt.blockHash);
    assert.equal(block.miner.toLowerCase(), SEQUENCER_VAULT.toLowerCase(), 'block beneficiary is the sequencer fee vault');
    assert.ok(block.transactions.some((t) => t.hash === hash), 'block lists the transaction');
    const byHash = await pub.getBlock({ blockHash: receipt.blockHash });
    assert.equal(byHash.number, receipt.blockNumber);
    assert.equal(byHash.stateRoot, block.stateRoot);
    assert.equal(
      BigInt(await rpc(node.url, 'eth_getBlockTransactionCountByNumber', [hex(receipt.blockNumber)])),
      BigInt(block.transactions.length),
    );
    assert.ok(receipt.effectiveGasPrice >= block.baseFeePerGas);
    assert.equal(receipt.effectiveGasPrice, block.baseFeePerGas + tip, 'effective price = base fee + tip');

    // Fee vaults.
    const { delta } = await checkFeeVaults(node.url, receipt.blockNumber);
    assert.equal(block.transactions.length, 1, 'with --block-time 0 the transfer has its own block');
    assert.equal(
      senderBefore - senderAfter,
      value + receipt.gasUsed * receipt.effectiveGasPrice + l1Fee + delta.operator,
      'sender paid value + gasUsed * effectiveGasPrice + L1 fee + operator fee',
    );
    assert.ok(delta.sequencer > 0n, 'sequencer fee vault (beneficiary) received the tip');
    if (block.baseFeePerGas > 0n) assert.ok(delta.baseFee > 0n, 'base fee vault received the base fee');
    const vaultsAfter = await vaultBalances(node.url, 'latest');
    const totalBefore = Object.values(vaultsBefore).reduce((a, b) => a + b, 0n);
    const totalAfter = Object.values(vaultsAfter).reduce((a, b) => a + b, 0n);
    assert.ok(totalAfter > totalBefore, 'vault balances increased');
  });

  it('cast: send 0.25 ETH, cast receipt, cast balance', async () => {
    const { account: to } = await freshAccount();
    const from = DEV_ACCOUNTS[2].address;
    const vaultsBefore = await vaultBalances(node.url, 'latest');
    const fromBefore = BigInt(await cast(['balance', from, '--rpc-url', node.url]));
    const out = await cast([
      'send',
      '--private-key', DEV_KEYS[2],
      '--rpc-url', node.url,
      '--timeout', '30',
      '--json',
      to.address,
      '--value', '0.25ether',
    ]);
    const receipt = JSON.parse(out);
    assert.equal(receipt.status, '0x1', out);
    assert.equal(receipt.from.toLowerCase(), from.toLowerCase());
    assert.equal(receipt.to.toLowerCase(), to.address.toLowerCase());
    assert.equal(BigInt(receipt.gasUsed), 21000n);

    const fetched = JSON.parse(await cast(['receipt', receipt.transactionHash, '--rpc-url', node.url, '--json']));
    assert.equal(fetched.blockHash, receipt.blockHash);
    assert.equal(fetched.status, '0x1');

    const bal = await cast(['balance', to.address, '--rpc-url', node.url]);
    assert.equal(BigInt(bal), parseEther('0.25'));
    const balEth = await cast(['balance', to.address, '--rpc-url', node.url, '--ether']);
    assert.match(balEth, /^0\.25(0*)?$/);
    const fromAfter = BigInt(await cast(['balance', from, '--rpc-url', node.url, '--block', String(BigInt(receipt.blockNumber))]));
    const l1Fee = receipt.l1Fee ? BigInt(receipt.l1Fee) : 0n;
    assert.equal(await cast(['chain-id', '--rpc-url', node.url]), String(node.chainId));
    assert.equal(BigInt(await cast(['block-number', '--rpc-url', node.url])) >= BigInt(receipt.blockNumber), true);
    assert.equal(await cast(['nonce', from, '--rpc-url', node.url]), '1');

    const { delta } = await checkFeeVaults(node.url, BigInt(receipt.blockNumber));
    assert.equal(
      fromBefore - fromAfter,
      parseEther('0.25') + BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) + l1Fee + delta.operator,
      'sender paid value + gasUsed * effectiveGasPrice + L1 fee + operator fee',
    );
    const vaultsAfter = await vaultBalances(node.url, 'latest');
    const paid = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) + l1Fee;
    const vaultTotal = Object.values(vaultsAfter).reduce((a, b) => a + b, 0n) - Object.values(vaultsBefore).reduce((a, b) => a + b, 0n);
    assert.ok(paid > 0n, 'the transaction paid a fee');
    assert.equal(vaultTotal >= paid, true, `vaults received ${vaultTotal}, sender paid ${paid} in fees (delta ${JSON.stringify(delta, (_, v) => (typeof v === 'bigint' ? v.toString() : v))})`);
  });

  it('ethers v6: send 0.1 ETH and wait for the receipt', async () => {
    const provider = new ethers.JsonRpcProvider(node.url, node.chainId, { staticNetwork: true, pollingInterval: 100 });
    try {
      const wallet = new ethers.Wallet(DEV_KEYS[3], provider);
      const { account: to } = await freshAccount();
      const tx = await wallet.sendTransaction({ to: to.address, value: ethers.parseEther('0.1') });
      const receipt = await tx.wait(1, 20_000);
      assert.equal(receipt.status, 1);
      assert.equal(receipt.hash, tx.hash);
      assert.equal(await provider.getBalance(to.address), ethers.parseEther('0.1'));
      const fetched = await provider.getTransaction(tx.hash);
      assert.equal(fetched.blockNumber, receipt.blockNumber);
      assert.equal(await provider.getTransactionCount(wallet.address, 'latest'), 1);
      await checkFeeVaults(node.url, BigInt(receipt.blockNumber));
    } finally {
      provider.destroy();
    }
  });

  it('several transfers from one sender in a row are all mined in nonce order', async () => {
    const pub = node.publicClient();
    const sender = DEV_ACCOUNTS[4];
    const wallet = node.walletClient(sender);
    const { account: to } = await freshAccount();
    const start = await pub.getTransactionCount({ address: sender.address });
    const hashes = [];
    for (let i = 0; i < 5; i++) {
      hashes.push(await wallet.sendTransaction({ to: to.address, value: 1000n + BigInt(i), nonce: start + i, gas: 21000n }));
    }
    const receipts = await Promise.all(hashes.map((hash) => pub.waitForTransactionReceipt({ hash, timeout: 20_000, pollingInterval: 100 })));
    for (const r of receipts) assert.equal(r.status, 'success');
    assert.equal(await pub.getBalance({ address: to.address }), 5010n);
    assert.equal(await pub.getTransactionCount({ address: sender.address }), start + 5);
    const order = receipts.map((r) => [r.blockNumber, r.transactionIndex]);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    assert.deepEqual(order, sorted, 'mined in nonce order');
  });
});
