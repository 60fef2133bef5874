#!/usr/bin/env python3
"""End-to-end test with web3.py (tests/.venv, web3 8.0.0): start `altius run` on a free port
with a fresh datadir, sign a transfer with a dev key, send_raw_transaction,
wait_for_transaction_receipt, check the balances.

Run from the repo root:  tests/.venv/bin/python tests/e2e/test_web3.py
The binary is $ALTIUS_BIN, default target/debug/altius (relative to the repo root).
Prints a final line "N passed, M failed" and exits non-zero on any failure.
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
from pathlib import Path

from eth_account import Account
from web3 import Web3

REPO_ROOT = Path(__file__).resolve().parents[2]
ALTIUS_BIN = Path(os.environ.get("ALTIUS_BIN", "target/debug/altius"))
if not ALTIUS_BIN.is_absolute():
    ALTIUS_BIN = REPO_ROOT / ALTIUS_BIN

FIRST_DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
FIRST_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SECOND_DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEV_CHAIN_ID = 901337
START_TIMEOUT = 30.0
OVERALL_TIMEOUT = 150.0

LIVE: list = []  # every started child, killed at exit whatever happens


def kill_all() -> None:
    for p in LIVE:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass


atexit.register(kill_all)


class Node:
    """One `altius run` child process; always killed by stop()."""

    def __init__(self, block_time: float = 0):
        if not ALTIUS_BIN.exists():
            raise RuntimeError(
                f"altius binary not found at {ALTIUS_BIN} "
                "(cargo build -p altius-sequencer, or set ALTIUS_BIN)"
            )
        self.tmp = tempfile.mkdtemp(prefix="altius-e2e-py-")
        self.datadir = os.path.join(self.tmp, "data")
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        self.proc = subprocess.Popen(
            [str(ALTIUS_BIN), "run", "--datadir", self.datadir, "--http-port", "0",
             "--block-time", str(block_time)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        LIVE.append(self.proc)
        self.port = None
        ready = threading.Event()

        def read_stdout():
            for line in self.proc.stdout:
                self.stdout_lines.append(line)
                m = re.search(r"Listening on (\S+):(\d+)", line)
                if m and self.port is None:
                    self.port = int(m.group(2))
                    ready.set()
            ready.set()  # EOF: the process ended

        def read_stderr():
            for line in self.proc.stderr:
                self.stderr_lines.append(line)
                if len(self.stderr_lines) > 5000:
                    del self.stderr_lines[:1000]

        threading.Thread(target=read_stdout, daemon=True).start()
        threading.Thread(target=read_stderr, daemon=True).start()
        ready.wait(START_TIMEOUT)
        if self.port is None:
            self.stop()
            raise RuntimeError(
                "altius did not print its listening line\nstdout:\n"
                + "".join(self.stdout_lines) + "\nstderr:\n" + "".join(self.stderr_lines[-40:])
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def stderr_tail(self, n: int = 40) -> str:
        return "".join(self.stderr_lines[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Web3Py(unittest.TestCase):
    node: Node
    w3: Web3

    @classmethod
    def setUpClass(cls):
        cls.node = Node(block_time=0)
        cls.w3 = Web3(Web3.HTTPProvider(cls.node.url, request_kwargs={"timeout": 15}))

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def test_connected_and_chain(self):
        self.assertTrue(self.w3.is_connected())
        self.assertEqual(self.w3.eth.chain_id, DEV_CHAIN_ID)
        self.assertEqual(self.w3.eth.accounts, [])
        self.assertEqual(self.w3.eth.get_balance(FIRST_DEV_ADDRESS, 0), 10_000 * 10**18)
        self.assertIsInstance(self.w3.client_version, str)
        self.assertGreaterEqual(self.w3.eth.block_number, 0)

    def test_signed_transfer_and_receipt(self):
        w3 = self.w3
        acct = Account.from_key(FIRST_DEV_KEY)
        self.assertEqual(acct.address, FIRST_DEV_ADDRESS)
        recipient = Account.create().address
        value = Web3.to_wei(1.25, "ether")
        sender_before = w3.eth.get_balance(acct.address)
        nonce = w3.eth.get_transaction_count(acct.address, "pending")
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        tip = Web3.to_wei(1, "gwei")
        tx = {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": nonce,
            "to": recipient,
            "value": value,
            "gas": 21000,
            "maxFeePerGas": base_fee * 2 + tip,
            "maxPriorityFeePerGas": tip,
        }
        signed = acct.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        self.assertEqual(tx_hash, signed.hash)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.1)
        self.assertEqual(receipt["status"], 1)
        self.assertEqual(receipt["transactionHash"], tx_hash)
        self.assertEqual(receipt["from"], acct.address)
        self.assertEqual(receipt["to"], recipient)
        self.assertEqual(receipt["gasUsed"], 21000)
        self.assertEqual(w3.eth.get_balance(recipient), value)
        sender_after = w3.eth.get_balance(acct.address, receipt["blockNumber"])
        raw_l1 = receipt.get("l1Fee")
        l1_fee = int(raw_l1, 16) if isinstance(raw_l1, str) else int(raw_l1 or 0)
        paid = sender_before - sender_after
        self.assertGreaterEqual(paid, value + receipt["gasUsed"] * receipt["effectiveGasPrice"] + l1_fee)
        self.assertEqual(w3.eth.get_transaction_count(acct.address), nonce + 1)
        fetched = w3.eth.get_transaction(tx_hash)
        self.assertEqual(fetched["blockHash"], receipt["blockHash"])
        self.assertEqual(fetched["value"], value)
        block = w3.eth.get_block(receipt["blockNumber"])
        self.assertIn(tx_hash, block["transactions"])
        self.assertEqual(block["miner"], "0x4200000000000000000000000000000000000011")

    def test_rejection_message(self):
        # Nonce too low, via web3.py: the geth message reaches the client.
        w3 = self.w3
        acct = Account.from_key(SECOND_DEV_KEY)
        base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
        def sign(nonce, value):
            return acct.sign_transaction({
                "type": 2, "chainId": w3.eth.chain_id, "nonce": nonce,
                "to": FIRST_DEV_ADDRESS, "value": value, "gas": 21000,
                "maxFeePerGas": base_fee * 2 + 10**9, "maxPriorityFeePerGas": 10**9,
            })
        nonce = w3.eth.get_transaction_count(acct.address, "pending")
        h = w3.eth.send_raw_transaction(sign(nonce, 1).raw_transaction)
        w3.eth.wait_for_transaction_receipt(h, timeout=20, poll_latency=0.1)
        with self.assertRaises(Exception) as ctx:
            w3.eth.send_raw_transaction(sign(nonce, 2).raw_transaction)
        self.assertIn("nonce too low", str(ctx.exception))


def _deadline() -> None:
    print(f"test_web3.py: overall timeout of {OVERALL_TIMEOUT:.0f} s reached", file=sys.stderr)
    kill_all()
    print("0 passed, 1 failed", flush=True)
    os._exit(3)


def main() -> int:
    deadline = threading.Timer(OVERALL_TIMEOUT, _deadline)  # never hang
    deadline.daemon = True
    deadline.start()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Web3Py)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout)
    try:
        result = runner.run(suite)
    except Exception:  # pragma: no cover - setUpClass errors are reported by unittest
        traceback.print_exc()
        print("0 passed, 1 failed")
        return 1
    total = result.testsRun
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    if total == 0 and failed == 0:
        failed = 1  # setUpClass failed before any test ran
    if getattr(Web3Py, "node", None) is not None and failed:
        print("altius stderr tail:\n" + Web3Py.node.stderr_tail(), file=sys.stderr)
    passed = max(total - failed, 0)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
