//! The one place YAML is parsed: text → a span-keeping [`Node`] tree → a typed value.
//!
//! serde_yaml alone forgets where values came from once they are deserialized, and every
//! diagnostic must name file, line and column. So the text is parsed once, by saphyr-parser's event
//! stream, into a tree whose nodes keep their spans; that tree converts to a `serde_yaml::Value`,
//! which is deserialized through `serde_path_to_error` so a failure knows its field path; the path
//! leads back to a span in the tree. Lints use the same tree to locate what they report.
//! Swapping the YAML crate means changing this file only.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde::de::DeserializeOwned;

use super::diagnostic::{Diagnostic, Location, Path, Segment};

/// A position in the source: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_span(span: &Span) -> Self {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A parsed YAML node with the position where it starts, in the file it came from.
#[derive(Clone, Debug)]
pub struct Node {
    pub pos: Pos,
    /// Which of the document's files (`Document::files`) the node was written in: an
    /// overlay's values keep pointing into the overlay after the merge.
    pub src: u16,
    pub kind: NodeKind,
}

/// The shape of a node. Mapping keys keep their own positions (unknown-key errors point at them).
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// A scalar with its text and whether it was quoted (quoted scalars are always strings).
    Scalar {
        text: String,
        quoted: bool,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    /// The child at one path segment, if any.
    pub fn child(&self, segment: &Segment) -> Option<&Node> {
        match (&self.kind, segment) {
            (NodeKind::Mapping(entries), Segment::Key(key)) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key.as_str()))
                .map(|(_, v)| v),
            (NodeKind::Sequence(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The text of a scalar node.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The deepest node along `path`, and how many segments were matched.
    pub fn lookup(&self, path: &Path) -> (&Node, usize) {
        let mut node = self;
        for (depth, segment) in path.segments().iter().enumerate() {
            match node.child(segment) {
                Some(child) => node = child,
                None => return (node, depth),
            }
        }
        (node, path.segments().len())
    }

    /// Whether the node is a plain `null` (`~`, empty): in an overlay, "remove this field".
    fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    fn to_value(&self) -> serde_yaml::Value {
        use serde_yaml::Value;
        match &self.kind {
            NodeKind::Scalar { text, quoted: true } => Value::String(text.clone()),
            NodeKind::Scalar {
                text,
                quoted: false,
            } => plain_scalar(text),
            NodeKind::Sequence(items) => {
                Value::Sequence(items.iter().map(Node::to_value).collect())
            }
            NodeKind::Mapping(entries) => Value::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema: null, booleans, integers and
/// floats; everything else is a string.
fn plain_scalar(text: &str) -> serde_yaml::Value {
    use serde_yaml::Value;
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(i.into());
    }
    let looks_numeric = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    if looks_numeric
        && text.chars().any(|c| c.is_ascii_digit())
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Number(f.into());
    }
    Value::String(text.to_owned())
}

/// A parsed document: the span-keeping tree, for locating things later. With overlays, the
/// tree is the merge of all files, and every node knows which file it came from.
#[derive(Debug)]
pub struct Document {
    /// The files the tree was built from: the base first, then each overlay in order.
    pub files: Vec<std::sync::Arc<str>>,
    pub root: Option<Node>,
}

impl Document {
    /// Where `node` is: its file and position.
    pub fn location(&self, node: &Node) -> Location {
        Location::shared(&self.files[usize::from(node.src)], node.pos)
    }

    /// Where `path` is in the files: the node itself, or its nearest existing ancestor.
    pub fn locate(&self, path: &Path) -> Location {
        match &self.root {
            Some(root) => self.location(root.lookup(path).0),
            None => Location::shared(&self.files[0], Pos { line: 1, column: 1 }),
        }
    }

    /// Where a mapping key is, when it exists (falls back to the mapping).
    pub fn locate_key(&self, parent: &Path, key: &str) -> Location {
        if let Some(root) = &self.root {
            let (node, matched) = root.lookup(parent);
            if matched == parent.segments().len()
                && let NodeKind::Mapping(entries) = &node.kind
                && let Some((key, _)) = entries.iter().find(|(k, _)| k.scalar() == Some(key))
            {
                return self.location(key);
            }
        }
        self.locate(parent)
    }
}

/// One file of a layered config: its name (for locations) and its text.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

/// Parses `text` (from `file`) into `T`. On failure, every diagnostic has a location and a path.
///
/// An empty document yields `Ok((None, doc))`: whether that is an error is the caller's call.
pub fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<(Option<T>, Document), Vec<Diagnostic>> {
    parse_layers(&[Layer { file, text }])
}

/// Parses a base file and the overlays after it, merged before `T` is read, so `T`'s
/// diagnostics point into whichever file set the value.
///
/// The merge is JSON Merge Patch's (RFC 7386) on the span-keeping trees: a mapping in an
/// overlay merges key by key into the mapping below it, `null` removes a key, and anything else
/// (a scalar, a list) replaces what was there whole. Each file is parsed on its own first, with
/// its own limits, so a syntax error is located in its file.
pub fn parse_layers<T: DeserializeOwned>(
    layers: &[Layer<'_>],
) -> Result<(Option<T>, Document), Vec<Diagnostic>> {
    let mut root: Option<Node> = None;
    let mut errors = Vec::new();
    for (src, layer) in layers.iter().enumerate() {
        let src = u16::try_from(src).expect("a handful of overlays");
        match build_tree(layer.file, layer.text, src) {
            Err(mut found) => errors.append(&mut found),
            Ok(None) => {}
            Ok(Some(tree)) => match &mut root {
                None => root = Some(tree),
                Some(base) => {
                    if !matches!(tree.kind, NodeKind::Mapping(_)) {
                        errors.push(
                            Diagnostic::error(
                                "type",
                                Path::root(),
                                Location::new(layer.file, tree.pos),
                                "an overlay must be a mapping of the fields it changes".to_owned(),
                            )
                            .help("write the fields as in the base config, nested the same way"),
                        );
                        continue;
                    }
                    merge(base, tree);
                }
            },
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let doc = Document {
        files: layers.iter().map(|l| l.file.into()).collect(),
        root,
    };
    let Some(root) = &doc.root else {
        return Ok((None, doc));
    };
    let value = root.to_value();
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(parsed) => Ok((Some(parsed), doc)),
        Err(err) => Err(vec![deserialize_diagnostic(&doc, err)]),
    }
}

/// Merges `overlay` into `base` as a JSON Merge Patch (RFC 7386) does. A key set by the
/// overlay takes the overlay's key node too, so "unknown field" points at the file that wrote it.
fn merge(base: &mut Node, overlay: Node) {
    let (NodeKind::Mapping(entries), NodeKind::Mapping(patch)) = (&mut base.kind, overlay.kind)
    else {
        unreachable!("merge is called on two mappings")
    };
    for (key, value) in patch {
        let at = entries
            .iter()
            .position(|(k, _)| k.scalar().is_some() && k.scalar() == key.scalar());
        match at {
            _ if value.is_null() => {
                if let Some(i) = at {
                    entries.remove(i);
                }
            }
            Some(i)
                if matches!(entries[i].1.kind, NodeKind::Mapping(_))
                    && matches!(value.kind, NodeKind::Mapping(_)) =>
            {
                merge(&mut entries[i].1, value)
            }
            Some(i) => entries[i] = (key, value),
            None => entries.push((key, value)),
        }
    }
}

/// Turns a deserialization failure into a located diagnostic.
fn deserialize_diagnostic(
    doc: &Document,
    err: serde_path_to_error::Error<serde_yaml::Error>,
) -> Diagnostic {
    let path = Path::from_serde(err.path());
    let message = err.inner().to_string();
    if let Some((field, expected)) = parse_unknown_field(&message) {
        // serde_path_to_error already ends the path with the unknown key.
        let parent = match path.segments().last() {
            Some(Segment::Key(last)) if *last == field => path.parent(),
            _ => path.clone(),
        };
        let location = doc.locate_key(&parent, &field);
        let child = parent.join_key(&field);
        let mut diag = Diagnostic::error(
            "unknown-key",
            child,
            location,
            format!("unknown field `{field}`"),
        );
        diag.help = Some(if expected.is_empty() {
            "this mapping takes no fields".to_owned()
        } else {
            suggest(&field, &expected)
        });
        return diag;
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        // Point at the key that opens the incomplete mapping, not at its first entry.
        let location = match path.segments().last() {
            Some(Segment::Key(key)) => doc.locate_key(&path.parent(), key),
            _ => doc.locate(&path),
        };
        return Diagnostic::error(
            "missing-field",
            path.join_key(field),
            location,
            format!("missing field `{field}`"),
        );
    }
    if let Some((variant, expected)) = parse_unknown_variant(&message) {
        let location = doc.locate(&path);
        let mut diag =
            Diagnostic::error("type", path, location, format!("unknown value `{variant}`"));
        diag.help = Some(suggest(&variant, &expected));
        return diag;
    }
    let location = doc.locate(&path);
    let code = if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "type"
    } else {
        "invalid"
    };
    let number = message
        .strip_prefix("invalid type: integer `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    let duration = matches!(
        path.segments().last(),
        Some(Segment::Key(k)) if k == "access_token_ttl" || k == "rotation_window"
    );
    let mut diag = Diagnostic::error(code, path, location, plain_words(&message));
    if let (Some(n), true) = (number, duration) {
        diag.help = Some(format!(
            "a duration needs its unit: write `{n}d` for {n} days (or m, h, w)"
        ));
    }
    diag
}

/// serde's messages name Rust types (`expected u32`); a config's author reads YAML words.
fn plain_words(message: &str) -> String {
    let mut out = message.to_owned();
    for (rust, plain) in [
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a string", "expected text"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping of keys to values"),
        ("expected a borrowed string", "expected text"),
    ] {
        out = out.replace(rust, plain);
    }
    if let Some(at) = out.find(", expected struct ") {
        out.truncate(at);
        out.push_str(", expected a mapping of keys to values");
    }
    out
}

/// "did you mean `x`?" when a candidate is close, else the full list of what is accepted.
fn suggest(given: &str, expected: &[String]) -> String {
    match super::diagnostic::did_you_mean(given, expected.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            format!("expected one of {}", list.join(", "))
        }
    }
}

/// Reads serde's `unknown field `x`, expected one of `a`, `b`` message (serde::de::Error's
/// standard wording) into the field and the expected names.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    Some((field.to_owned(), backticked(rest)))
}

/// Same for `unknown variant `x`, expected one of …`.
fn parse_unknown_variant(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown variant `")?;
    let (variant, rest) = rest.split_once('`')?;
    Some((variant.to_owned(), backticked(rest)))
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The most nodes alias expansion may create in one document. Every `*alias` copies its anchor's
/// whole subtree, so a few lines of aliases of aliases describe billions of nodes (a "billion
/// laughs"); a real config uses a handful of small aliases, if any.
pub const MAX_ALIAS_NODES: usize = 100_000;
/// The most nodes a document may hold, aliases' copies and anchors' saved copies included. The
/// 10,000-user benchmark config has about 10,600. Each node costs about 260 bytes as a tree
/// node plus its `serde_yaml::Value`: a million took 266 MB in `benches/hostile_input.rs`, half
/// a million stays under its 200 MB goal.
pub const MAX_NODES: usize = 500_000;
/// The deepest nesting accepted. A config is six levels deep; the tree and the value built from
/// it are walked recursively (conversion, deserialization, lints, `Drop`), so a `[[[[…` a million
/// levels deep must be refused before it is built, not overflow the stack.
pub const MAX_DEPTH: usize = 128;
const TOO_DEEP_WHY: &str =
    "a config is a few levels deep; deeper nesting only serves to exhaust the stack";

/// Builds the span-keeping tree from saphyr-parser's events, within [`MAX_NODES`],
/// [`MAX_ALIAS_NODES`] and [`MAX_DEPTH`].
fn build_tree(file: &str, text: &str, src: u16) -> Result<Option<Node>, Vec<Diagnostic>> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = TreeBuilder {
        file,
        src,
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        nodes: 0,
        alias_nodes: 0,
    };
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|err| {
            let marker = err.marker();
            let at = Pos {
                line: marker.line(),
                column: marker.col() + 1,
            };
            let tab = err.info().contains("tab");
            let location = Location::new(
                file,
                if tab {
                    tab_near(text, at).unwrap_or(at)
                } else {
                    at
                },
            );
            // The scanner stops flow nesting (`[[[…`) at 255 levels itself, sometimes before
            // the events reach MAX_DEPTH: the same refusal.
            if err.info() == "recursion limit exceeded" {
                return vec![
                    Diagnostic::error(
                        "too-deep",
                        Path::root(),
                        location,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    )
                    .why(TOO_DEEP_WHY),
                ];
            }
            let diagnostic = Diagnostic::error(
                "syntax",
                Path::root(),
                location,
                format!("YAML syntax error: {}", err.info()),
            );
            vec![if tab {
                diagnostic.help("indent with spaces: YAML does not allow tabs in indentation")
            } else {
                diagnostic
            }]
        })?;
        let pos = Pos::from_span(&span);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(vec![Diagnostic::error(
                        "syntax",
                        Path::root(),
                        Location::new(file, pos),
                        "a config file holds one YAML document; found a second one".to_owned(),
                    )]);
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                builder.count(pos, 1, 1)?;
                let node = Node {
                    pos,
                    src,
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        quoted,
                    },
                };
                builder.push_value(Built::leaf(node), anchor)?;
            }
            Event::Alias(anchor) => {
                let Some(anchored) = builder.anchors.get(&anchor) else {
                    return Err(vec![Diagnostic::error(
                        "syntax",
                        Path::root(),
                        Location::new(file, pos),
                        "alias to an unknown anchor".to_owned(),
                    )]);
                };
                let (size, height) = (anchored.size, anchored.height);
                builder.alias_nodes += size;
                if builder.alias_nodes > MAX_ALIAS_NODES {
                    return Err(builder.limit(
                        "alias-limit",
                        pos,
                        format!(
                            "aliases would copy more than {MAX_ALIAS_NODES} nodes (this one copies {size})"
                        ),
                        "every alias copies its anchor's subtree, so a few lines can describe billions of nodes",
                    ));
                }
                builder.count(pos, size, height)?;
                let built = builder.anchors[&anchor].clone();
                builder.push_value(built, 0)?;
            }
            Event::SequenceStart(anchor, _) => {
                builder.count(pos, 1, 1)?;
                builder.open(pos, anchor, NodeKind::Sequence(Vec::new()))
            }
            Event::MappingStart(anchor, _) => {
                builder.count(pos, 1, 1)?;
                builder.open(pos, anchor, NodeKind::Mapping(Vec::new()))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (built, anchor) = builder.close();
                builder.push_value(built, anchor)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(builder.root)
}

/// The tab a saphyr tab error is about. saphyr reports where it was scanning when it met the
/// tab: for a tab that indents the line after a plain scalar, the end of that scalar (the line
/// before), and otherwise the character after the tab. The tab itself is in the leading
/// whitespace of that line or the next, else later on that line.
fn tab_near(text: &str, at: Pos) -> Option<Pos> {
    let mut lines = text.lines().enumerate().skip(at.line.saturating_sub(1));
    let (index, first) = lines.next()?;
    let leading_tab = |line: &str| {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        line[..indent].find('\t')
    };
    let in_indent = std::iter::once((index, first))
        .chain(lines.next())
        .find_map(|(i, line)| Some((i, leading_tab(line)?)));
    let (index, byte) = in_indent.or_else(|| Some((index, first.find('\t')?)))?;
    let line = text.lines().nth(index)?;
    Some(Pos {
        line: index + 1,
        column: line[..byte].chars().count() + 1,
    })
}

/// A finished node with how many nodes its subtree holds and how many levels deep it is, so an
/// alias is measured without walking its anchor again.
#[derive(Clone)]
struct Built {
    node: Node,
    size: usize,
    height: usize,
}

impl Built {
    fn leaf(node: Node) -> Self {
        Built {
            node,
            size: 1,
            height: 1,
        }
    }
}

/// The stack of open collections while events stream in.
struct TreeBuilder<'f> {
    file: &'f str,
    /// The file's index in the document (`Node::src`).
    src: u16,
    stack: Vec<Open>,
    root: Option<Node>,
    anchors: HashMap<usize, Built>,
    /// Nodes created so far, copies included.
    nodes: usize,
    /// Nodes created by alias expansion so far.
    alias_nodes: usize,
}

struct Open {
    node: Node,
    anchor: usize,
    /// For mappings: a key waiting for its value.
    pending_key: Option<Node>,
    /// The keys seen so far (for mappings), so a duplicate is found without a scan.
    keys: HashSet<String>,
    /// Nodes in the subtree so far, this one included.
    size: usize,
    /// The deepest child's height.
    child_height: usize,
}

impl TreeBuilder<'_> {
    /// Counts `size` new nodes reaching `height` levels below the innermost open collection,
    /// refusing past [`MAX_NODES`] or [`MAX_DEPTH`].
    fn count(&mut self, pos: Pos, size: usize, height: usize) -> Result<(), Vec<Diagnostic>> {
        if self.stack.len() + height > MAX_DEPTH {
            return Err(self.limit(
                "too-deep",
                pos,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                TOO_DEEP_WHY,
            ));
        }
        self.nodes += size;
        if self.nodes > MAX_NODES {
            return Err(self.limit(
                "too-many-nodes",
                pos,
                format!("the document holds more than {MAX_NODES} nodes"),
                "a config with 10,000 users holds about 10,600; more only serves to exhaust memory",
            ));
        }
        Ok(())
    }

    /// A located refusal for exceeding one of the limits.
    fn limit(&self, code: &'static str, pos: Pos, message: String, why: &str) -> Vec<Diagnostic> {
        vec![Diagnostic::error(code, self.path(), Location::new(self.file, pos), message).why(why)]
    }

    fn open(&mut self, pos: Pos, anchor: usize, kind: NodeKind) {
        self.stack.push(Open {
            node: Node {
                pos,
                src: self.src,
                kind,
            },
            anchor,
            pending_key: None,
            keys: HashSet::new(),
            size: 1,
            child_height: 0,
        });
    }

    fn close(&mut self) -> (Built, usize) {
        let open = self.stack.pop().expect("parser emits balanced events");
        let built = Built {
            node: open.node,
            size: open.size,
            height: open.child_height + 1,
        };
        (built, open.anchor)
    }

    /// The path of the innermost open collection.
    fn path(&self) -> Path {
        let mut path = Path::root();
        for (i, open) in self.stack.iter().enumerate() {
            if i + 1 == self.stack.len() {
                break;
            }
            path = match &open.node.kind {
                NodeKind::Mapping(_) => match open.pending_key.as_ref().and_then(Node::scalar) {
                    Some(key) => path.join_key(key),
                    None => path,
                },
                NodeKind::Sequence(items) => path.join_index(items.len()),
                NodeKind::Scalar { .. } => path,
            };
        }
        path
    }

    fn push_value(&mut self, built: Built, anchor: usize) -> Result<(), Vec<Diagnostic>> {
        if anchor != 0 {
            // The saved copy is nodes too: nested anchors each keep their own.
            self.count(built.node.pos, built.size, 0)?;
            self.anchors.insert(anchor, built.clone());
        }
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        top.size += built.size;
        top.child_height = top.child_height.max(built.height);
        let node = built.node;
        match &mut top.node.kind {
            NodeKind::Sequence(items) => items.push(node),
            NodeKind::Mapping(entries) => match top.pending_key.take() {
                None => top.pending_key = Some(node),
                Some(key) => {
                    if let Some(name) = key.scalar()
                        && !top.keys.insert(name.to_owned())
                    {
                        let path = self.path().join_key(name);
                        return Err(vec![Diagnostic::error(
                            "duplicate",
                            path,
                            Location::new(self.file, key.pos),
                            format!("duplicate key `{name}` in one mapping"),
                        )]);
                    }
                    entries.push((key, node));
                }
            },
            NodeKind::Scalar { .. } => unreachable!("scalars are never open"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> Diagnostic {
        let mut errors = build_tree("f.yaml", text, 0).expect_err("refused");
        assert_eq!(errors.len(), 1);
        errors.remove(0)
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
        // Each level aliases the previous one ten times: 10^9 nodes at the ninth.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let d = refusal(&text);
        assert_eq!(d.code, "alias-limit");
        // a3 holds 11,111 nodes; a4's aliases of it cross 100,000 on line 5.
        assert_eq!(d.location.line, 5);
        assert!(d.message.contains("100000"), "{}", d.message);
    }

    #[test]
    fn deep_nesting_is_refused_before_it_is_built() {
        let text = "- ".repeat(100_000);
        let d = refusal(&text);
        assert_eq!(d.code, "too-deep", "{}", d.message);
        assert_eq!((d.location.line, d.location.column), (1, 2 * MAX_DEPTH + 1));
        // Flow nesting: saphyr's scanner may stop it first (at 255 levels), as the same error.
        let d = refusal(&"[".repeat(100_000));
        assert_eq!((d.code, d.location.line), ("too-deep", 1));
        // An alias counts the depth it brings along.
        let text = format!(
            "a: &a {}x{}\nb: {}*a{}\n",
            "[".repeat(100),
            "]".repeat(100),
            "[".repeat(30),
            "]".repeat(30)
        );
        assert_eq!(refusal(&text).code, "too-deep");
    }

    #[test]
    fn too_many_nodes_are_refused() {
        let text = format!("[{}]", "1,".repeat(MAX_NODES));
        assert_eq!(refusal(&text).code, "too-many-nodes");
    }

    #[test]
    fn a_tab_error_points_at_the_tab() {
        for (text, at) in [
            ("a:\n  b: 1\n\tc: 2\n", (3, 1)),
            ("a:\n\tb: 1\n", (2, 1)),
            ("a: 1\n\tb: 2\n", (2, 1)),
        ] {
            let d = refusal(text);
            assert_eq!(d.code, "syntax", "{text:?}");
            assert_eq!(
                (d.location.line, d.location.column),
                at,
                "{text:?}: {}",
                d.message
            );
        }
    }

    #[test]
    fn small_aliases_still_work() {
        let root = build_tree("f.yaml", "a: &x [1, 2]\nb: *x\n", 0)
            .unwrap()
            .unwrap();
        assert_eq!(root.to_value()["b"], root.to_value()["a"]);
    }
}
