//! Counting the citizens' messages that wait in `GET /v2/events`.
//!
//! [`BacklogCounter`] keeps counters only — never the events — so a scan of a million events holds
//! one page (≤ 1,000 events) at a time and a few numbers per service. [`scan`] drives it over the
//! [`SuomifiApi`] port, page by page, with a page bound and a time budget, and reports where it
//! stopped.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};
use suomifi_shared::sensitive::AccessToken;
use suomifi_shared::suomifi::{ApiBase, ApiError, Event, EventType, SuomifiApi};
use time::OffsetDateTime;

/// Pages one run reads at most (5,000 pages ≈ 5 million events). Past it the count is a lower
/// bound and the report says `truncated`.
pub const MAX_PAGES_PER_RUN: u32 = 5_000;

/// Distinct `serviceId`s counted one by one; further ones are added up under [`OTHER_SERVICES`]
/// so that a feed with unexpected ids cannot grow memory without bound.
pub const MAX_SERVICES: usize = 200;

/// The `byService` entry for end-user events without a `serviceId`.
pub const NO_SERVICE: &str = "(no serviceId)";

/// The `byService` entry collecting services past [`MAX_SERVICES`].
pub const OTHER_SERVICES: &str = "(other services)";

/// Messages waiting for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBacklog {
    /// End-user messages seen.
    pub count: u64,
    /// Event time of the oldest of them.
    #[serde(with = "time::serde::rfc3339")]
    pub oldest_event_time: OffsetDateTime,
}

/// What a scan saw: counters only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BacklogCounter {
    /// `Electronic message from end user` events seen.
    pub count: u64,
    /// Of those, how many happened before the grace cut-off.
    pub over_grace: u64,
    /// Event time of the oldest one (the minimum: the API promises no ordering).
    pub oldest: Option<OffsetDateTime>,
    /// Per `serviceId`.
    pub by_service: BTreeMap<String, ServiceBacklog>,
    /// Events of any type seen (unknown types included; they are not counted as messages).
    pub events: u64,
    /// Pages read, the final empty one included.
    pub pages: u32,
}

impl BacklogCounter {
    /// Counts one event: only end-user messages matter; every other type, known or not, is
    /// skipped. `grace_cutoff`: messages older than this are overdue.
    pub fn observe(&mut self, event: &Event, grace_cutoff: OffsetDateTime) {
        self.events += 1;
        if event.event_type != EventType::EndUserMessage {
            return;
        }
        let at = event.event_time;
        self.count += 1;
        if at < grace_cutoff {
            self.over_grace += 1;
        }
        if self.oldest.is_none_or(|o| at < o) {
            self.oldest = Some(at);
        }
        let service = event.metadata.service_id.as_deref().unwrap_or(NO_SERVICE);
        // Look up by &str first: no allocation per event for services already known.
        let entry = match self.by_service.get_mut(service) {
            Some(e) => e,
            None => {
                let name = if self.by_service.len() < MAX_SERVICES {
                    service
                } else {
                    OTHER_SERVICES
                };
                self.by_service
                    .entry(name.to_owned())
                    .or_insert(ServiceBacklog {
                        count: 0,
                        oldest_event_time: at,
                    })
            }
        };
        entry.count += 1;
        if at < entry.oldest_event_time {
            entry.oldest_event_time = at;
        }
    }
}

/// Why a scan stopped before an empty page.
#[derive(Debug)]
pub enum Stop {
    /// It reached an empty page: everything was read.
    Complete,
    /// [`MAX_PAGES_PER_RUN`] (or the configured bound) was reached.
    PageLimit,
    /// The time budget ran out (the Lambda deadline is near).
    TimeBudget,
    /// The API failed; `on_first_page` tells whether anything was read at all.
    Failed {
        /// The error.
        error: ApiError,
        /// Whether it was the first request (then nothing was read).
        on_first_page: bool,
    },
}

/// The result of [`scan`].
#[derive(Debug)]
pub struct ScanOutcome {
    /// The counters.
    pub counter: BacklogCounter,
    /// Why it stopped.
    pub stop: Stop,
    /// The continuation token of the last page read: where a reader would resume.
    pub resume_token: Option<String>,
    /// How long the first page took (the API check's latency).
    pub first_page_latency: Option<StdDuration>,
}

impl ScanOutcome {
    /// Whether every page up to the first empty one was read.
    pub fn is_complete(&self) -> bool {
        matches!(self.stop, Stop::Complete)
    }
}

/// How far one scan may go.
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// Most pages to read.
    pub max_pages: u32,
    /// Stop before reading another page once this instant has passed.
    pub deadline: Option<Instant>,
}

impl Default for ScanLimits {
    fn default() -> Self {
        Self {
            max_pages: MAX_PAGES_PER_RUN,
            deadline: None,
        }
    }
}

/// Reads `GET /v2/events` from `from` onward, page by page until an empty page (or a limit),
/// counting end-user messages. Read-only: it writes no checkpoint of anyone's.
pub async fn scan<A: SuomifiApi>(
    suomifi: &A,
    api: &ApiBase,
    token: &AccessToken,
    from: Option<String>,
    grace_cutoff: OffsetDateTime,
    limits: ScanLimits,
) -> ScanOutcome {
    let mut counter = BacklogCounter::default();
    let mut resume_token = None;
    let mut first_page_latency = None;
    let mut from = from;
    let stop = loop {
        if counter.pages >= limits.max_pages {
            break Stop::PageLimit;
        }
        if limits.deadline.is_some_and(|d| Instant::now() >= d) {
            break Stop::TimeBudget;
        }
        let started = Instant::now();
        let next = suomifi.events_page(api, token, from.as_deref()).await;
        if first_page_latency.is_none() {
            first_page_latency = Some(started.elapsed());
        }
        match next {
            Ok(page) => {
                counter.pages += 1;
                for event in &page.events {
                    counter.observe(event, grace_cutoff);
                }
                let empty = page.events.is_empty();
                from = Some(page.continuation_token.clone());
                resume_token = Some(page.continuation_token);
                if empty {
                    break Stop::Complete;
                }
            }
            Err(error) => {
                break Stop::Failed {
                    error,
                    on_first_page: counter.pages == 0,
                };
            }
        }
    };
    ScanOutcome {
        counter,
        stop,
        resume_token,
        first_page_latency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suomifi_shared::suomifi::EventMetadata;
    use time::macros::datetime;

    fn event(kind: &str, at: OffsetDateTime, service: Option<&str>) -> Event {
        Event {
            event_time: at,
            event_type: EventType::from_wire(kind),
            metadata: EventMetadata {
                message_id: Some(1),
                service_id: service.map(str::to_owned),
                external_id: None,
            },
        }
    }

    const EUM: &str = "Electronic message from end user";

    #[test]
    fn counts_only_end_user_messages_per_service_with_the_oldest_anywhere_in_the_feed() {
        let cutoff = datetime!(2026-11-25 11:00 UTC);
        let mut c = BacklogCounter::default();
        for e in [
            event(EUM, datetime!(2026-11-25 11:30 UTC), Some("a")),
            event(
                "Electronic message read",
                datetime!(2026-10-01 0:00 UTC),
                Some("a"),
            ),
            event(
                "Some type from the future",
                datetime!(2026-10-01 0:00 UTC),
                Some("a"),
            ),
            // Out of order on purpose: the oldest is not the first.
            event(EUM, datetime!(2026-11-20 8:00 UTC), Some("b")),
            event(EUM, datetime!(2026-11-25 10:00 UTC), Some("a")),
            event(EUM, datetime!(2026-11-25 11:59 UTC), None),
        ] {
            c.observe(&e, cutoff);
        }
        assert_eq!(c.events, 6);
        assert_eq!(c.count, 4);
        assert_eq!(c.over_grace, 2);
        assert_eq!(c.oldest, Some(datetime!(2026-11-20 8:00 UTC)));
        assert_eq!(c.by_service["a"].count, 2);
        assert_eq!(
            c.by_service["a"].oldest_event_time,
            datetime!(2026-11-25 10:00 UTC)
        );
        assert_eq!(c.by_service["b"].count, 1);
        assert_eq!(c.by_service[NO_SERVICE].count, 1);
    }

    #[test]
    fn services_past_the_bound_are_added_up_not_kept() {
        let at = datetime!(2026-11-25 11:30 UTC);
        let mut c = BacklogCounter::default();
        for i in 0..(MAX_SERVICES + 50) {
            c.observe(&event(EUM, at, Some(&format!("svc-{i}"))), at);
        }
        assert_eq!(c.by_service.len(), MAX_SERVICES + 1);
        assert_eq!(c.by_service[OTHER_SERVICES].count, 50);
        assert_eq!(c.count, (MAX_SERVICES + 50) as u64);
    }
}
