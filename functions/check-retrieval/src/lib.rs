//! check-retrieval
