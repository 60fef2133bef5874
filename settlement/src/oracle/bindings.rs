//! `sol!` bindings generated from the committed artifact (ABI and creation bytecode) of
//! `contracts/src/L2OutputOracle.sol`.

// Generated code: the ABI carries no docs, and `initialize` takes seven arguments.
#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    L2OutputOracle,
    "../contracts/artifacts/L2OutputOracle.json"
);
