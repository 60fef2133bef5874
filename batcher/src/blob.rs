//! The OP Stack version-0 blob encoding, shared with the `ethereum-blobs` DA backend that
//! puts batcher transaction data into blobs (it is byte-level, so it lives in `altius-da`).

pub use altius_da::{
    BLOB_ENCODING_VERSION, BLOB_SIZE, MAX_BLOB_DATA_SIZE, MAX_BLOB_FRAME_SIZE, decode_blob,
    encode_blob,
};
