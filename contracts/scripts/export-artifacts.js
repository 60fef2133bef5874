#!/usr/bin/env node
// The Rust code embeds { abi, bytecode, deployedBytecode } of some contracts from the
// committed files contracts/artifacts/<Name>.json. This script produces them from forge's
// build output (stable formatting, so they diff cleanly) or checks the committed ones.
//
// usage: node export-artifacts.js write <forge-out-dir> <artifacts-dir>
//        node export-artifacts.js check <forge-out-dir> <artifacts-dir>   (exit 1 on drift)
"use strict";
const fs = require("fs");
const path = require("path");

// Contract name -> source file under contracts/src.
const CONTRACTS = {
  L2OutputOracle: "L2OutputOracle.sol",
  ERC20: "ERC20.sol",
  Amm: "Amm.sol",
  L2ToL1MessagePasser: "L2ToL1MessagePasser.sol",
};

function render(outDir, name, file) {
  const src = path.join(outDir, file, `${name}.json`);
  const forge = JSON.parse(fs.readFileSync(src, "utf8"));
  const bytecode = forge.bytecode && forge.bytecode.object;
  const deployed = forge.deployedBytecode && forge.deployedBytecode.object;
  const hex = /^0x[0-9a-f]+$/;
  if (!Array.isArray(forge.abi) || !hex.test(bytecode || "") || !hex.test(deployed || "")) {
    throw new Error(`${src}: missing abi or bytecode (unlinked libraries?)`);
  }
  return JSON.stringify({ abi: forge.abi, bytecode, deployedBytecode: deployed }, null, 2) + "\n";
}

function describeDrift(committedText, builtText) {
  let committed;
  try {
    committed = JSON.parse(committedText);
  } catch (e) {
    return ["  committed file is not valid JSON"];
  }
  const built = JSON.parse(builtText);
  const out = [];
  const sig = (e) => JSON.stringify(e);
  const have = new Set((committed.abi || []).map(sig));
  const want = new Set(built.abi.map(sig));
  for (const e of want) if (!have.has(e)) out.push(`  abi: missing ${e}`);
  for (const e of have) if (!want.has(e)) out.push(`  abi: extra   ${e}`);
  for (const key of ["bytecode", "deployedBytecode"]) {
    if (committed[key] !== built[key]) out.push(`  ${key} differs`);
  }
  if (out.length === 0) out.push("  formatting differs");
  return out;
}

function main() {
  const [mode, outDir, artifactsDir] = process.argv.slice(2);
  if (!["write", "check"].includes(mode) || !outDir || !artifactsDir) {
    console.error("usage: export-artifacts.js write|check <forge-out-dir> <artifacts-dir>");
    process.exit(2);
  }
  if (mode === "write") {
    fs.mkdirSync(artifactsDir, { recursive: true });
    for (const [name, file] of Object.entries(CONTRACTS)) {
      fs.writeFileSync(path.join(artifactsDir, `${name}.json`), render(outDir, name, file));
    }
    console.log(`wrote ${Object.keys(CONTRACTS).map((n) => n + ".json").join(", ")} to ${artifactsDir}`);
    return;
  }
  const problems = [];
  for (const [name, file] of Object.entries(CONTRACTS)) {
    const target = path.join(artifactsDir, `${name}.json`);
    const built = render(outDir, name, file);
    if (!fs.existsSync(target)) {
      problems.push(`${name}.json is missing`);
    } else {
      const committed = fs.readFileSync(target, "utf8");
      if (committed !== built) problems.push(`${name}.json differs from the compiled source:`, ...describeDrift(committed, built));
    }
  }
  for (const f of fs.existsSync(artifactsDir) ? fs.readdirSync(artifactsDir) : []) {
    if (f.endsWith(".json") && !(f.slice(0, -5) in CONTRACTS)) problems.push(`${f} is not produced by the build`);
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`check-contracts: ${p}`);
    console.error(
      "check-contracts: FAIL: contracts/artifacts/ is stale; run `bash scripts/check-contracts.sh --update` and commit it"
    );
    process.exit(1);
  }
  console.log(`contracts/artifacts/ match the sources (${Object.keys(CONTRACTS).join(", ")})`);
}

main();
