//! Diagnostics: what went wrong or looks wrong in a config, where, and why.
//!
//! Every diagnostic carries a location (file, line, column) and a field path such as
//! `okta.app.mappings.domain.expression`, whatever found it: the YAML parser, the type check or a
//! lint. Rendering (text with a source excerpt, or JSON) lives here too, so every command shows
//! config problems the same way.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::yaml::Pos;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A field path from the document root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Segment>);

impl Path {
    /// The document root.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// Parses a dotted path such as `okta.app.label` (keys only).
    pub fn parse(dotted: &str) -> Self {
        Path(
            dotted
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| Segment::Key(s.to_owned()))
                .collect(),
        )
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The path one level up (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut up = self.clone();
        up.0.pop();
        up
    }

    /// This path extended by a mapping key.
    pub fn join_key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    /// This path extended by a sequence index.
    pub fn join_index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// Converts serde_path_to_error's path.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        Path(
            path.iter()
                .filter_map(|segment| match segment {
                    S::Seq { index } => Some(Segment::Index(*index)),
                    S::Map { key } => Some(Segment::Key(key.clone())),
                    S::Enum { variant } => Some(Segment::Key(variant.clone())),
                    S::Unknown => None,
                })
                .collect(),
        )
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A place in a config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, PartialOrd, Ord)]
pub struct Location {
    /// Shared: a config names one file, and a list of 100,000 members locates each of them.
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: &str, pos: Pos) -> Self {
        Self::shared(&Arc::from(file), pos)
    }

    /// A place in a file whose name is already shared.
    pub fn shared(file: &Arc<str>, pos: Pos) -> Self {
        Location {
            file: Arc::clone(file),
            line: pos.line,
            column: pos.column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How bad a diagnostic is. Errors fail `validate`; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, kebab-case name for the kind of finding (`trailing-slash`, `unknown-key`…).
    pub code: &'static str,
    pub path: Path,
    #[serde(flatten)]
    pub location: Location,
    pub message: String,
    /// One line on why this matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What to do instead, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The place holds a secret: no source excerpt, no value in the message.
    #[serde(skip)]
    pub sensitive: bool,
}

impl Diagnostic {
    pub fn error(code: &'static str, path: Path, location: Location, message: String) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            path,
            location,
            message,
            why: None,
            help: None,
            sensitive: false,
        }
    }

    pub fn warning(code: &'static str, path: Path, location: Location, message: String) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, location, message)
        }
    }

    /// Marks a diagnostic about a secret field: its excerpt and any quoted value are dropped,
    /// because the file may hold the literal secret the diagnostic is about.
    pub fn redact(&mut self) {
        self.sensitive = true;
        if let Some(cut) = self.message.find(['`', '"']) {
            self.message.truncate(cut);
            self.message = format!("{}(value hidden: this field holds a secret)", self.message);
        }
    }

    /// Adds the one-line reason.
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    /// Adds a suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders rustc-style, with the source line when `source` is given.
    pub fn render(&self, source: Option<&str>) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{label}[{}]: {}: {}\n", self.code, self.path, self.message);
        out.push_str(&format!("  --> {}\n", self.location));
        let source = source.filter(|_| !self.sensitive);
        if let Some(line) = source.and_then(|s| s.lines().nth(self.location.line.saturating_sub(1)))
        {
            let number = format!("{:>2}", self.location.line);
            let pad = " ".repeat(number.len());
            let (before, after) = excerpt(line, self.location.column.saturating_sub(1));
            let caret_at = " ".repeat(before.chars().count());
            out.push_str(&format!(
                "{pad} |\n{number} | {before}{after}\n{pad} | {caret_at}^\n"
            ));
        }
        if let Some(why) = &self.why {
            out.push_str(&format!("   = why: {why}\n"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("   = help: {help}\n"));
        }
        // Messages and the excerpt quote what the file holds: a control character there must
        // not reach the terminal raw, nor a URL's password.
        let mut safe = String::with_capacity(out.len());
        for line in out.split_inclusive('\n') {
            let (line, newline) = match line.strip_suffix('\n') {
                Some(line) => (line, "\n"),
                None => (line, ""),
            };
            safe.push_str(&escape_controls(&crate::secret::redact_userinfo(line)));
            safe.push_str(newline);
        }
        safe
    }
}

/// The most characters of a source line shown on either side of the caret.
const EXCERPT_WIDTH: usize = 80;

/// A source line split at the caret's character `column`, control characters escaped and a
/// very long line cut to [`EXCERPT_WIDTH`] characters each side (`…` marks a cut).
fn excerpt(line: &str, column: usize) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let column = column.min(chars.len());
    let start = column.saturating_sub(EXCERPT_WIDTH);
    let end = (column + EXCERPT_WIDTH).min(chars.len());
    let text = |range: &[char]| escape_controls(&range.iter().collect::<String>()).into_owned();
    let mut before = if start > 0 {
        "…".to_owned()
    } else {
        String::new()
    };
    before.push_str(&text(&chars[start..column]));
    let mut after = text(&chars[column..end]);
    if end < chars.len() {
        after.push('…');
    }
    (before, after)
}

/// `text` with every control character (C0, DEL, C1) written as a Rust escape (`\u{1b}`), so
/// what a file holds can be quoted without reaching a terminal raw.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The closest candidate to `given`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&given.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Sorts diagnostics by location, errors first at the same place.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.location.line, a.location.column, a.severity).cmp(&(
            b.location.line,
            b.location.column,
            b.severity,
        ))
    });
}
