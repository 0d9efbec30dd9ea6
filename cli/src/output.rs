//! Human output: colour only where it helps, tables aligned by hand, dates and durations that
//! read naturally, and errors that say what to do.
//!
//! Colour is used only when standard output is a terminal and `NO_COLOR` is unset (the
//! <https://no-color.org> convention) and `--no-color` was not given: piped output, CI logs and
//! files stay plain text that `grep` and `awk` can work with. A dozen lines of ANSI codes do not
//! earn a dependency.

use std::fmt::Write as _;
use std::io::IsTerminal;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How a piece of text should look: a meaning, not a colour, so that the mapping is in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Plain.
    Plain,
    /// All is well (green).
    Good,
    /// Needs attention soon (yellow).
    Warn,
    /// Needs attention now (red).
    Bad,
    /// Secondary information (dim).
    Dim,
    /// Headings (bold).
    Strong,
}

impl Tone {
    fn code(self) -> Option<&'static str> {
        match self {
            Self::Plain => None,
            Self::Good => Some("32"),
            Self::Warn => Some("33"),
            Self::Bad => Some("31;1"),
            Self::Dim => Some("2"),
            Self::Strong => Some("1"),
        }
    }
}

/// Where human output goes and whether it may be coloured.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when stdout is a terminal, `NO_COLOR` is unset or empty, and `no_color` is false.
    pub fn detect(no_color: bool) -> Self {
        let env_says_no = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !no_color && !env_says_no && std::io::stdout().is_terminal(),
        }
    }

    /// The same rules for standard error (where errors go).
    pub fn for_stderr() -> Self {
        let env_says_no = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !env_says_no && std::io::stderr().is_terminal(),
        }
    }

    /// Plain text, whatever the terminal.
    #[cfg(test)]
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// `text` in `tone`.
    pub fn paint(&self, text: &str, tone: Tone) -> String {
        match (self.color, tone.code()) {
            (true, Some(code)) => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_owned(),
        }
    }

    /// A section heading.
    pub fn heading(&self, text: &str) -> String {
        self.paint(text, Tone::Strong)
    }
}

/// One table cell: its text and how it looks.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// A cell in `tone`.
    pub fn new(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::new(text, Tone::Plain)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::new(text, Tone::Plain)
    }
}

/// A table with a header row, columns padded to their widest cell. Widths are counted in
/// characters of the unpainted text, so colour never breaks the alignment.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank).
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, each line indented by `indent` spaces, ending in a newline.
    pub fn render(&self, style: &Style, indent: usize) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.text.chars().count());
            }
        }
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let line = |cells: Vec<(String, Tone)>, out: &mut String| {
            let mut text = pad.clone();
            let last = cells.len().saturating_sub(1);
            for (i, (t, tone)) in cells.into_iter().enumerate() {
                let width = t.chars().count();
                text.push_str(&style.paint(&t, tone));
                if i < last {
                    text.push_str(&" ".repeat(widths[i] - width + 2));
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(
            self.headers
                .iter()
                .map(|h| (h.clone(), Tone::Dim))
                .collect(),
            &mut out,
        );
        for row in &self.rows {
            let mut cells: Vec<(String, Tone)> =
                row.iter().map(|c| (c.text.clone(), c.tone)).collect();
            cells.resize(columns, (String::new(), Tone::Plain));
            line(cells, &mut out);
        }
        out
    }
}

/// `2026-11-25 12:00 UTC`: an absolute date, always in UTC, to the minute.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `2026-11-25`: the date alone, in UTC.
pub fn day(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A duration for people: `12 s`, `5 min`, `3 h 10 min`, `4 d 2 h`, `210 d`.
pub fn span(d: Duration) -> String {
    let secs = d.whole_seconds().abs();
    let (days, hours, mins) = (secs / 86_400, (secs % 86_400) / 3_600, (secs % 3_600) / 60);
    match () {
        _ if secs < 60 => format!("{secs} s"),
        _ if days == 0 && hours == 0 => format!("{mins} min"),
        _ if days == 0 => format!("{hours} h {mins} min"),
        _ if days < 30 => format!("{days} d {hours} h"),
        _ => format!("{days} d"),
    }
}

/// `3 h 10 min ago` / `in 4 d 2 h`.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let d = t - now;
    if d.is_negative() {
        format!("{} ago", span(d))
    } else {
        format!("in {}", span(d))
    }
}

/// At most `max` characters of `s`, with `…` when cut (keeps one runaway message from burying
/// the rest of the screen).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Days with one decimal, as the checks report them.
pub fn days(d: f64) -> String {
    format!("{d:.1} d")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tables_align_on_the_unpainted_text() {
        let mut t = Table::new(&["NAME", "STATE"]);
        t.row(vec!["a".into(), Cell::new("ok", Tone::Good)]);
        t.row(vec!["longer-name".into(), Cell::new("stale", Tone::Bad)]);
        let plain = t.render(&Style::plain(), 2);
        assert_eq!(
            plain,
            "  NAME         STATE\n  a            ok\n  longer-name  stale\n"
        );
        let coloured = t.render(&Style { color: true }, 0);
        assert!(coloured.contains("\x1b[32mok\x1b[0m"));
        // The second column starts at the same character offset once codes are removed.
        let stripped: Vec<String> = coloured
            .lines()
            .map(|l| {
                l.replace("\x1b[32m", "")
                    .replace("\x1b[31;1m", "")
                    .replace("\x1b[2m", "")
                    .replace("\x1b[0m", "")
            })
            .collect();
        assert_eq!(stripped[1].find("ok"), stripped[2].find("stale"));
    }

    #[test]
    fn durations_and_dates_read_naturally() {
        assert_eq!(span(Duration::seconds(12)), "12 s");
        assert_eq!(span(Duration::minutes(190)), "3 h 10 min");
        assert_eq!(span(Duration::hours(98)), "4 d 2 h");
        assert_eq!(span(Duration::days(210)), "210 d");
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(relative(now - Duration::minutes(5), now), "5 min ago");
        assert_eq!(relative(now + Duration::days(3), now), "in 3 d 0 h");
        assert_eq!(
            when(datetime!(2026-11-25 14:05 +02:00)),
            "2026-11-25 12:05 UTC"
        );
        assert_eq!(day(now), "2026-11-25");
    }
}
