//! rotate-password
