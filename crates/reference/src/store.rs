//! In-memory state of the files and batches endpoints (lost when the server stops).

use serde_json::Value;

/// An uploaded (or generated) file.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    /// The `file` object as returned by the API.
    pub object: Value,
    pub content: Vec<u8>,
}

/// A batch and how often it was retrieved (its status advances per retrieval).
#[derive(Debug, Clone)]
pub(crate) struct StoredBatch {
    /// The `batch` object as last returned.
    pub object: Value,
    pub retrievals: u32,
}

/// Everything the endpoint remembers, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub files: Vec<StoredFile>,
    pub batches: Vec<StoredBatch>,
    /// Increments per created object so ids differ even for identical uploads.
    pub counter: u64,
}

impl Store {
    /// The file with `id`.
    pub fn file(&self, id: &str) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.object["id"] == id)
    }

    /// The batch with `id`.
    pub fn batch_mut(&mut self, id: &str) -> Option<&mut StoredBatch> {
        self.batches.iter_mut().find(|b| b.object["id"] == id)
    }

    /// A fresh sequence number for an id.
    pub fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}
