//! Diagnostics: errors in a plan or suite, each with a file position and an optional hint.
//!
//! All of these are the user's fault (a plan that cannot be run); tollgate's own bugs are never
//! reported as a [`Diagnostic`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::yaml::Pos;

/// One problem found in a plan or suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The file, when known.
    pub file: Option<PathBuf>,
    /// Where in the file.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can tell ("did you mean `not_null`?").
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `pos` with no file yet (the caller adds it with [`Diagnostics::in_file`]).
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            pos,
            message: message.into(),
            help: None,
        }
    }

    /// Add a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
        }
        write!(f, "{}: {}", self.pos, self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// All problems found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Set the file of every diagnostic that has none.
    pub fn in_file(mut self, file: &Path) -> Self {
        for d in &mut self.0 {
            if d.file.is_none() {
                d.file = Some(file.to_path_buf());
            }
        }
        self
    }

    /// Render every diagnostic with the offending source line under it.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str("error: ");
            if let Some(file) = &d.file {
                out.push_str(&format!("{}:", file.display()));
            }
            out.push_str(&format!("{}: {}\n", d.pos, d.message));
            if let Some(line) = source.and_then(|s| s.lines().nth(d.pos.line.saturating_sub(1))) {
                let gutter = d.pos.line.to_string();
                out.push_str(&format!("{gutter} | {line}\n"));
                let pad = " ".repeat(gutter.len() + 3 + d.pos.col.saturating_sub(1));
                out.push_str(&format!("{pad}^\n"));
            }
            if let Some(help) = &d.help {
                out.push_str(&format!("  help: {help}\n"));
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = levenshtein(&lower, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
    (d <= limit || c.to_lowercase().contains(&lower) && lower.len() >= 3).then_some(c)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment).
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["not_null", "null_fraction", "unique", "between"];
        assert_eq!(suggest("not_nul", names), Some("not_null"));
        assert_eq!(suggest("Unique", names), Some("unique"));
        assert_eq!(suggest("betwen", names), Some("between"));
        assert_eq!(
            suggest("tabel", ["table", "columns", "rows"]),
            Some("table")
        );
        assert_eq!(suggest("frobnicate", names), None);
    }

    #[test]
    fn render_points_at_the_column() {
        let d = Diagnostics(vec![
            Diagnostic::new(Pos { line: 2, col: 3 }, "bad").with_help("fix"),
        ]);
        let text = d
            .in_file(Path::new("p.yaml"))
            .render(Some("a:\n  bad: 1\n"));
        assert_eq!(
            text,
            "error: p.yaml:2:3: bad\n2 |   bad: 1\n      ^\n  help: fix\n"
        );
    }
}
