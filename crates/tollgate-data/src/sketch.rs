//! Mergeable sketches for profiles: a HyperLogLog of every column's values (distinct counts)
//! and a t-digest of every numeric column (quantiles), computed inside the profile's single
//! aggregate query by two aggregate functions, and written into the profile so that profiles
//! of two parts combine into the profile of both.
//!
//! - `tg_hll(x)`: the 2^14 registers of a HyperLogLog over the non-null values of `x`
//!   (integers as 64-bit integers, everything else as text), as Binary. The hash is
//!   tollgate's own ([`hash_u64`], [`hash_bytes`]), fixed and the same on every machine, so
//!   sketches made on different machines merge. The estimate ([`hll_estimate`]) is Ertl's
//!   improved raw estimator; its relative standard error is 1.04/√16384 ≈ 0.81%, and below
//!   about 40 000 distinct values it is nearly exact (few registers collide).
//! - `tg_tdigest(x)`: DataFusion's t-digest (the one behind `approx_percentile_cont`, at most
//!   100 centroids) of `x`, as text ([`encode_tdigest`]).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, Int64Array, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result as DfResult;
use datafusion::functions_aggregate::approx_percentile_cont::{
    ApproxPercentileAccumulator, ApproxPercentileCont,
};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion_functions_aggregate_common::tdigest::{Centroid, TDigest};

/// log2 of the number of HyperLogLog registers.
pub const HLL_P: u32 = 14;
/// HyperLogLog registers.
pub const HLL_REGISTERS: usize = 1 << HLL_P;
/// Relative standard error of a HyperLogLog distinct count (1.04/√m).
pub const HLL_STD_ERROR: f64 = 1.04 / 128.0;

/// Murmur3's 64-bit finaliser: every input bit moves every output bit.
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The hash of an integer value.
pub fn hash_u64(v: u64) -> u64 {
    fmix(v ^ 0x9e37_79b9_7f4a_7c15)
}

/// The hash of a text value (its UTF-8 bytes): each 8-byte word mixed in with a full
/// avalanche, then the length.
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h: u64 = 0x2545_f491_4f6c_dd1d;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = fmix(h.wrapping_mul(0x8740_4c3d_3b5c_9a1b) ^ u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = fmix(h.wrapping_mul(0x8740_4c3d_3b5c_9a1b) ^ u64::from_le_bytes(w));
    }
    fmix(h ^ (b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Add a hash to HyperLogLog registers.
#[inline]
pub fn hll_add(registers: &mut [u8], hash: u64) {
    let index = (hash & (HLL_REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> HLL_P) | (1u64 << (64 - HLL_P));
    let rank = rest.trailing_zeros() as u8 + 1;
    if let Some(r) = registers.get_mut(index)
        && *r < rank
    {
        *r = rank;
    }
}

/// The union of two register sets (the larger register wins).
pub fn hll_merge(into: &mut [u8], other: &[u8]) {
    for (a, b) in into.iter_mut().zip(other) {
        *a = (*a).max(*b);
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The distinct count estimated from HyperLogLog registers (Ertl 2017, "New cardinality
/// estimation algorithms for HyperLogLog sketches", the improved raw estimator).
pub fn hll_estimate(registers: &[u8]) -> u64 {
    let q = 64 - HLL_P as usize;
    let mut c = vec![0u32; q + 2];
    for &r in registers {
        c[(r as usize).min(q + 1)] += 1;
    }
    let m = registers.len() as f64;
    if m == 0.0 {
        return 0;
    }
    let mut z = m * tau((m - c[q + 1] as f64) / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + c[k] as f64);
    }
    z += m * sigma(c[0] as f64 / m);
    let alpha = 1.0 / (2.0 * std::f64::consts::LN_2);
    (alpha * m * m / z).round() as u64
}

#[derive(Debug)]
struct HllAccumulator {
    registers: Vec<u8>,
}

impl Accumulator for HllAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(a) = values.first() else {
            return Ok(());
        };
        let r = &mut self.registers;
        let any = a.as_any();
        if let Some(a) = any.downcast_ref::<Int64Array>() {
            for v in a.iter().flatten() {
                hll_add(r, hash_u64(v as u64));
            }
        } else if let Some(a) = any.downcast_ref::<StringArray>() {
            for v in a.iter().flatten() {
                hll_add(r, hash_bytes(v.as_bytes()));
            }
        } else if let Some(a) = any.downcast_ref::<StringViewArray>() {
            for v in a.iter().flatten() {
                hll_add(r, hash_bytes(v.as_bytes()));
            }
        } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
            for v in a.iter().flatten() {
                hll_add(r, hash_bytes(v.as_bytes()));
            }
        } else {
            return exec_err!("tg_hll: expected BIGINT or text, found {}", a.data_type());
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.registers.clone())))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.registers.capacity()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let Some(s) = states.first() else {
            return Ok(());
        };
        let Some(b) = s.as_any().downcast_ref::<BinaryArray>() else {
            return exec_err!("tg_hll: unexpected state type {}", s.data_type());
        };
        for other in b.iter().flatten() {
            if other.len() != HLL_REGISTERS {
                return exec_err!("tg_hll: a state of {} registers", other.len());
            }
            hll_merge(&mut self.registers, other);
        }
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Hll {
    signature: Signature,
}

impl AggregateUDFImpl for Hll {
    fn name(&self) -> &str {
        "tg_hll"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Binary)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[hll]", args.name),
            DataType::Binary,
            true,
        ))])
    }

    fn accumulator(&self, _: AccumulatorArgs<'_>) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(HllAccumulator {
            registers: vec![0; HLL_REGISTERS],
        }))
    }
}

/// `tg_hll(x)`: HyperLogLog registers of `x` (BIGINT or text).
pub fn hll_udaf() -> AggregateUDF {
    AggregateUDF::from(Hll {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug)]
struct DigestAccumulator(ApproxPercentileAccumulator);

impl Accumulator for DigestAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        self.0.update_batch(values)
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let state = self.0.state()?;
        if state.len() != 6 {
            return exec_err!("tg_tdigest: unexpected state");
        }
        let digest = TDigest::from_scalar_state(&state);
        Ok(ScalarValue::Utf8(
            (digest.count() > 0.0).then(|| encode_tdigest(&digest)),
        ))
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        self.0.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        self.0.merge_batch(states)
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Digest {
    signature: Signature,
}

impl AggregateUDFImpl for Digest {
    fn name(&self) -> &str {
        "tg_tdigest"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> DfResult<Vec<FieldRef>> {
        ApproxPercentileCont::new().state_fields(args)
    }

    fn accumulator(&self, _: AccumulatorArgs<'_>) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(DigestAccumulator(
            ApproxPercentileAccumulator::new(0.5, DataType::Float64),
        )))
    }
}

/// `tg_tdigest(x)`: the t-digest of `x` (DOUBLE) as text, NULL when there is no value.
pub fn tdigest_udaf() -> AggregateUDF {
    AggregateUDF::from(Digest {
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
    })
}

/// A t-digest as text: `max_size count sum min max` then `mean:weight` per centroid.
pub fn encode_tdigest(d: &TDigest) -> String {
    let mut s = format!(
        "{} {:?} {:?} {:?} {:?}",
        d.max_size(),
        d.count(),
        d.sum(),
        d.min(),
        d.max()
    );
    for c in d.centroids() {
        s.push_str(&format!(" {:?}:{:?}", c.mean(), c.weight()));
    }
    s
}

/// Read a t-digest written by [`encode_tdigest`].
pub fn decode_tdigest(s: &str) -> Result<TDigest, String> {
    let bad = || {
        format!(
            "not a t-digest: `{}`",
            s.chars().take(40).collect::<String>()
        )
    };
    let mut parts = s.split_whitespace();
    let mut num = || -> Result<f64, String> {
        parts
            .next()
            .and_then(|p| p.parse::<f64>().ok())
            .ok_or_else(bad)
    };
    let (max_size, count, sum, min, max) = (num()?, num()?, num()?, num()?, num()?);
    let mut centroids = Vec::new();
    for p in s.split_whitespace().skip(5) {
        let (m, w) = p.split_once(':').ok_or_else(bad)?;
        let (m, w) = (
            m.parse::<f64>().map_err(|_| bad())?,
            w.parse::<f64>().map_err(|_| bad())?,
        );
        centroids.push(Centroid::new(m, w));
    }
    if !(max_size >= 1.0 && max_size.fract() == 0.0) {
        return Err(bad());
    }
    TDigest::try_from_parts(max_size as usize, sum, count, max, min, centroids)
        .map_err(|e| format!("{}: {e}", bad()))
}

/// The union of t-digests.
pub fn merge_tdigests(ds: &[TDigest]) -> TDigest {
    TDigest::merge_digests(ds)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let s = s.trim_end_matches('=').as_bytes();
    for c in s.chunks(4) {
        let mut n = 0u32;
        for (i, &ch) in c.iter().enumerate() {
            let v = B64.iter().position(|&b| b == ch)? as u32;
            n |= v << (18 - 6 * i);
        }
        if c.len() < 2 {
            return None;
        }
        for i in 0..c.len() - 1 {
            out.push((n >> (16 - 8 * i) & 0xff) as u8);
        }
    }
    Some(out)
}

/// HyperLogLog registers as text: `s:` and base64 of (index u16 LE, register) pairs when
/// that is shorter (few distinct values), else `d:` and base64 of all registers.
pub fn encode_hll(registers: &[u8]) -> String {
    let set: Vec<(usize, u8)> = registers
        .iter()
        .enumerate()
        .filter(|(_, r)| **r > 0)
        .map(|(i, r)| (i, *r))
        .collect();
    if set.len() * 3 < registers.len() {
        let mut bytes = Vec::with_capacity(set.len() * 3);
        for (i, r) in set {
            bytes.extend_from_slice(&(i as u16).to_le_bytes());
            bytes.push(r);
        }
        format!("s:{}", b64_encode(&bytes))
    } else {
        format!("d:{}", b64_encode(registers))
    }
}

/// Read registers written by [`encode_hll`].
pub fn decode_hll(s: &str) -> Result<Vec<u8>, String> {
    let bad = || "not a HyperLogLog sketch".to_string();
    let (kind, body) = s.split_once(':').ok_or_else(bad)?;
    let bytes = if body.is_empty() {
        Vec::new()
    } else {
        b64_decode(body).ok_or_else(bad)?
    };
    match kind {
        "d" if bytes.len() == HLL_REGISTERS => Ok(bytes),
        "s" if bytes.len() % 3 == 0 => {
            let mut r = vec![0u8; HLL_REGISTERS];
            for c in bytes.chunks(3) {
                let i = u16::from_le_bytes([c[0], c[1]]) as usize;
                *r.get_mut(i).ok_or_else(bad)? = c[2];
            }
            Ok(r)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for n in 0..20u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let text = b64_encode(&bytes);
            assert_eq!(b64_decode(&text).as_deref(), Some(bytes.as_slice()), "{n}");
        }
        assert_eq!(b64_encode(b"Man"), "TWFu");
        assert_eq!(b64_encode(b"Ma"), "TWE=");
    }

    #[test]
    fn hll_counts_within_its_error_and_merges_to_the_union() {
        for &n in &[0u64, 1, 10, 1000, 50_000, 300_000] {
            let mut r = vec![0u8; HLL_REGISTERS];
            for v in 0..n {
                hll_add(&mut r, hash_u64(v));
                hll_add(&mut r, hash_u64(v)); // repeats do not count
            }
            let est = hll_estimate(&r) as f64;
            let err = (est - n as f64).abs() / (n as f64).max(1.0);
            assert!(err <= 3.0 * HLL_STD_ERROR, "{n}: {est}");
            assert_eq!(decode_hll(&encode_hll(&r)).as_deref(), Ok(r.as_slice()));
        }
        // Text values; two overlapping halves merge into the count of their union.
        let (mut a, mut b) = (vec![0u8; HLL_REGISTERS], vec![0u8; HLL_REGISTERS]);
        for v in 0..120_000u32 {
            hll_add(&mut a, hash_bytes(format!("user-{v}").as_bytes()));
        }
        for v in 80_000..200_000u32 {
            hll_add(&mut b, hash_bytes(format!("user-{v}").as_bytes()));
        }
        hll_merge(&mut a, &b);
        let est = hll_estimate(&a) as f64;
        assert!(
            (est - 200_000.0).abs() / 200_000.0 <= 3.0 * HLL_STD_ERROR,
            "{est}"
        );
        assert!(decode_hll("x:AAAA").is_err());
        assert!(decode_hll("d:AAAA").is_err());
    }

    #[test]
    fn tdigest_text_round_trips() {
        let d = TDigest::new(100).merge_sorted_f64(&[1.0, 2.0, 2.5, 10.0]);
        let back = decode_tdigest(&encode_tdigest(&d)).expect("decodes");
        assert_eq!(back.count(), 4.0);
        assert_eq!(back.estimate_quantile(0.5), d.estimate_quantile(0.5));
        assert!(decode_tdigest("100 4 junk").is_err());
    }
}
