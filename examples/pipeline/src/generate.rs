//! A generator of behavioural logs: as many requests as wanted, the same for the same seed on
//! every machine, shaped like the article's five rows.
//!
//! The robust tests run on its output (20 000 rows in `cargo test`): no expected table can be
//! written by hand for it, so only invariants and properties can check it, which is the point.
//!
//! What it draws, per request: a slate of 3 to 8 distinct items out of `items`; how far the user
//! scrolled (the visible prefix of the slate; not logged for 10% of requests, as client-side
//! logging loses events); and, for a quarter of requests, a click on a visible item, the top of
//! the slate more likely. Versions 1 and 2 draw the same requests: version 2 only adds the
//! `impressions_visible` column, the additive change of the article.

use std::io::{self, Write};

use crate::Version;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Requests (rows) to write.
    pub rows: usize,
    /// The seed: the same seed gives the same file.
    pub seed: u64,
    /// Version 1 (no `impressions_visible`) or 2.
    pub version: Version,
    /// Size of the catalogue (items `i1` ..= `i{items}`); at least 8.
    pub items: usize,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            rows: 20_000,
            seed: 42,
            version: Version::V2,
            items: 40,
        }
    }
}

/// SplitMix64: small, fast, and the same numbers everywhere (no dependency to pin).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant at these sizes).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Write a CSV log (header included) to `out`.
pub fn generate_logs(opts: &GenerateOptions, out: &mut impl Write) -> io::Result<()> {
    let catalogue = opts.items.max(8);
    let mut rng = SplitMix64(opts.seed);
    match opts.version {
        Version::V1 => writeln!(out, "request_id,impressions,event_item,event_type")?,
        Version::V2 => writeln!(
            out,
            "request_id,impressions,impressions_visible,event_item,event_type"
        )?,
    }
    let mut slate: Vec<usize> = Vec::with_capacity(8);
    for r in 1..=opts.rows {
        let n = 3 + rng.below(6);
        slate.clear();
        while slate.len() < n {
            let item = 1 + rng.below(catalogue);
            if !slate.contains(&item) {
                slate.push(item);
            }
        }
        // How far the user scrolled; `None` when the client did not log it.
        let seen = 1 + rng.below(n);
        let logged = !rng.chance(0.1);
        let visible = if logged { seen } else { n };
        // A click on a visible item, biased to the top: the lower of two draws.
        let click = rng
            .chance(0.25)
            .then(|| slate[rng.below(visible).min(rng.below(visible))]);
        let join = |items: &[usize]| {
            items
                .iter()
                .map(|i| format!("i{i}"))
                .collect::<Vec<_>>()
                .join("|")
        };
        let (item, kind) = match click {
            Some(i) => (format!("i{i}"), "click"),
            None => (String::new(), "impress"),
        };
        match opts.version {
            Version::V1 => writeln!(out, "r{r},{},{item},{kind}", join(&slate))?,
            Version::V2 => {
                let vis = if logged {
                    join(&slate[..seen])
                } else {
                    String::new()
                };
                writeln!(out, "r{r},{},{vis},{item},{kind}", join(&slate))?
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_file_and_v2_only_adds_a_column() {
        let gen_with = |version, seed| {
            let mut buf = Vec::new();
            let opts = GenerateOptions {
                rows: 200,
                seed,
                version,
                ..Default::default()
            };
            generate_logs(&opts, &mut buf).expect("write to memory");
            String::from_utf8(buf).expect("ascii")
        };
        assert_eq!(gen_with(Version::V2, 7), gen_with(Version::V2, 7));
        assert_ne!(gen_with(Version::V2, 7), gen_with(Version::V2, 8));
        // Dropping the third column of v2 gives v1, line by line.
        let v1 = gen_with(Version::V1, 7);
        let v2 = gen_with(Version::V2, 7);
        for (a, b) in v1.lines().zip(v2.lines()) {
            let mut f: Vec<&str> = b.split(',').collect();
            f.remove(2);
            assert_eq!(a, f.join(","));
        }
    }
}
