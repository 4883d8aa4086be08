//! Just enough of the ONNX file format to know a model before running it: its inputs and
//! outputs (names, element types, shapes) and the operators its graph uses. Read by hand from
//! the protobuf wire format, so that every runner (and a build without one) reports the same
//! signature, and a corrupt file gets a clear message instead of a runner's.

use std::collections::BTreeSet;
use std::fmt;

/// The element type of a tensor, as ONNX numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// 32-bit float (1).
    Float,
    /// 64-bit float (11).
    Double,
    /// 64-bit integer (7).
    Int64,
    /// 32-bit integer (6).
    Int32,
    /// UTF-8 text (8).
    String,
    /// Boolean (9).
    Bool,
    /// Any other ONNX element type, by number.
    Other(i64),
}

impl Elem {
    fn from_code(code: i64) -> Elem {
        match code {
            1 => Elem::Float,
            11 => Elem::Double,
            7 => Elem::Int64,
            6 => Elem::Int32,
            8 => Elem::String,
            9 => Elem::Bool,
            n => Elem::Other(n),
        }
    }

    /// Whether the tensor holds text.
    pub fn is_text(self) -> bool {
        self == Elem::String
    }
}

impl fmt::Display for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Elem::Float => f.write_str("float"),
            Elem::Double => f.write_str("double"),
            Elem::Int64 => f.write_str("int64"),
            Elem::Int32 => f.write_str("int32"),
            Elem::String => f.write_str("string"),
            Elem::Bool => f.write_str("bool"),
            Elem::Other(n) => write!(f, "ONNX element type {n}"),
        }
    }
}

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A named, free size (`N`, `batch`).
    Symbol(String),
    /// Not given.
    Unknown,
}

/// A declared input or output of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    /// Its name.
    pub name: String,
    /// Tensor element type; `None` for sequences and maps (ZipMap's output).
    pub elem: Option<Elem>,
    /// Declared shape (empty when not given).
    pub dims: Vec<Dim>,
    /// What it is when it is not a tensor (`sequence`, `map`).
    pub kind: &'static str,
}

impl ValueInfo {
    /// `name: float[N, 6]`.
    pub fn describe(&self) -> String {
        let dims: Vec<String> = self
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => n.to_string(),
                Dim::Symbol(s) => s.clone(),
                Dim::Unknown => "?".into(),
            })
            .collect();
        match self.elem {
            Some(e) => format!("{}: {e}[{}]", self.name, dims.join(", ")),
            None => format!("{}: {}", self.name, self.kind),
        }
    }
}

/// What a model file declares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OnnxInfo {
    /// Inputs to feed (initializers listed as inputs by old exporters are left out).
    pub inputs: Vec<ValueInfo>,
    /// Outputs.
    pub outputs: Vec<ValueInfo>,
    /// Operators used, as (domain, type), sorted; the default domain is written `ai.onnx`.
    pub ops: BTreeSet<(String, String)>,
    /// Operator set versions imported, as (domain, version).
    pub opsets: Vec<(String, i64)>,
    /// The program that wrote the model.
    pub producer: String,
}

/// Why a file is not a readable ONNX model.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtoError(pub String);

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A protobuf field: its number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.broken("a number runs past the end"));
            };
            self.pos += 1;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(self.broken("a number is longer than 10 bytes"))
    }

    fn broken(&self, what: &str) -> ProtoError {
        ProtoError(format!("{what} (at byte {})", self.pos))
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, ProtoError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            return Err(self.broken("field number 0"));
        }
        let field = match wire {
            0 => Field::Varint(self.varint()?),
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                if self.pos + n > self.buf.len() {
                    return Err(self.broken("a fixed-size value runs past the end"));
                }
                self.pos += n;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| self.broken("a length does not fit in memory"))?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or_else(|| self.broken("a field runs past the end of the file"))?;
                let bytes = &self.buf[self.pos..end];
                self.pos = end;
                Field::Bytes(bytes)
            }
            w => return Err(self.broken(&format!("unknown protobuf wire type {w}"))),
        };
        Ok(Some((number, field)))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn for_each<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(u64, Field<'a>) -> Result<(), ProtoError>,
) -> Result<(), ProtoError> {
    let mut r = Reader::new(buf);
    while let Some((n, field)) = r.next()? {
        f(n, field)?;
    }
    Ok(())
}

fn value_info(buf: &[u8]) -> Result<ValueInfo, ProtoError> {
    let mut v = ValueInfo {
        name: String::new(),
        elem: None,
        dims: Vec::new(),
        kind: "unknown type",
    };
    for_each(buf, |n, f| {
        match (n, f) {
            (1, Field::Bytes(b)) => v.name = text(b),
            (2, Field::Bytes(ty)) => for_each(ty, |n, f| {
                match (n, f) {
                    (1, Field::Bytes(tensor)) => {
                        v.kind = "tensor";
                        for_each(tensor, |n, f| {
                            match (n, f) {
                                (1, Field::Varint(code)) => {
                                    v.elem = Some(Elem::from_code(code as i64))
                                }
                                (2, Field::Bytes(shape)) => for_each(shape, |n, f| {
                                    if let (1, Field::Bytes(dim)) = (n, f) {
                                        let mut d = Dim::Unknown;
                                        for_each(dim, |n, f| {
                                            match (n, f) {
                                                (1, Field::Varint(x)) => d = Dim::Fixed(x as i64),
                                                (2, Field::Bytes(s)) => d = Dim::Symbol(text(s)),
                                                _ => {}
                                            }
                                            Ok(())
                                        })?;
                                        v.dims.push(d);
                                    }
                                    Ok(())
                                })?,
                                _ => {}
                            }
                            Ok(())
                        })?;
                    }
                    (4, Field::Bytes(_)) => v.kind = "sequence",
                    (5, Field::Bytes(_)) => v.kind = "map",
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(v)
}

fn graph(buf: &[u8], info: &mut OnnxInfo, top: bool, depth: usize) -> Result<(), ProtoError> {
    if depth > 32 {
        return Err(ProtoError("subgraphs nested more than 32 deep".into()));
    }
    let mut initializers = BTreeSet::new();
    let mut inputs = Vec::new();
    for_each(buf, |n, f| {
        match (n, f) {
            (1, Field::Bytes(node)) => {
                let (mut domain, mut op) = (String::new(), String::new());
                for_each(node, |n, f| {
                    match (n, f) {
                        (4, Field::Bytes(b)) => op = text(b),
                        (7, Field::Bytes(b)) => domain = text(b),
                        // Attributes: subgraphs of If / Loop / Scan hold operators too.
                        (5, Field::Bytes(attr)) => for_each(attr, |n, f| {
                            if let (6 | 11, Field::Bytes(g)) = (n, f) {
                                graph(g, info, false, depth + 1)?;
                            }
                            Ok(())
                        })?,
                        _ => {}
                    }
                    Ok(())
                })?;
                if domain.is_empty() {
                    domain = "ai.onnx".into();
                }
                info.ops.insert((domain, op));
            }
            (5, Field::Bytes(tensor)) if top => for_each(tensor, |n, f| {
                if let (8, Field::Bytes(b)) = (n, f) {
                    initializers.insert(text(b));
                }
                Ok(())
            })?,
            (11, Field::Bytes(b)) if top => inputs.push(value_info(b)?),
            (12, Field::Bytes(b)) if top => info.outputs.push(value_info(b)?),
            _ => {}
        }
        Ok(())
    })?;
    if top {
        info.inputs = inputs
            .into_iter()
            .filter(|i| !initializers.contains(&i.name))
            .collect();
    }
    Ok(())
}

/// Read a model file's declarations.
pub fn parse(bytes: &[u8]) -> Result<OnnxInfo, ProtoError> {
    let mut info = OnnxInfo::default();
    let mut saw_graph = false;
    for_each(bytes, |n, f| {
        match (n, f) {
            (2, Field::Bytes(b)) => info.producer = text(b),
            (7, Field::Bytes(g)) => {
                saw_graph = true;
                graph(g, &mut info, true, 0)?;
            }
            (8, Field::Bytes(b)) => {
                let (mut domain, mut version) = (String::new(), 0i64);
                for_each(b, |n, f| {
                    match (n, f) {
                        (1, Field::Bytes(d)) => domain = text(d),
                        (2, Field::Varint(v)) => version = v as i64,
                        _ => {}
                    }
                    Ok(())
                })?;
                if domain.is_empty() {
                    domain = "ai.onnx".into();
                }
                info.opsets.push((domain, version));
            }
            _ => {}
        }
        Ok(())
    })?;
    if !saw_graph {
        return Err(ProtoError("no graph in the file".into()));
    }
    if info.outputs.is_empty() {
        return Err(ProtoError("the graph declares no outputs".into()));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn tensor_info(name: &str, elem: u64, dims: &[Result<u64, &str>]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            let mut dim = Vec::new();
            match d {
                Ok(n) => {
                    varint(1 << 3, &mut dim);
                    varint(*n, &mut dim);
                }
                Err(s) => bytes(2, s.as_bytes(), &mut dim),
            }
            bytes(1, &dim, &mut shape);
        }
        let mut tensor = Vec::new();
        varint(1 << 3, &mut tensor);
        varint(elem, &mut tensor);
        bytes(2, &shape, &mut tensor);
        let mut ty = Vec::new();
        bytes(1, &tensor, &mut ty);
        let mut v = Vec::new();
        bytes(1, name.as_bytes(), &mut v);
        bytes(2, &ty, &mut v);
        v
    }

    fn model() -> Vec<u8> {
        let mut node = Vec::new();
        bytes(4, b"LinearClassifier", &mut node);
        bytes(7, b"ai.onnx.ml", &mut node);
        let mut node2 = Vec::new();
        bytes(4, b"Cast", &mut node2);
        let mut init = Vec::new();
        bytes(8, b"coef", &mut init);
        let mut g = Vec::new();
        bytes(1, &node, &mut g);
        bytes(1, &node2, &mut g);
        bytes(5, &init, &mut g);
        bytes(11, &tensor_info("X", 1, &[Err("N"), Ok(6)]), &mut g);
        bytes(11, &tensor_info("coef", 1, &[Ok(6)]), &mut g);
        bytes(12, &tensor_info("label", 7, &[Err("N")]), &mut g);
        let mut m = Vec::new();
        bytes(2, b"skl2onnx", &mut m);
        bytes(7, &g, &mut m);
        m
    }

    #[test]
    fn reads_inputs_outputs_and_operators() {
        let info = parse(&model()).expect("parses");
        assert_eq!(info.producer, "skl2onnx");
        assert_eq!(info.inputs.len(), 1, "the initializer is not an input");
        assert_eq!(info.inputs[0].describe(), "X: float[N, 6]");
        assert_eq!(info.outputs[0].describe(), "label: int64[N]");
        let ops: Vec<String> = info.ops.iter().map(|(d, o)| format!("{d}.{o}")).collect();
        assert_eq!(ops, ["ai.onnx.Cast", "ai.onnx.ml.LinearClassifier"]);
    }

    #[test]
    fn truncated_and_garbage_files_are_errors_not_panics() {
        let m = model();
        for cut in [1, 5, m.len() / 2, m.len() - 1] {
            assert!(parse(&m[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse(b"this is not a model").is_err());
        assert!(parse(&[]).is_err());
        assert!(parse(&[0xff; 20]).is_err());
    }
}
