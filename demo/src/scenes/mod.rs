//! The scenes, one module each: every one returns what it observed, or what went wrong.

mod certificates;
mod retrieval;
mod rotation;
mod updates;
