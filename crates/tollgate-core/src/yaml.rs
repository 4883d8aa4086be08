//! A YAML document as a tree of nodes that remember where they were written.
//!
//! serde-based YAML decoding loses positions and turns "unknown key" or "wrong shape" into
//! messages without a place; plan files are read by people, so every node keeps its line and
//! column and the plan decoder (in `plan.rs`) reports errors against them.

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A position in a plan or suite file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub kind: NodeKind,
}

/// The shapes a YAML value can take after core-schema resolution of plain scalars.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// A float (including `.inf`, `.nan`).
    Float(f64),
    /// Any other scalar, and every quoted scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping; keys are strings (other keys are rejected when the tree is built).
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key is written.
    pub pos: Pos,
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What it found wrong.
    pub message: String,
}

impl Node {
    /// A short name of the node's shape for messages ("a map", "a string", ...).
    pub fn shape(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }

    /// The text of a scalar as written (numbers and booleans rendered back).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Parse one YAML document into a [`Node`] tree. An empty document is a `Null` node.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: Vec<(usize, Node)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    // Bounds against hostile files: deep nesting (stack) and alias bombs (memory).
    const MAX_DEPTH: usize = 64;
    const MAX_NODES: usize = 1_000_000;
    let mut nodes = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            },
            message: e.info().to_string(),
        })?;
        let pos = Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        };
        let done: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        pos,
                        message: "a plan file holds one YAML document; found a second `---`".into(),
                    });
                }
                None
            }
            Event::Alias(id) => {
                let node: Node = anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| SyntaxError {
                        pos,
                        message: "unknown alias".into(),
                    })?;
                Some((
                    Node {
                        pos,
                        kind: node.kind,
                    },
                    0,
                ))
            }
            Event::Scalar(value, style, anchor, tag) => {
                let kind = if style == ScalarStyle::Plain && tag.is_none() {
                    resolve_plain(&value)
                } else {
                    NodeKind::Str(value.into_owned())
                };
                Some((Node { pos, kind }, anchor))
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(SyntaxError {
                    pos,
                    message: format!("nesting deeper than {MAX_DEPTH} levels"),
                });
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => Some((
                    Node {
                        pos,
                        kind: NodeKind::Seq(items),
                    },
                    anchor,
                )),
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) => Some((
                    Node {
                        pos,
                        kind: NodeKind::Map(entries),
                    },
                    anchor,
                )),
                None => None,
            },
        };
        if let Some((node, anchor)) = done {
            nodes += count_nodes(&node);
            if nodes > MAX_NODES {
                return Err(SyntaxError {
                    pos: node.pos,
                    message: "the document expands to too many values (aliases)".into(),
                });
            }
            if anchor != 0 {
                anchors.push((anchor, node.clone()));
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { entries, key, .. }) => match key.take() {
                    None => {
                        let name = match &node.kind {
                            NodeKind::Str(s) => s.clone(),
                            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => {
                                node.scalar_text().unwrap_or_default()
                            }
                            NodeKind::Null => "null".into(),
                            _ => {
                                return Err(SyntaxError {
                                    pos: node.pos,
                                    message: "map keys must be plain strings".into(),
                                });
                            }
                        };
                        if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                            return Err(SyntaxError {
                                pos: node.pos,
                                message: format!(
                                    "duplicate key `{name}` (first written at {})",
                                    first.pos
                                ),
                            });
                        }
                        *key = Some(Key {
                            name,
                            pos: node.pos,
                        });
                    }
                    Some(k) => entries.push((k, node)),
                },
            }
        }
    }
    Ok(root.unwrap_or(Node {
        pos: Pos { line: 1, col: 1 },
        kind: NodeKind::Null,
    }))
}

fn count_nodes(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => 1 + entries.iter().map(|(_, v)| count_nodes(v)).sum::<usize>(),
        _ => 1,
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        key: Option<Key>,
    },
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(s: &str) -> NodeKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = s.parse::<i64>()
    {
        return NodeKind::Int(i);
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return NodeKind::Int(i);
    }
    let looks_numeric = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric && let Ok(f) = s.parse::<f64>() {
        return NodeKind::Float(f);
    }
    NodeKind::Str(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_resolve_by_core_schema() {
        let n =
            parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: 2025-01-01\ng: -3\nh: 1e3\n").unwrap();
        let NodeKind::Map(m) = n.kind else {
            panic!("not a map")
        };
        let kinds: Vec<_> = m.iter().map(|(_, v)| v.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                NodeKind::Int(1),
                NodeKind::Float(1.5),
                NodeKind::Bool(true),
                NodeKind::Null,
                NodeKind::Str("1".into()),
                NodeKind::Str("2025-01-01".into()),
                NodeKind::Int(-3),
                NodeKind::Float(1000.0),
            ]
        );
    }

    #[test]
    fn positions_are_one_based() {
        let n = parse("top:\n  inner: [1, 2]\n").unwrap();
        let NodeKind::Map(m) = n.kind else {
            panic!("not a map")
        };
        assert_eq!(m[0].0.pos, Pos { line: 1, col: 1 });
        let NodeKind::Map(inner) = &m[0].1.kind else {
            panic!("not a map")
        };
        assert_eq!(inner[0].0.pos, Pos { line: 2, col: 3 });
        assert_eq!(inner[0].1.pos, Pos { line: 2, col: 10 });
    }

    #[test]
    fn hostile_documents_are_errors_not_crashes() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            parse(&deep).is_err(),
            "too deep: an error (from the scanner's guard or ours)"
        );
        let deep64 = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert!(parse(&deep64).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            bomb.push_str(&format!(
                "b{i}: &b{i} [{0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}]\n",
                if i == 0 {
                    "*a".to_string()
                } else {
                    format!("*b{}", i - 1)
                }
            ));
        }
        assert!(parse(&bomb).unwrap_err().message.contains("too many"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1);
    }

    #[test]
    fn anchors_and_aliases_copy_values() {
        let n = parse("a: &x [1]\nb: *x\n").unwrap();
        let NodeKind::Map(m) = n.kind else {
            panic!("not a map")
        };
        let NodeKind::Seq(items) = &m[1].1.kind else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].kind, NodeKind::Int(1));
    }
}
