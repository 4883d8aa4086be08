//! Writers: record batches to a CSV file (with a header), Parquet, newline-delimited JSON or an
//! Arrow IPC file, with Arrow's own writers.
//!
//! Every write is atomic: the rows go to a hidden temporary file in the target's directory,
//! which is renamed over the target only once it is complete. A failed write leaves no half
//! file behind and never destroys a file that was already there. (The temporary file's name
//! starts with `.`, so a source reading the directory in the meantime skips it.)
//!
//! All errors are [`DataError::Source`] and name the file: they are the user's (a missing
//! directory, no permission, a full disk, a column type the format cannot hold).

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use tollgate_core::plan::Format;

use crate::error::DataError;

/// Write `batches` to `path` in `format`: CSV with a header line, Parquet (Snappy-compressed),
/// newline-delimited JSON (nulls written as `null`, so every line has every key) or an Arrow
/// IPC file. The batches must share one schema; at least one batch is needed (it gives the
/// columns), though it may have no rows.
///
/// The file is replaced atomically: on error, `path` is as it was before the call.
pub fn write_batches(
    batches: &[RecordBatch],
    path: &Path,
    format: Format,
) -> Result<(), DataError> {
    let shown = path.display();
    let Some(first) = batches.first() else {
        return Err(DataError::Source(format!(
            "{shown}: nothing to write: no record batches (at least one, possibly empty, gives the columns)"
        )));
    };
    let schema = first.schema();
    if let Some((i, odd)) = batches
        .iter()
        .enumerate()
        .find(|(_, b)| b.schema().fields() != schema.fields())
    {
        return Err(DataError::Source(format!(
            "{shown}: cannot write: record batch {i} has other columns than batch 0 ({} vs {})",
            columns(&odd.schema()),
            columns(&schema)
        )));
    }
    if path.is_dir() {
        return Err(DataError::Source(format!(
            "{shown}: cannot write: it is a directory"
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(DataError::Source(format!(
            "{shown}: cannot write: the directory {} does not exist",
            dir.display()
        )));
    }
    let (tmp_path, file) = temp_file(&dir, path)?;
    let written = write_to(file, batches, &schema, format).and_then(|file| {
        // On disk before the rename: a crash must not leave a renamed but empty file.
        file.sync_all()
            .map_err(|e| format!("cannot flush to disk: {e}"))
    });
    let renamed = written.and_then(|()| {
        std::fs::rename(&tmp_path, path)
            .map_err(|e| format!("cannot move the written file into place: {e}"))
    });
    renamed.map_err(|msg| {
        // Best effort: the temporary file is hidden, and the real error is the one to report.
        let _ = std::fs::remove_file(&tmp_path);
        DataError::Source(format!("{shown}: cannot write {}: {msg}", name(format)))
    })
}

fn name(format: Format) -> &'static str {
    match format {
        Format::Csv => "CSV",
        Format::Parquet => "Parquet",
        Format::Json => "JSON lines",
        Format::Arrow => "Arrow IPC",
    }
}

fn columns(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new hidden file next to `target` (same directory, so that the rename is atomic).
fn temp_file(dir: &Path, target: &Path) -> Result<(PathBuf, File), DataError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "data".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_error = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{stem}.{}-{nanos}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => {
                return Err(DataError::Source(format!(
                    "{}: cannot write: cannot create a file in {}: {e}",
                    target.display(),
                    dir.display()
                )));
            }
        }
    }
    Err(DataError::Source(format!(
        "{}: cannot write: no free temporary file name in {}{}",
        target.display(),
        dir.display(),
        last_error.map(|e| format!(": {e}")).unwrap_or_default()
    )))
}

/// CSV timestamp formats (without and with zone) with as many fraction digits as the finest
/// timestamp column needs, for every value. Arrow's default drops a zero fraction, and
/// DataFusion infers a CSV file's types chunk by chunk: a chunk holding only
/// `2024-01-01T00:00:00` (seconds) and another holding `...00:00.5` (milliseconds) disagree,
/// and the column falls back to text. Fixed digits keep timestamps timestamps.
fn timestamp_formats(schema: &SchemaRef) -> (String, String) {
    let digits = schema
        .fields()
        .iter()
        .filter_map(|f| match f.data_type() {
            DataType::Timestamp(unit, _) => Some(match unit {
                TimeUnit::Second => 0,
                TimeUnit::Millisecond => 3,
                TimeUnit::Microsecond => 6,
                TimeUnit::Nanosecond => 9,
            }),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let naive = match digits {
        0 => "%Y-%m-%dT%H:%M:%S".to_string(),
        d => format!("%Y-%m-%dT%H:%M:%S%.{d}f"),
    };
    let zoned = format!("{naive}%:z");
    (naive, zoned)
}

/// Write every batch; hand back the file for syncing.
fn write_to(
    file: File,
    batches: &[RecordBatch],
    schema: &SchemaRef,
    format: Format,
) -> Result<File, String> {
    let arrow = |e: datafusion::arrow::error::ArrowError| e.to_string();
    let buffered = BufWriter::new(file);
    let buffered = match format {
        Format::Csv => {
            let (naive, zoned) = timestamp_formats(schema);
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_format(naive)
                .with_timestamp_tz_format(zoned)
                .build(buffered);
            for b in batches {
                w.write(b).map_err(arrow)?;
            }
            w.into_inner()
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, datafusion::arrow::json::writer::LineDelimited>(buffered);
            for b in batches {
                w.write(b).map_err(arrow)?;
            }
            w.finish().map_err(arrow)?;
            w.into_inner()
        }
        Format::Arrow => {
            let mut w = datafusion::arrow::ipc::writer::FileWriter::try_new(buffered, schema)
                .map_err(arrow)?;
            for b in batches {
                w.write(b).map_err(arrow)?;
            }
            w.finish().map_err(arrow)?;
            w.into_inner().map_err(arrow)?
        }
        Format::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut w = ArrowWriter::try_new(buffered, schema.clone(), Some(props))
                .map_err(|e| e.to_string())?;
            for b in batches {
                w.write(b).map_err(|e| e.to_string())?;
            }
            w.into_inner().map_err(|e| e.to_string())?
        }
    };
    buffered
        .into_inner()
        .map_err(|e| format!("cannot write: {}", e.error()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, Int64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
            ],
        )
        .expect("batch")
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_each_format_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (format, file) in [
            (Format::Csv, "a.csv"),
            (Format::Parquet, "a.parquet"),
            (Format::Json, "a.jsonl"),
            (Format::Arrow, "a.arrow"),
        ] {
            let path = dir.path().join(file);
            write_batches(&[batch(), batch()], &path, format).expect("write");
            assert!(std::fs::metadata(&path).expect("written").len() > 0);
        }
        assert_eq!(
            leftovers(dir.path()),
            ["a.arrow", "a.csv", "a.jsonl", "a.parquet"]
        );
        let csv = std::fs::read_to_string(dir.path().join("a.csv")).expect("read");
        assert_eq!(csv, "id,name\n1,a\n,\n1,a\n,\n");
        let json = std::fs::read_to_string(dir.path().join("a.jsonl")).expect("read");
        assert_eq!(json.lines().nth(1), Some(r#"{"id":null,"name":null}"#));
    }

    #[test]
    fn csv_timestamps_all_have_the_finest_columns_fraction_digits() {
        use datafusion::arrow::array::{TimestampMicrosecondArray, TimestampSecondArray};
        let batch = RecordBatch::try_from_iter(vec![
            (
                "s",
                Arc::new(TimestampSecondArray::from(vec![0])) as Arc<dyn Array>,
            ),
            (
                "us",
                Arc::new(TimestampMicrosecondArray::from(vec![500_000]).with_timezone("+01:00")),
            ),
        ])
        .expect("batch");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        write_batches(&[batch], &path, Format::Csv).expect("write");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "s,us\n1970-01-01T00:00:00.000000,1970-01-01T01:00:00.500000+01:00\n"
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope").join("a.csv");
        let err = write_batches(&[batch()], &path, Format::Csv)
            .expect_err("no directory")
            .to_string();
        assert!(err.contains("nope/a.csv"), "{err}");
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "old,contents\n").expect("seed");
        // CSV cannot hold a list column: the writer fails after the file was opened.
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1)])]);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "l",
            list.data_type().clone(),
            true,
        )]));
        let bad = RecordBatch::try_new(schema, vec![Arc::new(list)]).expect("batch");
        let err = write_batches(&[bad], &path, Format::Csv)
            .expect_err("nested")
            .to_string();
        assert!(
            err.contains("a.csv") && err.contains("not supported"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "old,contents\n"
        );
        assert_eq!(leftovers(dir.path()), ["a.csv"]);
    }

    #[test]
    fn batches_must_share_columns_and_one_is_needed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.parquet");
        let err = write_batches(&[], &path, Format::Parquet).expect_err("empty");
        assert!(err.to_string().contains("nothing to write"), "{err}");
        let other = batch().project(&[0]).expect("project");
        let err = write_batches(&[batch(), other], &path, Format::Parquet).expect_err("odd");
        assert!(err.to_string().contains("batch 1"), "{err}");
        assert!(!path.exists());
    }
}
