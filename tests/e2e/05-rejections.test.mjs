// Mempool rejections over raw eth_sendRawTransaction, each with geth's exact message and
// code -32000: transactions hand-signed with viem's signTransaction (and hand-built RLP for
// the deposit type).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseGwei,
  parseTransaction,
  serializeTransaction,
  toRlp,
  concatHex,
  keccak256,
  toHex,
  numberToHex,
} from 'viem';
import { startNode, rpc, rpcRaw, waitForReceipt, freshAccount, assertAlive, DEV_ACCOUNTS } from './harness.mjs';

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe('transaction rejections', { timeout: 90_000 }, () => {
  let node;
  let fees;
  const sender = DEV_ACCOUNTS[6];
  const to = '0x000000000000000000000000000000000000dEaD';

  before(async () => {
    node = await startNode({ blockTime: 0 });
    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const baseFee = BigInt(latest.baseFeePerGas);
    fees = { maxFeePerGas: baseFee * 2n + parseGwei('2'), maxPriorityFeePerGas: parseGwei('1') };
  });
  after(async () => {
    await node?.cleanup();
  });

  async function nonceOf(addr) {
    return Number(await rpc(node.url, 'eth_getTransactionCount', [addr, 'pending']));
  }

  async function sign(overrides = {}, account = sender) {
    const nonce = overrides.nonce ?? (await nonceOf(account.address));
    return account.signTransaction({
      chainId: node.chainId,
      type: 'eip1559',
      nonce,
      to,
      value: 1n,
      gas: 21000n,
      ...fees,
      ...overrides,
    });
  }

  /** Sends `raw` and asserts the exact rejection; returns the error. */
  async function expectRejected(raw, message) {
    const res = await rpcRaw(node.url, 'eth_sendRawTransaction', [raw]);
    assert.ok(res.error, `expected "${message}", but the node accepted it: ${JSON.stringify(res)}`);
    assert.equal(res.error.message, message);
    assert.equal(res.error.code, -32000, `code for "${message}"`);
    // A rejected transaction is not pooled.
    assert.equal(await rpc(node.url, 'eth_getTransactionByHash', [keccak256(raw)]), null);
    assertAlive(node);
    return res.error;
  }

  it('control: a well-formed transaction is accepted and mined', async () => {
    const raw = await sign();
    const hash = await rpc(node.url, 'eth_sendRawTransaction', [raw]);
    assert.equal(hash, keccak256(raw));
    const receipt = await waitForReceipt(node.url, hash);
    assert.equal(receipt.status, '0x1');
  });

  it('nonce too low (nonce of an already mined transaction)', async () => {
    const mined = Number(await rpc(node.url, 'eth_getTransactionCount', [sender.address, 'latest']));
    assert.ok(mined >= 1);
    await expectRejected(await sign({ nonce: mined - 1, value: 12345n }), 'nonce too low');
  });

  it('already known (the same transaction twice)', async () => {
    // A nonce gap keeps it queued in the pool, so the second copy meets the first.
    const acct = DEV_ACCOUNTS[5];
    const nonce = (await nonceOf(acct.address)) + 3;
    const raw = await sign({ nonce }, acct);
    const first = await rpcRaw(node.url, 'eth_sendRawTransaction', [raw]);
    assert.equal(first.result, keccak256(raw), JSON.stringify(first));
    const res = await rpcRaw(node.url, 'eth_sendRawTransaction', [raw]);
    assert.equal(res.error?.message, 'already known', JSON.stringify(res));
    assert.equal(res.error?.code, -32000);
  });

  it('insufficient funds for gas * price + value (fresh unfunded key)', async () => {
    const { account } = await freshAccount();
    await expectRejected(await sign({ nonce: 0 }, account), 'insufficient funds for gas * price + value');
    // Funded but not enough for the value.
    const bal = BigInt(await rpc(node.url, 'eth_getBalance', [sender.address, 'latest']));
    await expectRejected(await sign({ value: bal }), 'insufficient funds for gas * price + value');
  });

  it('intrinsic gas too low (gas 20000 for a transfer)', async () => {
    await expectRejected(await sign({ gas: 20_000n }), 'intrinsic gas too low');
  });

  it('exceeds block gas limit (gas above 30M)', async () => {
    const latest = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    assert.equal(BigInt(latest.gasLimit), 30_000_000n);
    await expectRejected(await sign({ gas: 30_000_001n }), 'exceeds block gas limit');
  });

  it('oversized data (130 KiB of calldata)', async () => {
    const data = `0x${'ab'.repeat(130 * 1024)}`;
    await expectRejected(await sign({ data, gas: 25_000_000n }), 'oversized data');
  });

  it('invalid chain id (EIP-155 legacy transaction for chain 1, and EIP-1559 for another chain)', async () => {
    const nonce = await nonceOf(sender.address);
    const legacy = await sender.signTransaction({
      chainId: 1,
      type: 'legacy',
      nonce,
      to,
      value: 1n,
      gas: 21000n,
      gasPrice: fees.maxFeePerGas,
    });
    // The v of an EIP-155 signature for chain 1 is 37 or 38.
    const parsed = parseTransaction(legacy);
    assert.equal(parsed.chainId, 1);
    await expectRejected(legacy, 'invalid chain id');
    await expectRejected(await sign({ chainId: node.chainId + 1 }), 'invalid chain id');
  });

  it('transaction type not supported: deposit (0x7E) payload', async () => {
    // OP deposit: 0x7E || rlp([sourceHash, from, to, mint, value, gas, isSystemTx, data])
    const deposit = concatHex([
      '0x7e',
      toRlp([
        keccak256(toHex('e2e-source')),
        sender.address,
        to,
        numberToHex(10n ** 18n),
        numberToHex(10n ** 18n),
        numberToHex(100_000n),
        '0x',
        '0x',
      ]),
    ]);
    await expectRejected(deposit, 'transaction type not supported');
  });

  it('transaction type not supported: blob (type 3) transaction', async () => {
    const raw = await sign({
      type: 'eip4844',
      blobVersionedHashes: [`0x01${'11'.repeat(31)}`],
      maxFeePerBlobGas: parseGwei('1'),
    });
    assert.equal(raw.slice(0, 4), '0x03');
    await expectRejected(raw, 'transaction type not supported');
  });

  it('invalid sender (tampered signature: high-s form of a valid signature)', async () => {
    const raw = await sign();
    const tx = parseTransaction(raw);
    const s = BigInt(tx.s);
    const highS = SECP256K1_N - s;
    const tampered = serializeTransaction(
      { ...tx, type: 'eip1559' },
      { r: tx.r, s: numberToHex(highS, { size: 32 }), yParity: tx.yParity === 0 ? 1 : 0 },
    );
    assert.notEqual(tampered, raw);
    await expectRejected(tampered, 'invalid sender');
  });

  it('invalid sender (r = 0)', async () => {
    const raw = await sign();
    const tx = parseTransaction(raw);
    const tampered = serializeTransaction(
      { ...tx, type: 'eip1559' },
      { r: numberToHex(0n, { size: 32 }), s: tx.s, yParity: tx.yParity },
    );
    await expectRejected(tampered, 'invalid sender');
  });

  it('after all rejections the node still accepts and mines transactions', async () => {
    const raw = await sign();
    const hash = await rpc(node.url, 'eth_sendRawTransaction', [raw]);
    const receipt = await waitForReceipt(node.url, hash);
    assert.equal(receipt.status, '0x1');
  });
});
