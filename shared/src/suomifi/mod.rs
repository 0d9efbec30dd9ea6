//! Client of the Suomi.fi Messages REST API (the parts this project uses).
//!
//! - [`SuomifiClient::token`]: `POST /v1/token`, retried on 5xx/transport errors.
//! - [`SuomifiClient::change_password`]: `POST /v1/change-password`, **never retried**: after a lost
//!   response the password may already have changed, and a blind retry would then fail with the
//!   old password. The caller probes and decides.
//! - [`SuomifiClient::events_page`] / [`SuomifiClient::event_pages`]: `GET /v2/events`, one page at
//!   a time (a page is at most 1,000 events; never more than one page is held).
//! - [`SuomifiClient::message`]: `GET /v2/messages/{id}`.
//!
//! Functions reach it through the [`SuomifiApi`] port; [`HttpSuomifi`] is its adapter over this
//! client (one connection pool per API base).
//!
//! Every error keeps the `traceId` response header that DVV support asks for.

mod base;
mod client;
mod error;
mod model;
mod port;

pub use base::{ApiBase, InsecureUrl};
pub use client::{ClientConfig, EventPages, RetryPolicy, SuomifiClient, Token};
pub use error::{ApiError, TraceId};
pub use model::{Event, EventMetadata, EventType, EventsPage, Message};
pub use port::{HttpSuomifi, SuomifiApi};
