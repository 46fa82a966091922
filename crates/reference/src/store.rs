//! In-memory state of the files, batches and responses endpoints (lost when the server stops).
//!
//! The store is bounded so a long-running endpoint (or a hostile client) cannot grow it without
//! limit: past [`MAX_FILES`] files or [`MAX_FILE_BYTES`] bytes of content, [`MAX_BATCHES`]
//! batches or [`MAX_RESPONSES`] stored responses, the oldest entries are evicted first. A
//! client then gets a 404 for an evicted object, as it would for one past its expiry.

use serde_json::Value;

use crate::content::Message;

/// Files kept at most.
pub(crate) const MAX_FILES: usize = 1000;
/// Bytes of file content kept at most (every file together).
pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;
/// Batches kept at most.
pub(crate) const MAX_BATCHES: usize = 1000;
/// Stored responses kept at most.
pub(crate) const MAX_RESPONSES: usize = 1000;

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

/// A response created with `store: true`.
#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    /// The `response` object as returned.
    pub object: Value,
    /// The conversation so far (without `instructions`), for `previous_response_id`.
    pub history: Vec<Message>,
    /// Every function call id of the conversation.
    pub call_ids: Vec<String>,
}

/// Everything the endpoint remembers, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub files: Vec<StoredFile>,
    pub batches: Vec<StoredBatch>,
    pub responses: Vec<StoredResponse>,
    /// Increments per created object so ids differ even for identical requests.
    pub counter: u64,
}

impl Store {
    /// The file with `id`.
    pub fn file(&self, id: &str) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.object["id"] == id)
    }

    /// Keeps a file, evicting the oldest ones beyond the limits.
    pub fn add_file(&mut self, file: StoredFile) {
        self.files.push(file);
        let mut bytes: usize = self.files.iter().map(|f| f.content.len()).sum();
        while self.files.len() > MAX_FILES || (bytes > MAX_FILE_BYTES && self.files.len() > 1) {
            bytes -= self.files.remove(0).content.len();
        }
    }

    /// The batch with `id`.
    pub fn batch_mut(&mut self, id: &str) -> Option<&mut StoredBatch> {
        self.batches.iter_mut().find(|b| b.object["id"] == id)
    }

    /// Keeps a batch, evicting the oldest beyond the limit.
    pub fn add_batch(&mut self, batch: StoredBatch) {
        self.batches.push(batch);
        if self.batches.len() > MAX_BATCHES {
            self.batches.remove(0);
        }
    }

    /// The stored response with `id`.
    pub fn response(&self, id: &str) -> Option<&StoredResponse> {
        self.responses.iter().find(|r| r.object["id"] == id)
    }

    /// Keeps a response, evicting the oldest beyond the limit.
    pub fn add_response(&mut self, response: StoredResponse) {
        self.responses.push(response);
        if self.responses.len() > MAX_RESPONSES {
            self.responses.remove(0);
        }
    }

    /// Forgets the response with `id`; whether there was one.
    pub fn remove_response(&mut self, id: &str) -> bool {
        let before = self.responses.len();
        self.responses.retain(|r| r.object["id"] != id);
        self.responses.len() != before
    }

    /// A fresh sequence number for an id.
    pub fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(n: usize, len: usize) -> StoredFile {
        StoredFile {
            object: json!({ "id": format!("file-{n}") }),
            content: vec![0; len],
        }
    }

    #[test]
    fn the_oldest_files_go_first_past_the_count_and_byte_limits() {
        let mut s = Store::default();
        for n in 0..MAX_FILES + 5 {
            s.add_file(file(n, 1));
        }
        assert_eq!(s.files.len(), MAX_FILES);
        assert!(s.file("file-4").is_none() && s.file("file-5").is_some());
        let mut s = Store::default();
        s.add_file(file(0, MAX_FILE_BYTES / 2));
        s.add_file(file(1, MAX_FILE_BYTES / 2));
        s.add_file(file(2, 10));
        assert!(s.file("file-0").is_none());
        assert!(s.file("file-1").is_some() && s.file("file-2").is_some());
        // One file larger than the whole budget is still kept (it was accepted).
        let mut s = Store::default();
        s.add_file(file(0, MAX_FILE_BYTES + 1));
        assert_eq!(s.files.len(), 1);
    }

    #[test]
    fn responses_and_batches_are_bounded() {
        let mut s = Store::default();
        for n in 0..MAX_RESPONSES + 1 {
            s.add_response(StoredResponse {
                object: json!({ "id": format!("resp_{n}") }),
                history: vec![],
                call_ids: vec![],
            });
            s.add_batch(StoredBatch {
                object: json!({ "id": format!("batch_{n}") }),
                retrievals: 0,
            });
        }
        assert_eq!(s.responses.len(), MAX_RESPONSES);
        assert!(s.response("resp_0").is_none());
        assert_eq!(s.batches.len(), MAX_BATCHES);
        assert!(s.remove_response("resp_1") && !s.remove_response("resp_1"));
    }
}
