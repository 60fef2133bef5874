// eth_getProof: the account proof's first node hashes to the block's state root, and the
// whole Merkle-Patricia path verifies (account fields, storage slots, absent keys).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, fromRlp, toRlp, pad, numberToHex, hexToBigInt } from 'viem';
import {
  startNode,
  rpc,
  waitForReceipt,
  freshAccount,
  DEV_ACCOUNTS,
  FIRST_DEV_ADDRESS,
  EMITTER_WITH_STORAGE_INIT,
  EMITTER_RUNTIME,
} from './harness.mjs';

const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';
const EMPTY_CODE_HASH = '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';

function nibbles(hex) {
  return hex.slice(2).split('').map((c) => parseInt(c, 16));
}

/** Hex-prefix decoding: returns {leaf, path (nibbles)}. */
function decodePath(encoded) {
  const n = nibbles(encoded);
  const flag = n[0];
  const leaf = flag >= 2;
  const odd = flag % 2 === 1;
  return { leaf, path: odd ? n.slice(1) : n.slice(2) };
}

/**
 * Verifies a Merkle-Patricia proof of `key` (hex, already hashed) against `root`.
 * Returns the value (hex RLP payload) or null for a proof of absence; throws if the proof
 * is inconsistent.
 */
function verifyProof(root, key, proof) {
  const keyNibbles = nibbles(key);
  let expected = root.toLowerCase();
  let pos = 0;
  for (let i = 0; i < proof.length; i++) {
    const nodeHex = proof[i].toLowerCase();
    const hash = keccak256(nodeHex);
    if (i === 0 || nodeHex.length - 2 >= 64) {
      assert.equal(hash, expected, `proof node ${i} does not hash to the reference in its parent`);
    } else {
      assert.equal(nodeHex, expected, `embedded proof node ${i} mismatch`);
    }
    const node = fromRlp(nodeHex, 'hex');
    assert.ok(Array.isArray(node), `proof node ${i} is not a list`);
    let next;
    if (node.length === 17) {
      if (pos === keyNibbles.length) return node[16] === '0x' ? null : node[16];
      next = node[keyNibbles[pos]];
      pos += 1;
    } else if (node.length === 2) {
      const { leaf, path } = decodePath(node[0]);
      const rest = keyNibbles.slice(pos, pos + path.length);
      if (rest.length !== path.length || rest.some((x, j) => x !== path[j])) {
        // Diverging path: proof of absence; it must be the last node.
        assert.equal(i, proof.length - 1, 'absence proof continues after a diverging node');
        return null;
      }
      pos += path.length;
      if (leaf) {
        assert.equal(pos, keyNibbles.length, 'leaf before the end of the key');
        assert.equal(i, proof.length - 1, 'proof continues after a leaf');
        return node[1];
      }
      next = node[1];
    } else {
      assert.fail(`proof node ${i} has ${node.length} items`);
    }
    if (Array.isArray(next)) {
      // Embedded child node (shorter than 32 bytes): continue with its encoding.
      expected = toRlp(next);
      continue;
    }
    if (next === '0x') {
      assert.equal(i, proof.length - 1, 'absence proof continues after an empty slot');
      return null;
    }
    expected = next.toLowerCase();
  }
  assert.fail('proof ended before reaching a leaf or an empty slot');
}

const quantity = (hex) => (hex === '0x' ? 0n : hexToBigInt(hex));

function checkAccountProof(proof, stateRoot) {
  assert.equal(keccak256(proof.accountProof[0]), stateRoot, 'keccak(accountProof[0]) == stateRoot');
  const value = verifyProof(stateRoot, keccak256(proof.address), proof.accountProof);
  if (value === null) {
    assert.equal(BigInt(proof.balance), 0n);
    assert.equal(BigInt(proof.nonce), 0n);
    assert.equal(proof.codeHash, EMPTY_CODE_HASH);
    assert.equal(proof.storageHash, EMPTY_ROOT);
    return null;
  }
  const [nonce, balance, storageRoot, codeHash] = fromRlp(value, 'hex');
  assert.equal(quantity(nonce), BigInt(proof.nonce), 'nonce in the leaf');
  assert.equal(quantity(balance), BigInt(proof.balance), 'balance in the leaf');
  assert.equal(storageRoot, proof.storageHash, 'storage root in the leaf');
  assert.equal(codeHash, proof.codeHash, 'code hash in the leaf');
  return { nonce: quantity(nonce), balance: quantity(balance), storageRoot, codeHash };
}

describe('eth_getProof', { timeout: 60_000 }, () => {
  let node;
  let txBlock;
  let contract;
  before(async () => {
    node = await startNode({ blockTime: 0 });
    const wallet = node.walletClient(DEV_ACCOUNTS[0]);
    const h = await wallet.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 10n ** 15n });
    txBlock = BigInt((await waitForReceipt(node.url, h)).blockNumber);
    const d = await wallet.sendTransaction({ data: EMITTER_WITH_STORAGE_INIT, gas: 200_000n });
    contract = (await waitForReceipt(node.url, d)).contractAddress;
  });
  after(async () => {
    await node?.cleanup();
  });

  it('dev account proof at latest: first node hashes to the state root, path verifies', async () => {
    const block = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const proof = await rpc(node.url, 'eth_getProof', [FIRST_DEV_ADDRESS, [], block.number]);
    assert.equal(proof.address.toLowerCase(), FIRST_DEV_ADDRESS.toLowerCase());
    assert.ok(proof.accountProof.length >= 1);
    const acct = checkAccountProof(proof, block.stateRoot);
    assert.ok(acct, 'a funded dev account is present in the trie');
    assert.equal(acct.balance, BigInt(await rpc(node.url, 'eth_getBalance', [FIRST_DEV_ADDRESS, block.number])));
    assert.equal(acct.nonce, BigInt(await rpc(node.url, 'eth_getTransactionCount', [FIRST_DEV_ADDRESS, block.number])));
    assert.equal(acct.nonce, 2n);
    assert.equal(proof.codeHash, EMPTY_CODE_HASH);
    assert.equal(proof.storageHash, EMPTY_ROOT);
    assert.deepEqual(proof.storageProof, []);
  });

  it('proof at the genesis block against the genesis state root', async () => {
    const genesis = await rpc(node.url, 'eth_getBlockByNumber', ['0x0', false]);
    const proof = await rpc(node.url, 'eth_getProof', [FIRST_DEV_ADDRESS, [], '0x0']);
    const acct = checkAccountProof(proof, genesis.stateRoot);
    assert.equal(acct.balance, 10_000n * 10n ** 18n);
    assert.equal(acct.nonce, 0n);
  });

  it('proof at an older block (before the latest transactions)', async () => {
    const b = await rpc(node.url, 'eth_getBlockByNumber', [numberToHex(txBlock), false]);
    const proof = await rpc(node.url, 'eth_getProof', [FIRST_DEV_ADDRESS, [], b.number]);
    const acct = checkAccountProof(proof, b.stateRoot);
    assert.equal(acct.nonce, 1n);
  });

  it('contract: code hash and storage proofs of set and unset slots', async () => {
    const block = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const slots = ['0x0', '0x1', '0x2'];
    const proof = await rpc(node.url, 'eth_getProof', [contract, slots.map((s) => pad(s)), block.number]);
    const acct = checkAccountProof(proof, block.stateRoot);
    assert.equal(acct.codeHash, keccak256(EMITTER_RUNTIME));
    assert.notEqual(acct.storageRoot, EMPTY_ROOT);
    assert.equal(proof.storageProof.length, 3);
    const want = [0x2an, 0x1234n, 0n];
    for (const [i, sp] of proof.storageProof.entries()) {
      assert.equal(BigInt(sp.key), BigInt(slots[i]));
      assert.equal(BigInt(sp.value), want[i], `slot ${i} value`);
      const v = verifyProof(acct.storageRoot, keccak256(pad(slots[i])), sp.proof);
      if (want[i] === 0n) assert.equal(v, null, 'unset slot: proof of absence');
      else assert.equal(quantity(fromRlp(v, 'hex')), want[i], `slot ${i} proven value`);
    }
  });

  it('absent account: a valid proof of absence with empty fields', async () => {
    const { account } = await freshAccount();
    const block = await rpc(node.url, 'eth_getBlockByNumber', ['latest', false]);
    const proof = await rpc(node.url, 'eth_getProof', [account.address, [], block.number]);
    assert.equal(checkAccountProof(proof, block.stateRoot), null);
  });
});
